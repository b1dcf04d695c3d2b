//! `POST /token`: authorization_code (with the client's PKCE verifier) and refresh_token (with
//! rotation; a reused refresh token revokes its whole family). Answers with the proxy's own
//! short-lived JWT — never Entra's token.

use std::sync::Arc;

use http::StatusCode;
use serde::Serialize;
use toolgate_core::{AuditDecision, AuditOutcome, HttpRequest, HttpResponse};

use super::audit::{self, ProxyEvent};
use super::{client_auth, fresh_upstream_tokens};
use crate::client::RegisteredClient;
use crate::flow::{CodeOutcome, Grant, RefreshOutcome};
use crate::oauth_error::OAuthError;
use crate::proxy::{ProxyState, UpstreamTokenError};
use crate::registration::GrantType;
use crate::untrusted::Untrusted;
use crate::web::params::Params;
use crate::web::refusal::Refusal;
use crate::web::responses;

#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    scope: String,
}

pub(crate) async fn handle(state: Arc<ProxyState>, request: HttpRequest) -> Result<HttpResponse, Refusal> {
    let (params, client) = client_auth::form_and_client(&state, &request).await?;
    if let Some(resource) = params.get("resource")
        && resource.trim_end_matches('/') != state.config.resource
    {
        return Err(OAuthError::InvalidTarget("resource is not this server's MCP endpoint".into()).into());
    }
    let answer = match params.get("grant_type") {
        Some("authorization_code") => authorization_code(&state, &request, &client, &params).await,
        Some("refresh_token") => refresh_token(&state, &request, &client, &params).await,
        Some(_) => Err(OAuthError::UnsupportedGrantType("grant_type is not supported".into())),
        None => Err(OAuthError::invalid_request("grant_type is required")),
    };
    Ok(answer?)
}

/// An audit row for a refused grant at the token endpoint.
async fn refused(
    state: &ProxyState,
    request: &HttpRequest,
    client: &RegisteredClient,
    outcome: AuditOutcome,
    reason: &str,
) {
    let event = ProxyEvent {
        method: "oauth/token",
        user: None,
        client_id: Some(client.client_id.as_str()),
        decision: AuditDecision::Deny,
        outcome,
        reason: Some(reason),
    };
    audit::record(state, request, event).await;
}

/// Why a presented code does not belong to this token request (RFC 6749 §4.1.3).
fn code_mismatch(
    issued: &crate::flow::IssuedCode,
    client: &RegisteredClient,
    redirect_uri: &str,
    verifier: &str,
) -> Option<String> {
    if issued.client_id != client.client_id.as_str() {
        Some("the code was issued to another client".to_owned())
    } else if issued.redirect_uri != redirect_uri {
        Some("redirect_uri differs from the authorization request".to_owned())
    } else {
        match issued.challenge.verify(verifier) {
            Ok(true) => None,
            Ok(false) => Some("code_verifier does not match the code_challenge".to_owned()),
            Err(error) => Some(error.to_string()),
        }
    }
}

async fn authorization_code(
    state: &ProxyState,
    request: &HttpRequest,
    client: &RegisteredClient,
    params: &Params,
) -> Result<HttpResponse, OAuthError> {
    let (Some(code), Some(redirect_uri)) = (params.get("code"), params.get("redirect_uri")) else {
        return Err(OAuthError::invalid_request("code and redirect_uri are required"));
    };
    let verifier = params
        .get("code_verifier")
        .ok_or_else(|| OAuthError::invalid_request("code_verifier is required (PKCE)"))?;
    // Consumed before any check, so a wrong guess also burns the code.
    let issued = match state.grants.redeem_code(code).await? {
        CodeOutcome::Valid(issued) => issued,
        CodeOutcome::Replayed => {
            refused(state, request, client, AuditOutcome::ReplayRevoked, "code_replay").await;
            return Err(OAuthError::invalid_grant(
                "the code is invalid, expired, or already used",
            ));
        }
        CodeOutcome::Unknown => {
            return Err(OAuthError::invalid_grant(
                "the code is invalid, expired, or already used",
            ));
        }
    };
    if let Some(description) = code_mismatch(&issued, client, redirect_uri, verifier) {
        // The code is spent and whatever it granted is withdrawn (RFC 6749 §4.1.2, §10.5).
        state.grants.revoke(&issued.grant_id).await?;
        refused(state, request, client, AuditOutcome::CodeRefused, &description).await;
        return Err(OAuthError::invalid_grant(description));
    }
    let grant = state
        .grants
        .grant(&issued.grant_id)
        .await?
        .ok_or_else(|| OAuthError::invalid_grant("the authorization was revoked"))?;
    let scopes = grant.scopes.clone();
    let response = issue_tokens(
        state,
        request,
        client,
        &issued.grant_id,
        &grant,
        &scopes,
        Refresh::Issue,
    )
    .await?;
    // A registration that has obtained tokens is kept for the long lifetime and counts as known.
    state.registry.dynamic().mark_used(client).await?;
    Ok(response)
}

async fn refresh_token(
    state: &ProxyState,
    request: &HttpRequest,
    client: &RegisteredClient,
    params: &Params,
) -> Result<HttpResponse, OAuthError> {
    let presented = params
        .get("refresh_token")
        .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
    if !client.grant_types.contains(&GrantType::RefreshToken) {
        return Err(OAuthError::UnauthorizedClient(
            "the client did not register the refresh_token grant".into(),
        ));
    }
    // Looked up, not consumed: until the exchange succeeds the token stays usable.
    let outcome = state.grants.refresh_token(presented, client.client_id.as_str()).await?;
    let (grant_id, mut grant) = match outcome {
        RefreshOutcome::Valid { grant_id, grant } => (grant_id, grant),
        other => return Err(refresh_refused(state, request, client, &other).await),
    };
    // RFC 6749 §6: a requested scope narrows the grant; unknown scopes are ignored (§3.3).
    let scopes = state
        .offered_scopes()
        .narrow(params.get("scope"), &grant.scopes)
        .map_err(|extra| OAuthError::InvalidScope(format!("scope `{extra}` exceeds the original grant").into()))?;
    // Keep the user's roles current and notice revoked users: refresh at Entra when due. Entra
    // being unreachable leaves the refresh token as it was: the client retries with it.
    match fresh_upstream_tokens(state, &grant_id, &mut grant).await {
        Ok(_) => {}
        Err(UpstreamTokenError::GrantGone) => {
            return Err(OAuthError::invalid_grant("the user's sign-in is no longer valid"));
        }
        Err(UpstreamTokenError::Store(error)) => return Err(error.into()),
        Err(error) => {
            tracing::warn!(error = %Untrusted::new(&error.to_string()), "Entra refresh failed; the refresh token stays usable");
            return Err(OAuthError::unavailable("Entra ID could not be reached; try again", 5));
        }
    }
    // Now the token is spent: the first claim wins, a completed earlier exchange is a replay.
    if let Some(lost) = state.grants.claim_refresh_token(presented, &grant_id).await? {
        return Err(refresh_refused(state, request, client, &lost).await);
    }
    let rotation = Refresh::Rotate { presented };
    match issue_tokens(state, request, client, &grant_id, &grant, &scopes, rotation).await {
        Ok(response) => Ok(response),
        Err(error) => {
            // Nothing was handed out: give the token back so the client's retry is not reuse.
            state.grants.release_refresh_token(presented).await;
            Err(error)
        }
    }
}

/// The answer to a refresh token that cannot be exchanged (audited when it was a replay).
async fn refresh_refused(
    state: &ProxyState,
    request: &HttpRequest,
    client: &RegisteredClient,
    outcome: &RefreshOutcome,
) -> OAuthError {
    match outcome {
        RefreshOutcome::Replayed => {
            refused(
                state,
                request,
                client,
                AuditOutcome::ReplayRevoked,
                "refresh_token_replay",
            )
            .await;
            OAuthError::invalid_grant("refresh token reuse detected; the authorization has been revoked")
        }
        RefreshOutcome::InProgress => {
            OAuthError::unavailable("this refresh token is being exchanged right now; try again shortly", 5)
        }
        RefreshOutcome::Valid { .. } | RefreshOutcome::Unknown => {
            OAuthError::invalid_grant("the refresh token is invalid, expired, or revoked")
        }
    }
}

/// Which refresh token, if any, a token response carries.
enum Refresh<'a> {
    /// A new member of the grant's family (authorization code).
    Issue,
    /// The presented (claimed) token rotated: a new one issued, the presented one spent.
    Rotate { presented: &'a str },
}

async fn issue_tokens(
    state: &ProxyState,
    request: &HttpRequest,
    client: &RegisteredClient,
    grant_id: &str,
    grant: &Grant,
    scopes: &[String],
    refresh: Refresh<'_>,
) -> Result<HttpResponse, OAuthError> {
    let access_token = state
        .signer
        .mint(&grant.user, client.client_id.as_str(), scopes, grant_id)
        .map_err(|error| {
            tracing::error!(error = %error, "could not sign an access token");
            OAuthError::server_error("internal error")
        })?;
    let (refresh_token, grant_type) = match refresh {
        Refresh::Issue if client.grant_types.contains(&GrantType::RefreshToken) => (
            state.grants.issue_refresh_token(grant_id, grant).await?,
            "authorization_code",
        ),
        Refresh::Issue => (None, "authorization_code"),
        Refresh::Rotate { presented } => (
            state.grants.complete_refresh(presented, grant_id, grant).await?,
            "refresh_token",
        ),
    };
    tracing::info!(principal = %grant.user.sub, client_id = %Untrusted::new(client.client_id.as_str()), "tokens issued");
    let event = ProxyEvent {
        method: "oauth/token",
        user: Some(&grant.user),
        client_id: Some(client.client_id.as_str()),
        decision: AuditDecision::Allow,
        outcome: AuditOutcome::TokensIssued,
        reason: Some(grant_type),
    };
    audit::record(state, request, event).await;
    Ok(responses::json(
        StatusCode::OK,
        &TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: state.signer.lifetime().as_secs(),
            refresh_token,
            scope: scopes.join(" "),
        },
    ))
}

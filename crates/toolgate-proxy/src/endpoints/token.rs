//! `POST /token`: authorization_code (with the client's PKCE verifier) and refresh_token (with
//! rotation; a reused refresh token revokes its whole family). Answers with the proxy's own
//! short-lived JWT — never Entra's token.

use std::sync::Arc;

use http::StatusCode;
use serde::Serialize;
use toolgate_core::{AuditDecision, HttpRequest, HttpResponse};

use super::audit::{self, ProxyEvent};
use super::{client_auth, fresh_upstream_tokens, store_failure};
use crate::client::RegisteredClient;
use crate::flow::{CodeOutcome, Grant, RefreshOutcome};
use crate::proxy::{ProxyState, UpstreamTokenError};
use crate::registration::GrantType;
use crate::web::params::Params;
use crate::web::responses::{self, oauth_error};

#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    scope: String,
}

fn invalid_grant(description: &str) -> HttpResponse {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", description)
}

pub(crate) async fn handle(state: Arc<ProxyState>, request: HttpRequest) -> HttpResponse {
    let (params, client) = match client_auth::form_and_client(&state, &request).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    if let Some(resource) = params.get("resource")
        && resource.trim_end_matches('/') != state.config.resource
    {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_target",
            "resource is not this server's MCP endpoint",
        );
    }
    match params.get("grant_type") {
        Some("authorization_code") => authorization_code(&state, &request, &client, &params).await,
        Some("refresh_token") => refresh_token(&state, &request, &client, &params).await,
        Some(_) => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type is not supported",
        ),
        None => oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "grant_type is required"),
    }
}

/// An audit row for a refused grant at the token endpoint.
async fn refused(
    state: &ProxyState,
    request: &HttpRequest,
    client: &RegisteredClient,
    outcome: &'static str,
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

async fn authorization_code(
    state: &ProxyState,
    request: &HttpRequest,
    client: &RegisteredClient,
    params: &Params,
) -> HttpResponse {
    let (Some(code), Some(redirect_uri)) = (params.get("code"), params.get("redirect_uri")) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "code and redirect_uri are required",
        );
    };
    let Some(verifier) = params.get("code_verifier") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "code_verifier is required (PKCE)",
        );
    };
    // Consumed before any check, so a wrong guess also burns the code.
    let issued = match state.grants.redeem_code(code).await {
        Ok(CodeOutcome::Valid(issued)) => issued,
        Ok(CodeOutcome::Replayed) => {
            refused(state, request, client, "replay_revoked", "code_replay").await;
            return invalid_grant("the code is invalid, expired, or already used");
        }
        Ok(CodeOutcome::Unknown) => return invalid_grant("the code is invalid, expired, or already used"),
        Err(error) => return store_failure(&error),
    };
    let mismatch = if issued.client_id != client.client_id.as_str() {
        Some("the code was issued to another client".to_owned())
    } else if issued.redirect_uri != redirect_uri {
        Some("redirect_uri differs from the authorization request".to_owned())
    } else {
        match issued.challenge.verify(verifier) {
            Ok(true) => None,
            Ok(false) => Some("code_verifier does not match the code_challenge".to_owned()),
            Err(error) => Some(error.to_string()),
        }
    };
    if let Some(description) = mismatch {
        // The code is spent and whatever it granted is withdrawn (RFC 6749 §4.1.2, §10.5).
        if let Err(error) = state.grants.revoke(&issued.grant_id).await {
            return store_failure(&error);
        }
        refused(state, request, client, "code_refused", &description).await;
        return invalid_grant(&description);
    }
    let grant = match state.grants.grant(&issued.grant_id).await {
        Ok(Some(grant)) => grant,
        Ok(None) => return invalid_grant("the authorization was revoked"),
        Err(error) => return store_failure(&error),
    };
    let scopes = grant.scopes.clone();
    issue_tokens(
        state,
        request,
        client,
        &issued.grant_id,
        &grant,
        &scopes,
        "authorization_code",
    )
    .await
}

async fn refresh_token(
    state: &ProxyState,
    request: &HttpRequest,
    client: &RegisteredClient,
    params: &Params,
) -> HttpResponse {
    let Some(presented) = params.get("refresh_token") else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "refresh_token is required");
    };
    if !client.grant_types.contains(&GrantType::RefreshToken) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            "the client did not register the refresh_token grant",
        );
    }
    let (grant_id, mut grant) = match state
        .grants
        .redeem_refresh_token(presented, client.client_id.as_str())
        .await
    {
        Ok(RefreshOutcome::Valid { grant_id, grant }) => (grant_id, grant),
        Ok(RefreshOutcome::Replayed) => {
            refused(state, request, client, "replay_revoked", "refresh_token_replay").await;
            return invalid_grant("refresh token reuse detected; the authorization has been revoked");
        }
        Ok(RefreshOutcome::Unknown) => return invalid_grant("the refresh token is invalid, expired, or revoked"),
        Err(error) => return store_failure(&error),
    };
    let scopes = match params.get("scope") {
        None => grant.scopes.clone(),
        Some(requested) => {
            let narrowed: Vec<String> = requested
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            if !narrowed.iter().all(|s| grant.scopes.contains(s)) {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_scope",
                    "scope exceeds the original grant",
                );
            }
            narrowed
        }
    };
    // Keep the user's roles current and notice revoked users: refresh at Entra when due.
    match fresh_upstream_tokens(state, &grant_id, &mut grant).await {
        Ok(_) => {}
        Err(UpstreamTokenError::GrantGone) => return invalid_grant("the user's sign-in is no longer valid"),
        Err(UpstreamTokenError::Store(error)) => return store_failure(&error),
        Err(error) => {
            tracing::warn!(error = %error, "Entra refresh failed");
            return oauth_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "Entra ID could not be reached",
            );
        }
    }
    issue_tokens(state, request, client, &grant_id, &grant, &scopes, "refresh_token").await
}

async fn issue_tokens(
    state: &ProxyState,
    request: &HttpRequest,
    client: &RegisteredClient,
    grant_id: &str,
    grant: &Grant,
    scopes: &[String],
    grant_type: &'static str,
) -> HttpResponse {
    let access_token = match state
        .signer
        .mint(&grant.user, client.client_id.as_str(), scopes, grant_id)
    {
        Ok(token) => token,
        Err(error) => {
            tracing::error!(error = %error, "could not sign an access token");
            return oauth_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "internal error");
        }
    };
    let refresh_token = if client.grant_types.contains(&GrantType::RefreshToken) {
        match state.grants.issue_refresh_token(grant_id, grant).await {
            Ok(token) => token,
            Err(error) => return store_failure(&error),
        }
    } else {
        None
    };
    tracing::info!(principal = %grant.user.sub, client_id = %client.client_id, "tokens issued");
    let event = ProxyEvent {
        method: "oauth/token",
        user: Some(&grant.user),
        client_id: Some(client.client_id.as_str()),
        decision: AuditDecision::Allow,
        outcome: "tokens_issued",
        reason: Some(grant_type),
    };
    audit::record(state, request, event).await;
    responses::json(
        StatusCode::OK,
        &TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: state.signer.lifetime().as_secs(),
            refresh_token,
            scope: scopes.join(" "),
        },
    )
}

//! `POST /auth/consent`: the user's decision. Accepted only with the CSRF token in both the form
//! and its cookie (double submit), from the browser holding the transaction's binding cookie, and
//! once. Approval creates the grant and sends the browser to the client with a single-use code.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use toolgate_core::{AuditDecision, AuditOutcome, HttpRequest, HttpResponse};
use toolgate_store::{Namespace, StateStoreJson, StoreError};

use super::audit::{self, ProxyEvent};
use super::callback::PENDING_CONSENT;
use crate::crypto::{digest_b64, same};
use crate::flow::{ClientRequest, EntraTokens, PendingConsent, UserClaims};
use crate::oauth_error::OAuthError;
use crate::proxy::ProxyState;
use crate::untrusted::Untrusted;
use crate::web::cookies;
use crate::web::params::Params;
use crate::web::refusal::{Deliver, Delivery, Refusal};

#[derive(Serialize, Deserialize)]
struct RememberedConsent {
    scopes: Vec<String>,
}

pub(crate) async fn handle(state: Arc<ProxyState>, request: HttpRequest) -> Result<HttpResponse, Refusal> {
    let params = Params::from_form(&request)
        .map_err(|bad| OAuthError::invalid_request(bad.0))
        .on_page("Invalid request")?;
    let (Some(consent_id), Some(form_csrf)) = (params.get("consent"), params.get("csrf_token")) else {
        return Err(csrf_refused(&state, &request, None).await);
    };
    let csrf_cookie = cookies::csrf_name(consent_id);
    let cookie_csrf = cookies::read(&state.keys.cookies, request.headers(), &csrf_cookie);
    if !cookie_csrf.is_some_and(|cookie| same(&cookie, form_csrf)) {
        return Err(csrf_refused(&state, &request, None).await);
    }
    let pending = state
        .grants
        .store()
        .take_json::<PendingConsent>(PENDING_CONSENT, consent_id)
        .await
        .on_page("Sign-in unavailable")?
        .ok_or_else(|| OAuthError::invalid_request("this consent request is unknown, expired, or was already answered"))
        .on_page("Consent expired")?;
    let bound = same(&digest_b64(form_csrf), &pending.csrf_digest)
        && cookies::read(&state.keys.cookies, request.headers(), &pending.binding_cookie)
            .is_some_and(|value| same(&value, &pending.binding));
    if !bound {
        return Err(csrf_refused(&state, &request, Some(&pending)).await);
    }
    let clear = [cookies::clear(&csrf_cookie), cookies::clear(&pending.binding_cookie)];
    let to_client = pending.request.redirect();
    let tokens = state
        .grants
        .open(&pending.upstream, consent_id)
        .to_client(&to_client)
        .map_err(|refusal| refusal.with_cookies(clear.clone()))?;
    let approved = params.get("decision") == Some("approve");
    let event = ProxyEvent {
        method: "oauth/consent",
        user: Some(&pending.user),
        client_id: Some(&pending.request.client_id),
        decision: if approved {
            AuditDecision::Allow
        } else {
            AuditDecision::Deny
        },
        outcome: if approved {
            AuditOutcome::ConsentGiven
        } else {
            AuditOutcome::ConsentRefused
        },
        reason: None,
    };
    audit::record(&state, &request, event).await;
    if !approved {
        tracing::info!(principal = %pending.user.sub, client_id = %Untrusted::new(&pending.request.client_id), "consent refused");
        return Err(Refusal::new(
            OAuthError::access_denied("the user denied access"),
            Delivery::Redirect(to_client),
        )
        .with_cookies(clear));
    }
    tracing::info!(principal = %pending.user.sub, client_id = %Untrusted::new(&pending.request.client_id), "consent given");
    if state.config.remember_consent {
        remember(&state, &pending.user, &pending.request)
            .await
            .to_client(&to_client)
            .map_err(|refusal| refusal.with_cookies(clear.clone()))?;
    }
    grant_and_redirect(&state, pending.request, pending.user, &tokens, &clear).await
}

/// A consent POST without the CSRF token, or from another browser: a page, audited.
async fn csrf_refused(state: &ProxyState, request: &HttpRequest, pending: Option<&PendingConsent>) -> Refusal {
    tracing::warn!("consent POST refused: CSRF token or browser binding missing or wrong");
    let event = ProxyEvent {
        method: "oauth/consent",
        user: pending.map(|p| &p.user),
        client_id: pending.map(|p| p.request.client_id.as_str()),
        decision: AuditDecision::Deny,
        outcome: AuditOutcome::CsrfFailed,
        reason: Some(if pending.is_some() {
            "binding_cookie"
        } else {
            "csrf_token"
        }),
    };
    audit::record(state, request, event).await;
    Refusal::new(
        OAuthError::access_denied(
            "the consent form was not submitted from the page this server showed in this browser",
        ),
        Delivery::Page {
            title: "Consent not accepted",
        },
    )
}

/// Creates the grant and redirects to the client with a fresh single-use code.
pub(crate) async fn grant_and_redirect(
    state: &ProxyState,
    request: ClientRequest,
    user: UserClaims,
    tokens: &EntraTokens,
    cookies: &[String],
) -> Result<HttpResponse, Refusal> {
    let to_client = request.redirect();
    let code = async {
        let grant_id = state
            .grants
            .create_grant(&request.client_id, user, request.scopes.clone(), tokens)
            .await?;
        state.grants.issue_code(&grant_id, &request).await
    }
    .await
    .to_client(&to_client)
    .map_err(|refusal| refusal.with_cookies(cookies.iter().cloned()))?;
    Ok(to_client.redirect(&state.config.issuer, &[("code", code.as_str())], cookies))
}

fn remembered_key(user: &UserClaims, request: &ClientRequest) -> String {
    digest_b64(&format!(
        "{}\n{}\n{}",
        user.sub, request.client_id, request.redirect_uri
    ))
}

/// Whether this user already approved this client and redirect URI for these scopes.
pub(crate) async fn remembered(
    state: &ProxyState,
    user: &UserClaims,
    request: &ClientRequest,
) -> Result<bool, StoreError> {
    let stored: Option<RememberedConsent> = state
        .grants
        .store()
        .get_json(Namespace::CONSENT, &remembered_key(user, request))
        .await?;
    Ok(stored.is_some_and(|r| request.scopes.iter().all(|s| r.scopes.contains(s))))
}

async fn remember(state: &ProxyState, user: &UserClaims, request: &ClientRequest) -> Result<(), StoreError> {
    let record = RememberedConsent {
        scopes: request.scopes.clone(),
    };
    state
        .grants
        .store()
        .put_json(
            Namespace::CONSENT,
            &remembered_key(user, request),
            &record,
            state.config.lifetimes.remembered_consent,
        )
        .await
}

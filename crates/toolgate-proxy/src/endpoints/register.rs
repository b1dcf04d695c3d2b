//! `POST /register` (RFC 7591) and `GET /register` (Copilot Studio reads the client it should use).

use std::sync::Arc;

use http::StatusCode;
use toolgate_core::{AuditDecision, HttpRequest, HttpResponse};

use super::audit::{self, ProxyEvent};
use super::rate_limit;
use crate::config::RegistrationMode;
use crate::oauth_error::OAuthError;
use crate::proxy::ProxyState;
use crate::registration::RegistrationRequest;
use crate::untrusted::Untrusted;
use crate::web::refusal::Refusal;
use crate::web::responses;

pub(crate) async fn post(state: Arc<ProxyState>, request: HttpRequest) -> Result<HttpResponse, Refusal> {
    match state.config.registration.mode {
        RegistrationMode::Disabled => {
            return Err(
                Refusal::from(OAuthError::invalid_request("dynamic client registration is disabled"))
                    .with_status(StatusCode::NOT_FOUND),
            );
        }
        RegistrationMode::Static => return static_client(&state, StatusCode::CREATED),
        RegistrationMode::Dynamic => {}
    }
    let registration = RegistrationRequest::from_json(request.body()).map_err(OAuthError::from)?;
    let mut validated = registration
        .validate(state.registry.policy())
        .map_err(OAuthError::from)?;
    // The registered `scope` is what the client will be granted (unknown scopes ignored, RFC 6749
    // §3.3; RFC 7591 §3.2.1 lets the server replace requested values).
    if validated.scope.is_some() {
        validated.scope = Some(state.offered_scopes().grant(validated.scope.as_deref()).join(" "));
    }
    // Registrations are unauthenticated and each one is stored.
    let admitted = rate_limit::admit(&state, "register", state.config.registration.per_minute)
        .await
        .map_err(OAuthError::from)?;
    if !admitted {
        return Err(OAuthError::limited("too many registrations; try again in a minute", 60).into());
    }
    let (client, secret) = state
        .registry
        .register(registration, validated)
        .await
        .map_err(OAuthError::from)?;
    tracing::info!(
        client_id = %client.client_id,
        name = %Untrusted::new(client.client_name.as_deref().unwrap_or_default()),
        "client registered"
    );
    let event = ProxyEvent {
        method: "oauth/register",
        user: None,
        client_id: Some(client.client_id.as_str()),
        decision: AuditDecision::Allow,
        outcome: "client_registered",
        reason: None,
    };
    audit::record(&state, &request, event).await;
    Ok(responses::json(
        StatusCode::CREATED,
        &client.registration_response(secret.as_ref()),
    ))
}

/// `GET /register`: the configured static client, if any (its secret is never returned).
pub(crate) async fn get(state: Arc<ProxyState>, _request: HttpRequest) -> Result<HttpResponse, Refusal> {
    if state.config.registration.static_client.is_none() {
        return Err(Refusal::from(OAuthError::invalid_request("method not allowed"))
            .with_status(StatusCode::METHOD_NOT_ALLOWED)
            .with_header(http::header::ALLOW, "POST"));
    }
    static_client(&state, StatusCode::OK)
}

/// The static client's RFC 7591 description: `201` when answering a registration, `200` for a read.
fn static_client(state: &ProxyState, status: StatusCode) -> Result<HttpResponse, Refusal> {
    let client = state
        .config
        .registration
        .static_client
        .as_deref()
        .and_then(|id| state.registry.preregistered(id))
        .ok_or_else(|| {
            Refusal::from(OAuthError::invalid_request("no static client is configured"))
                .with_status(StatusCode::NOT_FOUND)
        })?;
    Ok(responses::json(status, &client.registration_response(None)))
}

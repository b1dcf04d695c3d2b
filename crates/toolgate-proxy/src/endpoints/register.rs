//! `POST /register` (RFC 7591) and `GET /register` (Copilot Studio reads the client it should use).

use std::sync::Arc;

use http::StatusCode;
use toolgate_core::{AuditDecision, AuditOutcome, HttpRequest, HttpResponse};

use super::audit::{self, ProxyEvent};
use super::rate_limit::{self, Budget, Over};
use crate::client_address::client_address;
use crate::config::RegistrationMode;
use crate::dynamic_clients::Registered;
use crate::oauth_error::OAuthError;
use crate::proxy::ProxyState;
use crate::registration::{MAX_REGISTRATION_BODY, RegistrationRequest};
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
    if request.body().len() > MAX_REGISTRATION_BODY {
        return Err(Refusal::from(OAuthError::InvalidClientMetadata(
            format!("the registration request is larger than {MAX_REGISTRATION_BODY} bytes").into(),
        ))
        .with_status(StatusCode::PAYLOAD_TOO_LARGE));
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
    // Registrations are unauthenticated and each one may be stored.
    let address = client_address(&request, &state.config.trusted_proxies);
    match rate_limit::admit(&state, Budget::Registration, address.as_ref())
        .await
        .map_err(OAuthError::from)?
    {
        Ok(()) => {}
        Err(Over::Address) => {
            return Err(
                OAuthError::limited("too many registrations from your address; try again in a minute", 60).into(),
            );
        }
        Err(Over::Everyone) => {
            return Err(OAuthError::limited("too many registrations right now; try again in a minute", 60).into());
        }
    }
    let (response, outcome) = match state
        .registry
        .dynamic()
        .register(validated)
        .await
        .map_err(OAuthError::from)?
    {
        Registered::New(client, secret) => {
            tracing::info!(
                client_id = %client.client_id,
                name = %Untrusted::new(client.client_name.as_deref().unwrap_or_default()),
                "client registered"
            );
            let response = client.registration_response(secret.as_ref());
            (response, (client.client_id.as_str().to_owned(), None))
        }
        Registered::Existing(client) => {
            tracing::info!(client_id = %client.client_id, "registration identical to an existing client");
            let response = client.registration_response(None);
            (
                response,
                (client.client_id.as_str().to_owned(), Some("existing_client")),
            )
        }
        Registered::Full => {
            tracing::warn!("registration refused: the ceiling of unused registrations is reached");
            return Err(OAuthError::unavailable(
                "this server holds too many client registrations that have not been used yet; try again later, \
                 or use a pre-registered client or a Client ID Metadata Document",
                60,
            )
            .into());
        }
    };
    let event = ProxyEvent {
        method: "oauth/register",
        user: None,
        client_id: Some(&outcome.0),
        decision: AuditDecision::Allow,
        outcome: AuditOutcome::ClientRegistered,
        reason: outcome.1,
    };
    audit::record(&state, &request, event).await;
    Ok(responses::json(StatusCode::CREATED, &response))
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

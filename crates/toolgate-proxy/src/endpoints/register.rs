//! `POST /register` (RFC 7591) and `GET /register` (Copilot Studio reads the client it should use).

use std::sync::Arc;

use http::StatusCode;
use toolgate_core::{AuditDecision, HttpRequest, HttpResponse};

use super::audit::{self, ProxyEvent};
use super::{rate_limit, store_failure};
use crate::config::RegistrationMode;
use crate::proxy::ProxyState;
use crate::registration::RegistrationRequest;
use crate::web::responses::{self, oauth_error};

pub(crate) async fn post(state: Arc<ProxyState>, request: HttpRequest) -> HttpResponse {
    match state.config.registration.mode {
        RegistrationMode::Disabled => {
            return oauth_error(
                StatusCode::NOT_FOUND,
                "invalid_request",
                "dynamic client registration is disabled",
            );
        }
        RegistrationMode::Static => return static_client(&state, StatusCode::CREATED),
        RegistrationMode::Dynamic => {}
    }
    let registration = match RegistrationRequest::from_json(request.body()) {
        Ok(registration) => registration,
        Err(error) => return responses::json(StatusCode::BAD_REQUEST, &error.to_json()),
    };
    let validated = match registration.validate(state.registry.policy()) {
        Ok(validated) => validated,
        Err(error) => return responses::json(StatusCode::BAD_REQUEST, &error.to_json()),
    };
    // Registrations are unauthenticated and each one is stored.
    match rate_limit::admit(&state, "register", state.config.registration.per_minute).await {
        Ok(false) => {
            let mut response = oauth_error(
                StatusCode::TOO_MANY_REQUESTS,
                "temporarily_unavailable",
                "too many registrations; try again in a minute",
            );
            response
                .headers_mut()
                .insert(http::header::RETRY_AFTER, http::HeaderValue::from_static("60"));
            return response;
        }
        Ok(true) => {}
        Err(error) => return store_failure(&error),
    }
    match state.registry.register(registration, validated).await {
        Ok((client, secret)) => {
            tracing::info!(client_id = %client.client_id, name = ?client.client_name, "client registered");
            let event = ProxyEvent {
                method: "oauth/register",
                user: None,
                client_id: Some(client.client_id.as_str()),
                decision: AuditDecision::Allow,
                outcome: "client_registered",
                reason: None,
            };
            audit::record(&state, &request, event).await;
            responses::json(StatusCode::CREATED, &client.registration_response(secret.as_ref()))
        }
        Err(error) => store_failure(&error),
    }
}

/// `GET /register`: the configured static client, if any (its secret is never returned).
pub(crate) async fn get(state: Arc<ProxyState>, _request: HttpRequest) -> HttpResponse {
    if state.config.registration.static_client.is_none() {
        return responses::method_not_allowed("POST");
    }
    static_client(&state, StatusCode::OK)
}

/// The static client's RFC 7591 description: `201` when answering a registration, `200` for a read.
fn static_client(state: &ProxyState, status: StatusCode) -> HttpResponse {
    let client = state
        .config
        .registration
        .static_client
        .as_deref()
        .and_then(|id| state.registry.preregistered(id));
    match client {
        Some(client) => responses::json(status, &client.registration_response(None)),
        None => oauth_error(
            StatusCode::NOT_FOUND,
            "invalid_request",
            "no static client is configured",
        ),
    }
}

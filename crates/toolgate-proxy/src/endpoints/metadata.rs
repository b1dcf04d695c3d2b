//! Discovery: RFC 8414 authorization server metadata (also served as OIDC discovery, which some
//! clients try first) and the proxy's JWKS. `issuer` is exactly the proxy's origin — clients
//! must reject a mismatch — and `code_challenge_methods_supported` says S256, which Entra's own
//! documents omit.

use std::sync::Arc;

use http::StatusCode;
use serde_json::{Value, json};
use toolgate_core::{HttpRequest, HttpResponse};

use crate::config::RegistrationMode;
use crate::proxy::ProxyState;
use crate::web::refusal::Refusal;
use crate::web::responses;

pub(crate) const AUTHORIZATION_SERVER_PATH: &str = "/.well-known/oauth-authorization-server";
pub(crate) const OPENID_CONFIGURATION_PATH: &str = "/.well-known/openid-configuration";
pub(crate) const JWKS_PATH: &str = "/.well-known/jwks.json";

/// The metadata document.
pub(crate) fn document(state: &ProxyState) -> Value {
    let issuer = &state.config.issuer;
    let confidential = state.registry.policy().allow_confidential_clients
        || state.config.clients.iter().any(|c| c.client_secret.is_some());
    let mut auth_methods: Vec<&str> = if confidential {
        vec!["none", "client_secret_basic", "client_secret_post"]
    } else {
        vec!["none"]
    };
    if state.registry.cimd_enabled() {
        auth_methods.push("private_key_jwt");
    }
    let mut document = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "revocation_endpoint": format!("{issuer}/revoke"),
        "jwks_uri": format!("{issuer}{JWKS_PATH}"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "scopes_supported": state.config.scopes,
        "client_id_metadata_document_supported": state.registry.cimd_enabled(),
        "authorization_response_iss_parameter_supported": true,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "service_documentation": "https://example.invalid/toolgate/docs/entra-proxy.md",
    });
    if state.config.registration.mode != RegistrationMode::Disabled
        && let Some(map) = document.as_object_mut()
    {
        map.insert(
            "registration_endpoint".into(),
            Value::from(format!("{issuer}/register")),
        );
    }
    document
}

pub(crate) async fn authorization_server(
    state: Arc<ProxyState>,
    _request: HttpRequest,
) -> Result<HttpResponse, Refusal> {
    Ok(public(responses::json(StatusCode::OK, &document(&state))))
}

pub(crate) async fn jwks(state: Arc<ProxyState>, _request: HttpRequest) -> Result<HttpResponse, Refusal> {
    Ok(public(responses::json(StatusCode::OK, &state.signer.jwks())))
}

/// Discovery documents are public and cacheable (tokens are what must never be cached).
fn public(mut response: HttpResponse) -> HttpResponse {
    response.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("public, max-age=300"),
    );
    response.headers_mut().remove(http::header::PRAGMA);
    response
}

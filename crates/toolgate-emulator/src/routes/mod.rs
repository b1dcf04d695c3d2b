//! The HTTP surface: paths mirror Entra's (`/{tenant}/…`), test hooks live under `/_emulator/`.

mod admin;
pub(crate) mod authorize;
mod b2c;
mod body_limit;
mod discovery;
mod jwks;
mod login_page;
mod token;

use std::sync::Arc;

use poem::http::StatusCode;
use poem::middleware::Cors;
use poem::{EndpointExt as _, IntoEndpoint, Response, Route, get, post};

use crate::state::EmulatorState;

/// All routes, with the state attached.
pub(crate) fn app(state: Arc<EmulatorState>) -> impl IntoEndpoint {
    Route::new()
        .at("/:tenant/v2.0/.well-known/openid-configuration", get(discovery::v2))
        .at("/:tenant/.well-known/openid-configuration", get(discovery::v1))
        .at("/:tenant/discovery/v2.0/keys", get(jwks::v2))
        .at("/:tenant/discovery/keys", get(jwks::v1))
        .at(
            "/:tenant/oauth2/v2.0/authorize",
            get(authorize::get_v2).post(authorize::post_v2),
        )
        .at(
            "/:tenant/oauth2/authorize",
            get(authorize::get_v1).post(authorize::post_v1),
        )
        .at("/:tenant/oauth2/v2.0/token", post(token::token_v2))
        // Azure AD B2C user flows (see `crate::b2c`).
        .at(
            "/:tenant/:policy/v2.0/.well-known/openid-configuration",
            get(b2c::discovery),
        )
        .at("/:tenant/:policy/discovery/v2.0/keys", get(b2c::keys))
        .at(
            "/:tenant/:policy/oauth2/v2.0/authorize",
            get(authorize::get_b2c).post(authorize::post_b2c),
        )
        .at("/:tenant/:policy/oauth2/v2.0/token", post(token::token_b2c))
        .at("/:tenant/oauth2/token", post(token::token_v1))
        .at("/_emulator/rotate-keys", post(admin::rotate_keys))
        .at("/_emulator/users", get(admin::users))
        .data(state)
        .with(body_limit::BodyLimit)
        // Browsers redeem SPA codes (PKCE, no secret) and read discovery/keys cross-origin, so
        // Entra answers CORS on these endpoints; Swagger UI's sign-in depends on it.
        .with(Cors::new())
}

/// A JSON 200 answer that must not be cached.
pub(crate) fn json_ok(value: &serde_json::Value) -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .content_type("application/json; charset=utf-8")
        .header("cache-control", "no-store, no-cache")
        .body(value.to_string())
}

/// First value of a parameter, like Entra reads query and form parameters.
pub(crate) fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

//! Test hooks for out-of-process use, namespaced under `/_emulator/` so they never collide with
//! an Entra path. Hooks that change state need the emulator's admin token
//! ([`crate::RunningEmulator::admin_token`]) as a bearer credential; reading the demo users does
//! not (the sign-in page lists them anyway).

use std::sync::Arc;

use poem::http::{StatusCode, header};
use poem::web::{Data, Query};
use poem::{Request, Response, handler};
use serde::Deserialize;
use serde_json::json;

use crate::errors::AadError;
use crate::routes::json_ok;
use crate::state::EmulatorState;

#[derive(Debug, Deserialize)]
pub(crate) struct RotateParams {
    #[serde(default)]
    retire_old: bool,
}

/// `POST /_emulator/rotate-keys[?retire_old=true]` with `Authorization: Bearer {admin token}`
/// → `{"kid": "<new active kid>"}`; without the token, 401 and nothing changes.
#[handler]
pub(crate) fn rotate_keys(
    state: Data<&Arc<EmulatorState>>,
    Query(params): Query<RotateParams>,
    req: &Request,
) -> Response {
    if !holds_admin_token(req, &state.admin_token) {
        return admin_credential_required();
    }
    match state.keys.write().rotate(params.retire_old) {
        Ok(kid) => json_ok(&json!({ "kid": kid })),
        Err(_) => AadError::server_error("key generation failed").to_json_response(),
    }
}

/// Whether the request carries `Authorization: Bearer {admin token}` (compared in constant time).
fn holds_admin_token(req: &Request, admin_token: &str) -> bool {
    let Some(presented) = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
    else {
        return false;
    };
    aws_lc_rs::constant_time::verify_slices_are_equal(presented.as_bytes(), admin_token.as_bytes()).is_ok()
}

/// 401 with a `Bearer` challenge (RFC 6750 §3); the body says what is missing, nothing more.
fn admin_credential_required() -> Response {
    Response::builder()
        .status(StatusCode::UNAUTHORIZED)
        .header(header::WWW_AUTHENTICATE, "Bearer realm=\"toolgate-emulator\"")
        .header(header::CACHE_CONTROL, "no-store")
        .content_type("application/json; charset=utf-8")
        .body(
            json!({
                "error": "invalid_token",
                "error_description": "this hook needs the emulator's admin token as `Authorization: Bearer …`",
            })
            .to_string(),
        )
}

/// `GET /_emulator/users`: every user with what tokens will say about them.
#[handler]
pub(crate) fn users(state: Data<&Arc<EmulatorState>>) -> Response {
    let config = &state.config;
    let list: Vec<_> = config
        .users
        .iter()
        .map(|u| {
            json!({
                "user_name": u.user_name,
                "display_name": u.display_name,
                "upn": config.upn(u),
                "oid": u.oid,
                "tenant_id": config.tenant(&u.tenant).map(|t| t.id.clone()),
                "roles": u.roles,
                "group_count": u.groups.len(),
                "guest": u.guest,
            })
        })
        .collect();
    json_ok(&json!(list))
}

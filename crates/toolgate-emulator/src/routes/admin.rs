//! Test hooks for out-of-process use, namespaced under `/_emulator/` so they never collide with
//! an Entra path.

use std::sync::Arc;

use poem::web::{Data, Query};
use poem::{Response, handler};
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

/// `POST /_emulator/rotate-keys[?retire_old=true]` → `{"kid": "<new active kid>"}`.
#[handler]
pub(crate) fn rotate_keys(state: Data<&Arc<EmulatorState>>, Query(params): Query<RotateParams>) -> Response {
    match state.keys.write().rotate(params.retire_old) {
        Ok(kid) => json_ok(&json!({ "kid": kid })),
        Err(_) => AadError::server_error("key generation failed").to_json_response(),
    }
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

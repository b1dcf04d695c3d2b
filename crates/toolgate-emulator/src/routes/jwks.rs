//! The keys endpoints. The v2 set names each key's `issuer` (exact, or the `{tenantid}` template
//! for `common`/`organizations`), an Entra extension validators should check.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use poem::web::{Data, Path};
use poem::{Response, handler};

use crate::routes::discovery::{outage_or_unknown, segment_ids};
use crate::routes::json_ok;
use crate::state::EmulatorState;

fn keys(state: &EmulatorState, tenant: &str, with_issuer: bool) -> Response {
    state.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    let segment = match outage_or_unknown(state, tenant) {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let (_, tid) = segment_ids(segment);
    let issuer = with_issuer.then(|| state.v2_issuer(&tid));
    let set = state.keys.read().jwks(issuer.as_deref());
    match serde_json::to_value(&set) {
        Ok(value) => json_ok(&value),
        Err(_) => crate::errors::AadError::server_error("cannot encode keys").to_json_response(),
    }
}

#[handler]
pub(crate) fn v2(state: Data<&Arc<EmulatorState>>, Path(tenant): Path<String>) -> Response {
    keys(&state, &tenant, true)
}

#[handler]
pub(crate) fn v1(state: Data<&Arc<EmulatorState>>, Path(tenant): Path<String>) -> Response {
    keys(&state, &tenant, false)
}

//! B2C user-flow discovery and keys: `/{tenant}/{policy}/v2.0/.well-known/openid-configuration`
//! and `/{tenant}/{policy}/discovery/v2.0/keys` (the tenant by domain, name or GUID, like B2C).
//!
//! B2C writes the policy in lower case in the endpoints it publishes; the issuer is the tenant's
//! (`{base}/{tid}/v2.0/`, same for every policy); its keys carry no `issuer` member.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Response, handler};
use serde_json::json;

use crate::b2c::tenant_and_policy;
use crate::config::TenantConfig;
use crate::routes::json_ok;
use crate::state::EmulatorState;

#[expect(
    clippy::result_large_err,
    reason = "the error is the finished response, built once per request"
)]
fn lookup<'a>(state: &'a EmulatorState, tenant: &str, policy: &str) -> Result<(&'a TenantConfig, &'a str), Response> {
    if state.outage.load(Ordering::SeqCst) {
        return Err(Response::builder()
            .status(StatusCode::SERVICE_UNAVAILABLE)
            .content_type("text/plain")
            .body("Service Unavailable (emulated outage)"));
    }
    tenant_and_policy(state, tenant, policy).map_err(|err| err.to_json_response())
}

#[handler]
pub(crate) fn discovery(state: Data<&Arc<EmulatorState>>, Path((tenant, policy)): Path<(String, String)>) -> Response {
    state.metadata_fetches.fetch_add(1, Ordering::SeqCst);
    let (tenant_config, policy) = match lookup(&state, &tenant, &policy) {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let base = format!(
        "{}/{}/{}",
        state.base_url,
        tenant_config.domain,
        policy.to_ascii_lowercase()
    );
    json_ok(&json!({
        "issuer": state.b2c_issuer(&tenant_config.id),
        "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
        "token_endpoint": format!("{base}/oauth2/v2.0/token"),
        "end_session_endpoint": format!("{base}/oauth2/v2.0/logout"),
        "jwks_uri": format!("{base}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "response_types_supported": ["code", "code id_token", "code token", "code id_token token", "id_token",
            "id_token token", "token", "token id_token"],
        "scopes_supported": ["openid"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "claims_supported": ["name", "emails", "oid", "sub", "tfp", "iss", "iat", "exp", "aud", "acr", "nonce",
            "auth_time"],
    }))
}

#[handler]
pub(crate) fn keys(state: Data<&Arc<EmulatorState>>, Path((tenant, policy)): Path<(String, String)>) -> Response {
    state.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    if let Err(resp) = lookup(&state, &tenant, &policy) {
        return resp;
    }
    let set = state.keys.read().jwks(None);
    match serde_json::to_value(&set) {
        Ok(value) => json_ok(&value),
        Err(_) => crate::errors::AadError::server_error("cannot encode keys").to_json_response(),
    }
}

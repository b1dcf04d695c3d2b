//! OIDC discovery documents (v2 and v1). Entra publishes no `code_challenge_methods_supported`
//! and no RFC 8414 document; clients that require either must be configured around it.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Response, handler};
use serde_json::json;

use crate::directory::TenantSegment;
use crate::errors::AadError;
use crate::routes::json_ok;
use crate::state::EmulatorState;

/// Counted, and 503 during a simulated outage.
#[expect(
    clippy::result_large_err,
    reason = "the error is the finished response, built once per request"
)]
pub(crate) fn outage_or_unknown<'a>(state: &'a EmulatorState, tenant: &str) -> Result<TenantSegment<'a>, Response> {
    if state.outage.load(Ordering::SeqCst) {
        return Err(Response::builder()
            .status(StatusCode::SERVICE_UNAVAILABLE)
            .content_type("text/plain")
            .body("Service Unavailable (emulated outage)"));
    }
    state
        .config
        .segment(tenant)
        .ok_or_else(|| AadError::unknown_tenant(tenant).to_json_response())
}

/// `(path segment for endpoints, tenant id or the {tenantid} template)`.
pub(crate) fn segment_ids(segment: TenantSegment<'_>) -> (String, String) {
    match segment {
        TenantSegment::Tenant(t) => (t.id.clone(), t.id.clone()),
        TenantSegment::Multi(name) => (name.to_owned(), "{tenantid}".to_owned()),
    }
}

fn region(segment: TenantSegment<'_>) -> serde_json::Value {
    match segment {
        TenantSegment::Tenant(_) => json!("NA"),
        TenantSegment::Multi(_) => json!(null),
    }
}

#[handler]
pub(crate) fn v2(state: Data<&Arc<EmulatorState>>, Path(tenant): Path<String>) -> Response {
    state.metadata_fetches.fetch_add(1, Ordering::SeqCst);
    let segment = match outage_or_unknown(&state, &tenant) {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let (path, tid) = segment_ids(segment);
    let base = format!("{}/{path}", state.base_url);
    json_ok(&json!({
        "token_endpoint": format!("{base}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": state.v2_issuer(&tid),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{base}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
            "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid",
            "ver", "at_hash", "c_hash", "email"],
        "kerberos_endpoint": format!("{base}/kerberos"),
        "tenant_region_scope": region(segment),
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    }))
}

#[handler]
pub(crate) fn v1(state: Data<&Arc<EmulatorState>>, Path(tenant): Path<String>) -> Response {
    state.metadata_fetches.fetch_add(1, Ordering::SeqCst);
    let segment = match outage_or_unknown(&state, &tenant) {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let (path, tid) = segment_ids(segment);
    let base = format!("{}/{path}", state.base_url);
    json_ok(&json!({
        "token_endpoint": format!("{base}/oauth2/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/discovery/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
        "scopes_supported": ["openid"],
        "issuer": state.v1_issuer(&tid),
        "microsoft_multi_refresh_token": true,
        "authorization_endpoint": format!("{base}/oauth2/authorize"),
        "device_authorization_endpoint": format!("{base}/oauth2/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/oauth2/logout"),
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
            "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "amr", "nonce", "email", "given_name",
            "family_name", "nickname"],
        "check_session_iframe": format!("{base}/oauth2/checksession"),
        "userinfo_endpoint": format!("{base}/openid/userinfo"),
        "kerberos_endpoint": format!("{base}/kerberos"),
        "tenant_region_scope": region(segment),
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    }))
}

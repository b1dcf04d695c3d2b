//! `POST /revoke` (RFC 7009): a refresh token or an access token ends its whole grant. Unknown
//! tokens get 200 too (§2.2), so the endpoint cannot be used to probe for valid tokens.

use std::sync::Arc;

use http::StatusCode;
use toolgate_core::{AuditDecision, HttpRequest, HttpResponse};

use super::audit::{self, ProxyEvent};
use super::{client_auth, store_failure};
use crate::proxy::ProxyState;
use crate::web::responses::{self, oauth_error};

pub(crate) async fn handle(state: Arc<ProxyState>, request: HttpRequest) -> HttpResponse {
    let (params, client) = match client_auth::form_and_client(&state, &request).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Some(token) = params.get("token") else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "token is required");
    };
    let client_id = client.client_id.as_str();
    let grant_id = match state.grants.refresh_token_grant(token, client_id).await {
        Ok(Some(grant_id)) => Some(grant_id),
        Ok(None) => state
            .signer
            .verify(token)
            .ok()
            .filter(|verified| verified.client_id == client_id)
            .and_then(|verified| verified.grant_id),
        Err(error) => return store_failure(&error),
    };
    if let Some(grant_id) = grant_id {
        if let Err(error) = state.grants.revoke(&grant_id).await {
            return store_failure(&error);
        }
        tracing::info!(client_id, "grant revoked by its client");
        let event = ProxyEvent {
            method: "oauth/revoke",
            user: None,
            client_id: Some(client_id),
            decision: AuditDecision::Allow,
            outcome: "revoked",
            reason: None,
        };
        audit::record(&state, &request, event).await;
    }
    responses::json(StatusCode::OK, &serde_json::json!({}))
}

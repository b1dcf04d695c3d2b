//! `POST /revoke` (RFC 7009): a refresh token or an access token ends its whole grant. Unknown
//! tokens get 200 too (§2.2), so the endpoint cannot be used to probe for valid tokens.

use std::sync::Arc;

use http::StatusCode;
use toolgate_core::{AuditDecision, AuditOutcome, HttpRequest, HttpResponse};

use super::audit::{self, ProxyEvent};
use super::client_auth;
use crate::oauth_error::OAuthError;
use crate::proxy::ProxyState;
use crate::untrusted::Untrusted;
use crate::web::refusal::Refusal;
use crate::web::responses;

pub(crate) async fn handle(state: Arc<ProxyState>, request: HttpRequest) -> Result<HttpResponse, Refusal> {
    let (params, client) = client_auth::form_and_client(&state, &request).await?;
    let token = params
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    let client_id = client.client_id.as_str();
    let grant_id = match state
        .grants
        .refresh_token_grant(token, client_id)
        .await
        .map_err(OAuthError::from)?
    {
        Some(grant_id) => Some(grant_id),
        None => state
            .signer
            .verify(token)
            .ok()
            .filter(|verified| verified.client_id == client_id)
            .and_then(|verified| verified.grant_id),
    };
    if let Some(grant_id) = grant_id {
        state.grants.revoke(&grant_id).await.map_err(OAuthError::from)?;
        tracing::info!(client_id = %Untrusted::new(client_id), "grant revoked by its client");
        let event = ProxyEvent {
            method: "oauth/revoke",
            user: None,
            client_id: Some(client_id),
            decision: AuditDecision::Allow,
            outcome: AuditOutcome::Revoked,
            reason: None,
        };
        audit::record(&state, &request, event).await;
    }
    Ok(responses::json(StatusCode::OK, &serde_json::json!({})))
}

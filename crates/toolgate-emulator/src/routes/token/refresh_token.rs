//! `grant_type=refresh_token`: a new refresh token every time. Like Entra, the old one stays
//! valid until it expires (Entra does not revoke on redemption); a `scope` may name another resource.

use serde_json::Value;

use crate::config::RedirectPlatform;
use crate::errors::AadError;
use crate::routes::param;
use crate::routes::token::{TokenRequest, issue_delegated};
use crate::scopes;
use crate::state::now;

pub(crate) fn grant(req: &TokenRequest<'_>) -> Result<Value, AadError> {
    let token = param(req.params, "refresh_token").ok_or_else(|| AadError::missing_parameter("refresh_token"))?;
    let stored = req
        .state
        .refresh_tokens
        .lock()
        .get(token)
        .cloned()
        .ok_or_else(AadError::bad_refresh_token)?;
    if stored.expires_at <= now() {
        return Err(AadError::refresh_token_expired());
    }
    if !stored.grant.client_id.eq_ignore_ascii_case(&req.client.app.client_id) {
        return Err(AadError::grant_client_mismatch());
    }
    match stored.grant.platform {
        RedirectPlatform::Spa if !req.has_origin => return Err(AadError::spa_needs_origin()),
        RedirectPlatform::Web if req.client.app.is_confidential() => req.client.require_secret()?,
        _ => {}
    }
    let mut grant = stored.grant;
    if let Some(scope) = param(req.params, "scope") {
        let mut resolved = scopes::resolve(&req.state.config, scope)?;
        // The new grant is still an offline one: the refresh token keeps being renewed.
        resolved.offline_access = true;
        grant.scopes = resolved;
    }
    grant.azpacr = req.client.azpacr();
    issue_delegated(req.state, grant, None)
}

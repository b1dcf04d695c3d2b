//! `grant_type=client_credentials`: app-only tokens, `{resource}/.default` only (AADSTS1002012),
//! `roles` from the app-role assignments, `idtyp=app`, no `scp`, `oid`/`sub` = service principal.

use serde_json::{Value, json};

use crate::directory::TenantSegment;
use crate::errors::AadError;
use crate::routes::param;
use crate::routes::token::TokenRequest;
use crate::scopes;
use crate::state::now;
use crate::tokens::{Subject, TokenContext, access_claims, sign_token};

pub(crate) fn grant(req: &TokenRequest<'_>) -> Result<Value, AadError> {
    req.client.require_secret()?;
    let scope = param(req.params, "scope").ok_or_else(|| AadError::missing_parameter("scope"))?;
    let resolved = scopes::resolve_app_only(&req.state.config, scope)?;
    let tenant = match req.segment {
        TenantSegment::Tenant(t) => t,
        // `common` has no tenant to issue in; use the app's home tenant.
        TenantSegment::Multi(_) => req
            .state
            .config
            .tenant(&req.client.app.tenant)
            .ok_or_else(|| AadError::unknown_tenant(&req.client.app.tenant))?,
    };
    let ctx = TokenContext {
        tenant,
        client: req.client.app,
        subject: Subject::App,
        scopes: &resolved,
        policy: req.policy,
    };
    let (claims, shape) = access_claims(req.state, &ctx, now())?;
    let access_token = sign_token(req.state, &claims, shape)?;
    let lifetime = req.state.config.settings.token_lifetime_secs;
    Ok(json!({
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": access_token,
    }))
}

//! Token claims without HTTP: the same lookups and checks `/token` makes, from a
//! [`TokenRequestSpec`](crate::TokenRequestSpec).

use serde_json::Value;

use crate::directory::TenantSegment;
use crate::errors::AadError;
use crate::routes::authorize::app_allowed_in;
use crate::scopes;
use crate::server::TokenRequestSpec;
use crate::state::{EmulatorState, now};
use crate::tokens::{Shape, Subject, TokenContext, access_claims};

pub(crate) fn claims_for(state: &EmulatorState, req: &TokenRequestSpec) -> Result<(Value, Shape), AadError> {
    let config = &state.config;
    let segment = config
        .segment(&req.tenant)
        .ok_or_else(|| AadError::unknown_tenant(&req.tenant))?;
    let client = config
        .app(&req.client_id)
        .ok_or_else(|| AadError::unknown_client(&req.client_id, &req.tenant))?;
    let scope = req.scopes.join(" ");
    let tenant_filter = match segment {
        TenantSegment::Tenant(t) => Some(t),
        TenantSegment::Multi(_) => None,
    };
    let (tenant, subject, resolved) = match &req.user {
        Some(name) => {
            let user = config
                .user(tenant_filter, name)
                .ok_or_else(|| AadError::unknown_user(name))?;
            let tenant = config
                .tenant(&user.tenant)
                .ok_or_else(|| AadError::unknown_tenant(&user.tenant))?;
            let azpacr = if client.is_confidential() { "1" } else { "0" };
            (tenant, Subject::User { user, azpacr }, scopes::resolve(config, &scope)?)
        }
        None => {
            let tenant = match tenant_filter {
                Some(t) => t,
                None => config
                    .tenant(&client.tenant)
                    .ok_or_else(|| AadError::unknown_tenant(&client.tenant))?,
            };
            (tenant, Subject::App, scopes::resolve_app_only(config, &scope)?)
        }
    };
    if !app_allowed_in(state, client, &tenant.id) {
        return Err(AadError::unknown_client(&client.client_id, &tenant.id));
    }
    let ctx = TokenContext {
        tenant,
        client,
        subject,
        scopes: &resolved,
        policy: None,
    };
    access_claims(state, &ctx, now())
}

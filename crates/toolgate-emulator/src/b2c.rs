//! Azure AD B2C: user flows (policies) and the shape of the tokens they issue.
//!
//! What real B2C does, and the emulator with it:
//! - Endpoints live under the policy: `https://{name}.b2clogin.com/{name}.onmicrosoft.com/{policy}/…`
//!   (the tenant may also be named by its GUID). The emulator serves them under
//!   `/{tenant}/{policy}/…` of its own base URL.
//! - The issuer is **not** Entra's: B2C's default is `https://{name}.b2clogin.com/{tid}/v2.0/`, trailing
//!   slash included, the same for every policy of the tenant. The metadata document of each policy
//!   states it; validators compare against that exactly.
//! - Access tokens carry `ver: "1.0"` although the issuer is the v2.0-style one (B2C's token
//!   version setting defaults to V1 and does not change the issuer). The emulator follows that
//!   default, so validators that switch on `ver` to pick Entra's v1 issuer fail as they would on
//!   real B2C.
//! - The user flow is named in `tfp` (B2C's default "claim representing policy ID"; older tenants
//!   use `acr`). Its case is as configured.
//! - User flows emit no `tid`; `sub` is the user's object id and `oid` is present when the flow's
//!   "User's Object ID" application claim is selected (the emulator always emits it).
//! - No `idp` for local accounts; B2C's JWKS has no per-key `issuer` member.

use serde_json::{Map, Value, json};

use crate::config::{AppConfig, TenantConfig};
use crate::errors::AadError;
use crate::scopes::Resource;
use crate::state::{EmulatorState, random_token};
use crate::tokens::{Shape, Subject, TokenContext, base_times};

/// The B2C tenant named by `tenant` and its policy named (case-insensitively) by `policy`, as
/// configured.
pub(crate) fn policy_of<'a>(state: &'a EmulatorState, tenant: &str, policy: &str) -> Result<&'a str, AadError> {
    let (_, policy) = tenant_and_policy(state, tenant, policy)?;
    Ok(policy)
}

pub(crate) fn tenant_and_policy<'a>(
    state: &'a EmulatorState,
    tenant: &str,
    policy: &str,
) -> Result<(&'a TenantConfig, &'a str), AadError> {
    let tenant_config = state
        .config
        .tenant(tenant)
        .filter(|t| t.b2c)
        .ok_or_else(|| AadError::unknown_tenant(tenant))?;
    let policy = tenant_config
        .policies
        .iter()
        .find(|p| p.eq_ignore_ascii_case(policy))
        .ok_or_else(|| AadError::unknown_policy(policy, &tenant_config.domain))?;
    Ok((tenant_config, policy.as_str()))
}

/// A B2C access token's claims (see the module docs for the shape).
pub(crate) fn access_claims(
    state: &EmulatorState,
    ctx: &TokenContext<'_>,
    policy: &str,
    resource: Option<&AppConfig>,
    now: i64,
) -> Result<(Value, Shape), AadError> {
    let Some(resource) = resource else {
        // B2C issues no Microsoft Graph tokens.
        return Err(AadError::unknown_resource(match &ctx.scopes.resource {
            Resource::App { uri, .. } => uri,
            Resource::Graph => crate::scopes::GRAPH_RESOURCE,
        }));
    };
    let (iat, nbf, exp) = base_times(state, now);
    let mut c = Map::new();
    c.insert("iss".into(), json!(state.b2c_issuer(&ctx.tenant.id)));
    c.insert("exp".into(), json!(exp));
    c.insert("nbf".into(), json!(nbf));
    c.insert("aud".into(), json!(resource.client_id));
    match ctx.subject {
        Subject::User { user, .. } => {
            c.insert("oid".into(), json!(user.oid));
            c.insert("sub".into(), json!(user.oid));
            c.insert("name".into(), json!(user.display_name));
            c.insert("emails".into(), json!([state.config.upn(user)]));
            c.insert("tfp".into(), json!(policy));
            c.insert("scp".into(), json!(ctx.scopes.scp.join(" ")));
            c.insert("auth_time".into(), json!(iat));
        }
        Subject::App => {
            let sp = crate::directory::service_principal_id(&ctx.tenant.id, &ctx.client.client_id);
            c.insert("oid".into(), json!(sp));
            c.insert("sub".into(), json!(sp));
            c.insert("tfp".into(), json!(policy));
        }
    }
    c.insert("azp".into(), json!(ctx.client.client_id));
    c.insert("ver".into(), json!("1.0"));
    c.insert("iat".into(), json!(iat));
    c.insert("uti".into(), json!(random_token(16)));
    Ok((
        Value::Object(c),
        Shape {
            v1: false,
            graph: false,
        },
    ))
}

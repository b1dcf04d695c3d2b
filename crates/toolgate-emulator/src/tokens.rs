//! Entra-shaped claims for access and ID tokens. The shape (v1/v2, Graph) follows the resource.

use serde_json::{Map, Value, json};

use crate::config::{AppConfig, MemberType, TenantConfig, UserConfig};
use crate::directory::{pairwise_sub, service_principal_id};
use crate::errors::AadError;
use crate::keys::sign;
use crate::scopes::{GRAPH_RESOURCE, ResolvedScopes, Resource};
use crate::state::{EmulatorState, Grant, random_token};

/// How a token must be shaped and signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shape {
    pub v1: bool,
    /// Graph tokens carry a `nonce` header member (third parties cannot validate them).
    pub graph: bool,
}

/// A token's subject: a signed-in user, or the client app itself.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Subject<'a> {
    User { user: &'a UserConfig, azpacr: &'static str },
    App,
}

/// Everything claims are built from, looked up once.
pub(crate) struct TokenContext<'a> {
    pub tenant: &'a TenantConfig,
    pub client: &'a AppConfig,
    pub subject: Subject<'a>,
    pub scopes: &'a ResolvedScopes,
    /// The B2C user flow: tokens then take B2C's shape (see [`crate::b2c`]).
    pub policy: Option<&'a str>,
}

impl<'a> TokenContext<'a> {
    /// Looks up a stored grant's parties.
    pub(crate) fn from_grant(state: &'a EmulatorState, grant: &'a Grant) -> Result<Self, AadError> {
        let config = &state.config;
        let tenant = config
            .tenant(&grant.tenant_id)
            .ok_or_else(|| AadError::unknown_tenant(&grant.tenant_id))?;
        let client = config
            .app(&grant.client_id)
            .ok_or_else(|| AadError::unknown_client(&grant.client_id, &tenant.id))?;
        let user = config
            .user_by_oid(&grant.user_oid)
            .ok_or_else(|| AadError::unknown_user(&grant.user_oid))?;
        Ok(Self {
            tenant,
            client,
            subject: Subject::User {
                user,
                azpacr: grant.azpacr,
            },
            scopes: &grant.scopes,
            policy: grant.policy.as_deref(),
        })
    }
}

fn resource_app<'a>(state: &'a EmulatorState, scopes: &ResolvedScopes) -> Result<Option<&'a AppConfig>, AadError> {
    match &scopes.resource {
        Resource::Graph => Ok(None),
        Resource::App { client_id, uri } => state
            .config
            .app(client_id)
            .map(Some)
            .ok_or_else(|| AadError::unknown_resource(uri)),
    }
}

pub(crate) fn base_times(state: &EmulatorState, now: i64) -> (i64, i64, i64) {
    let lifetime = i64::try_from(state.config.settings.token_lifetime_secs).unwrap_or(3600);
    (now, now, now + lifetime)
}

/// The access token claims `/token` would issue, and how to sign them.
pub(crate) fn access_claims(
    state: &EmulatorState,
    ctx: &TokenContext<'_>,
    now: i64,
) -> Result<(Value, Shape), AadError> {
    let resource = resource_app(state, ctx.scopes)?;
    if let Some(policy) = ctx.policy {
        return crate::b2c::access_claims(state, ctx, policy, resource, now);
    }
    let shape = Shape {
        v1: resource.is_none_or(|r| r.access_token_version == 1),
        graph: resource.is_none(),
    };
    let tid = ctx.tenant.id.as_str();
    let (iat, nbf, exp) = base_times(state, now);
    let mut c = Map::new();
    let aud = match resource {
        None => GRAPH_RESOURCE.to_owned(),
        Some(r) if shape.v1 => r
            .identifier_uris
            .first()
            .cloned()
            .unwrap_or_else(|| r.client_id.clone()),
        Some(r) => r.client_id.clone(),
    };
    c.insert("aud".into(), json!(aud));
    let iss = if shape.v1 {
        state.v1_issuer(tid)
    } else {
        state.v2_issuer(tid)
    };
    c.insert("iss".into(), json!(iss));
    c.insert("iat".into(), json!(iat));
    c.insert("nbf".into(), json!(nbf));
    c.insert("exp".into(), json!(exp));
    let azpacr = match ctx.subject {
        Subject::User { azpacr, .. } => azpacr,
        Subject::App => "1",
    };
    if let Subject::User { .. } = ctx.subject
        && shape.v1
    {
        c.insert("acr".into(), json!("1"));
    }
    c.insert("aio".into(), json!(random_token(48)));
    if let Subject::User { .. } = ctx.subject
        && shape.v1
    {
        c.insert("amr".into(), json!(["pwd"]));
    }
    if shape.v1 {
        c.insert("appid".into(), json!(ctx.client.client_id));
        c.insert("appidacr".into(), json!(azpacr));
    } else {
        c.insert("azp".into(), json!(ctx.client.client_id));
        c.insert("azpacr".into(), json!(azpacr));
    }
    match ctx.subject {
        Subject::User { user, .. } => user_claims(state, &mut c, ctx, user, resource, shape),
        Subject::App => app_claims(state, &mut c, ctx, resource, shape),
    }
    c.insert("tid".into(), json!(tid));
    c.insert("uti".into(), json!(random_token(16)));
    c.insert("ver".into(), json!(if shape.v1 { "1.0" } else { "2.0" }));
    Ok((Value::Object(c), shape))
}

fn user_roles(user: &UserConfig, resource: Option<&AppConfig>) -> Vec<String> {
    let Some(resource) = resource else {
        return Vec::new();
    };
    user.roles
        .iter()
        .filter(|role| {
            resource
                .app_roles
                .iter()
                .any(|r| &r.value == *role && r.allowed_member_types.contains(&MemberType::User))
        })
        .cloned()
        .collect()
}

fn user_claims(
    state: &EmulatorState,
    c: &mut Map<String, Value>,
    ctx: &TokenContext<'_>,
    user: &UserConfig,
    resource: Option<&AppConfig>,
    shape: Shape,
) {
    let config = &state.config;
    let upn = config.upn(user);
    if let Some(idp) = guest_idp(state, user) {
        c.insert("idp".into(), json!(idp));
    }
    c.insert("name".into(), json!(user.display_name));
    c.insert("oid".into(), json!(user.oid));
    if shape.v1 {
        // v1 tokens of guests carry no `upn`, only `unique_name`.
        if !user.guest {
            c.insert("upn".into(), json!(upn));
        }
        c.insert("unique_name".into(), json!(upn));
    } else {
        c.insert("preferred_username".into(), json!(upn));
    }
    c.insert("rh".into(), json!(format!("1.A{}.", random_token(24))));
    let roles = user_roles(user, resource);
    if !roles.is_empty() {
        c.insert("roles".into(), json!(roles));
    }
    c.insert("scp".into(), json!(ctx.scopes.scp.join(" ")));
    c.insert("sub".into(), json!(pairwise_sub(&user.oid, &ctx.client.client_id)));
    insert_groups(state, c, user);
    c.insert("acct".into(), json!(u8::from(user.guest)));
}

fn app_claims(
    state: &EmulatorState,
    c: &mut Map<String, Value>,
    ctx: &TokenContext<'_>,
    resource: Option<&AppConfig>,
    shape: Shape,
) {
    let tid = &ctx.tenant.id;
    if shape.v1 {
        // Entra's v1 app-only tokens carry `idp` equal to `iss`.
        c.insert("idp".into(), json!(state.v1_issuer(tid)));
    }
    c.insert("idtyp".into(), json!("app"));
    let sp = service_principal_id(tid, &ctx.client.client_id);
    c.insert("oid".into(), json!(sp));
    c.insert("rh".into(), json!(format!("1.A{}.", random_token(24))));
    let roles: Vec<String> = resource
        .map(|r| {
            r.app_role_assignments
                .iter()
                .filter(|a| a.client.eq_ignore_ascii_case(&ctx.client.client_id) || a.client == ctx.client.name)
                .flat_map(|a| a.roles.iter().cloned())
                .collect()
        })
        .unwrap_or_default();
    if !roles.is_empty() {
        c.insert("roles".into(), json!(roles));
    }
    c.insert("sub".into(), json!(sp));
}

/// Groups, or past the threshold Entra's overage pointer (and no `groups`).
fn insert_groups(state: &EmulatorState, c: &mut Map<String, Value>, user: &UserConfig) {
    if user.groups.is_empty() {
        return;
    }
    if user.groups.len() > state.config.settings.groups_overage_threshold {
        c.insert("_claim_names".into(), json!({"groups": "src1"}));
        c.insert(
            "_claim_sources".into(),
            json!({"src1": {"endpoint": format!("https://graph.microsoft.com/v1.0/users/{}/getMemberObjects", user.oid)}}),
        );
    } else {
        c.insert("groups".into(), json!(user.groups));
    }
}

/// A guest's `idp`: the v1 issuer of its home tenant (differs from `iss`).
fn guest_idp(state: &EmulatorState, user: &UserConfig) -> Option<String> {
    if !user.guest {
        return None;
    }
    let home = user.home_tenant.as_deref()?;
    let home_id = state.config.tenant(home).map_or(home, |t| t.id.as_str());
    Some(state.v1_issuer(home_id))
}

/// v2 ID token claims: `aud` is the client, `nonce` echoed, no `scp`/`roles`.
pub(crate) fn id_token_claims(
    state: &EmulatorState,
    ctx: &TokenContext<'_>,
    nonce: Option<&str>,
    now: i64,
) -> Option<Value> {
    let Subject::User { user, .. } = ctx.subject else {
        return None;
    };
    let (iat, nbf, exp) = base_times(state, now);
    let tid = &ctx.tenant.id;
    let mut c = Map::new();
    c.insert("aud".into(), json!(ctx.client.client_id));
    let iss = match ctx.policy {
        Some(_) => state.b2c_issuer(tid),
        None => state.v2_issuer(tid),
    };
    c.insert("iss".into(), json!(iss));
    c.insert("iat".into(), json!(iat));
    c.insert("nbf".into(), json!(nbf));
    c.insert("exp".into(), json!(exp));
    if let Some(policy) = ctx.policy {
        c.insert("tfp".into(), json!(policy));
    }
    c.insert("aio".into(), json!(random_token(48)));
    if let Some(idp) = guest_idp(state, user) {
        c.insert("idp".into(), json!(idp));
    }
    if ctx.scopes.profile {
        c.insert("name".into(), json!(user.display_name));
        c.insert("preferred_username".into(), json!(state.config.upn(user)));
    }
    if ctx.scopes.email {
        c.insert("email".into(), json!(state.config.upn(user)));
    }
    if let Some(nonce) = nonce {
        c.insert("nonce".into(), json!(nonce));
    }
    c.insert("oid".into(), json!(user.oid));
    c.insert("rh".into(), json!(format!("1.A{}.", random_token(24))));
    c.insert("sub".into(), json!(pairwise_sub(&user.oid, &ctx.client.client_id)));
    c.insert("tid".into(), json!(tid));
    c.insert("uti".into(), json!(random_token(16)));
    c.insert("ver".into(), json!("2.0"));
    Some(Value::Object(c))
}

/// Signs with the active key, adding `x5t` (v1) or a Graph `nonce` header as Entra does.
pub(crate) fn sign_token(state: &EmulatorState, claims: &Value, shape: Shape) -> Result<String, AadError> {
    let key = state
        .keys
        .read()
        .active()
        .map_err(|_| AadError::server_error("no signing key"))?;
    let mut header = Map::new();
    if shape.graph {
        header.insert("nonce".into(), json!(random_token(32)));
    }
    sign(&key, header, claims, shape.v1).map_err(|_| AadError::server_error("signing failed"))
}

//! Verified claims → [`Principal`].

use serde_json::{Map, Value};
use toolgate_core::{AuthRejection, Groups, Principal, PrincipalKind, RejectReason};

use super::{TokenVersion, VerifiedToken};

fn str_claim(claims: &Map<String, Value>, name: &str) -> Option<String> {
    claims.get(name).and_then(Value::as_str).map(str::to_owned)
}

fn string_list(claims: &Map<String, Value>, name: &str) -> Vec<String> {
    match claims.get(name) {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

pub(super) fn from_verified(token: &VerifiedToken, provider: &str) -> Result<Principal, AuthRejection> {
    let claims = &token.claims;
    let tid = &token.tenant_id;
    let client_app_id = match token.version {
        TokenVersion::V2 => str_claim(claims, "azp").or_else(|| str_claim(claims, "appid")),
        TokenVersion::V1 => str_claim(claims, "appid").or_else(|| str_claim(claims, "azp")),
    };
    let scopes: Vec<String> = str_claim(claims, "scp")
        .map(|scp| scp.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    // App-only tokens have no `scp`; `idtyp = app` marks them reliably when present.
    let app_only = str_claim(claims, "idtyp").as_deref() == Some("app") || !claims.contains_key("scp");
    let object_id = str_claim(claims, "oid");
    let (kind, id) = if app_only {
        let app = client_app_id
            .clone()
            .ok_or_else(|| AuthRejection::new(RejectReason::MissingClaim, "app-only token without azp/appid"))?;
        (PrincipalKind::App, format!("app:{tid}/{app}"))
    } else {
        let oid = object_id
            .clone()
            .ok_or_else(|| AuthRejection::new(RejectReason::MissingClaim, "user token without oid"))?;
        (PrincipalKind::User, format!("user:{tid}/{oid}"))
    };
    Ok(Principal {
        id,
        kind,
        tenant_id: tid.clone(),
        object_id,
        display_name: str_claim(claims, "name"),
        username: str_claim(claims, "preferred_username")
            .or_else(|| str_claim(claims, "upn"))
            .or_else(|| str_claim(claims, "unique_name")),
        roles: string_list(claims, "roles"),
        scopes,
        groups: groups(claims),
        client_app_id,
        guest: is_guest(claims, tid),
        provider: provider.to_owned(),
        expires_at: token.expires_at,
        claims: claims.clone(),
    })
}

/// Over 200 groups, Entra sends `_claim_names: {"groups": "src1"}` with the Graph endpoint in
/// `_claim_sources`, or `hasgroups: true` (implicit flow). Either is an explicit overage.
fn groups(claims: &Map<String, Value>) -> Groups {
    let overage_source = claims
        .get("_claim_names")
        .and_then(|names| names.get("groups"))
        .and_then(Value::as_str)
        .map(|source_name| {
            claims
                .get("_claim_sources")
                .and_then(|sources| sources.get(source_name))
                .and_then(|source| source.get("endpoint"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
    match overage_source {
        Some(source) => Groups::Overage { source },
        None if claims.get("hasgroups").and_then(Value::as_bool) == Some(true) => Groups::Overage { source: None },
        None => Groups::Listed {
            ids: string_list(claims, "groups"),
        },
    }
}

/// Guests: `acct = 1`, or an `idp` outside the token's tenant (members have no `idp`, or one
/// naming their own tenant).
fn is_guest(claims: &Map<String, Value>, tid: &str) -> bool {
    if claims.get("acct").and_then(Value::as_i64) == Some(1) {
        return true;
    }
    claims
        .get("idp")
        .and_then(Value::as_str)
        .is_some_and(|idp| !idp.to_ascii_lowercase().contains(tid))
}

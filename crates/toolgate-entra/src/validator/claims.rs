//! Claim rules on an authentic token: token type, version, time, audience, tenant, issuer.

use serde_json::{Map, Value};
use toolgate_core::{AuthRejection, RejectReason};

use super::{TokenVersion, VerifiedToken};
use crate::key_cache::{AuthoritySnapshot, SigningKey};
use crate::settings::{EntraSettings, TenantPolicy, is_guid};

const TENANT_PLACEHOLDER: &str = "{tenantid}";

pub(super) fn check(
    claims: Map<String, Value>,
    settings: &EntraSettings,
    authority: &AuthoritySnapshot,
    key: &SigningKey,
    now: i64,
) -> Result<VerifiedToken, AuthRejection> {
    reject_id_token(&claims)?;
    let version = version(&claims, settings)?;
    let expires_at = check_time(&claims, settings.leeway.as_secs().try_into().unwrap_or(i64::MAX), now)?;
    check_audience(&claims, settings)?;
    let tenant_id = check_tenant(&claims, settings)?;
    // B2C publishes one issuer per tenant, for tokens of every `ver`.
    let version_for_issuer = if settings.tenants == TenantPolicy::B2c {
        TokenVersion::V2
    } else {
        version
    };
    check_issuer(&claims, version_for_issuer, &tenant_id, authority, key)?;
    Ok(VerifiedToken {
        version,
        tenant_id,
        expires_at,
        claims,
    })
}

fn reject(reason: RejectReason, detail: impl Into<String>) -> AuthRejection {
    AuthRejection::new(reason, detail)
}

fn str_claim<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    claims.get(name).and_then(Value::as_str)
}

/// ID tokens prove a sign-in to a client; they are not access tokens. They carry a `nonce`
/// claim when one was requested, and never `azp`/`appid` (every Entra access token does).
fn reject_id_token(claims: &Map<String, Value>) -> Result<(), AuthRejection> {
    let has_client = claims.contains_key("azp") || claims.contains_key("appid");
    if claims.contains_key("nonce") || !has_client {
        return Err(reject(
            RejectReason::IdToken,
            "an ID token was presented as an access token",
        ));
    }
    Ok(())
}

fn version(claims: &Map<String, Value>, settings: &EntraSettings) -> Result<TokenVersion, AuthRejection> {
    let version = match str_claim(claims, "ver") {
        Some("1.0") => TokenVersion::V1,
        Some("2.0") => TokenVersion::V2,
        other => {
            return Err(reject(
                RejectReason::UnsupportedVersion,
                format!("ver {other:?} is not 1.0 or 2.0"),
            ));
        }
    };
    let accepted = match version {
        TokenVersion::V1 => settings.versions.v1,
        TokenVersion::V2 => settings.versions.v2,
    };
    if !accepted {
        return Err(reject(
            RejectReason::UnsupportedVersion,
            format!("{version:?} tokens are not accepted"),
        ));
    }
    Ok(version)
}

fn int_claim(claims: &Map<String, Value>, name: &str) -> Result<Option<i64>, AuthRejection> {
    match claims.get(name) {
        None => Ok(None),
        Some(value) => value
            .as_i64()
            .or_else(|| value.as_f64().map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| reject(RejectReason::MalformedToken, format!("{name} is not a number"))),
    }
}

/// `exp` is required; `nbf` and `iat` must not be in the future. Leeway absorbs clock skew.
fn check_time(claims: &Map<String, Value>, leeway: i64, now: i64) -> Result<i64, AuthRejection> {
    let exp =
        int_claim(claims, "exp")?.ok_or_else(|| reject(RejectReason::MissingExpiry, "the token has no exp claim"))?;
    if now.saturating_sub(leeway) >= exp {
        return Err(reject(RejectReason::Expired, format!("expired at {exp}, now {now}")));
    }
    if let Some(nbf) = int_claim(claims, "nbf")?
        && nbf > now.saturating_add(leeway)
    {
        return Err(reject(
            RejectReason::NotYetValid,
            format!("not valid before {nbf}, now {now}"),
        ));
    }
    if let Some(iat) = int_claim(claims, "iat")?
        && iat > now.saturating_add(leeway)
    {
        return Err(reject(
            RejectReason::IssuedInFuture,
            format!("issued at {iat}, now {now}"),
        ));
    }
    Ok(exp)
}

fn check_audience(claims: &Map<String, Value>, settings: &EntraSettings) -> Result<(), AuthRejection> {
    let single = |aud: &str| -> Result<(), AuthRejection> {
        if aud.trim_end_matches('/').ends_with("/.default") {
            return Err(reject(
                RejectReason::AudienceIsScope,
                format!("aud {aud} is a scope, not an audience"),
            ));
        }
        if settings.accepts_audience(aud) {
            Ok(())
        } else {
            Err(reject(
                RejectReason::WrongAudience,
                format!("aud {aud} does not name this API"),
            ))
        }
    };
    match claims.get("aud") {
        Some(Value::String(aud)) => single(aud),
        Some(Value::Array(list)) if settings.accept_audience_list => {
            if list.iter().filter_map(Value::as_str).any(|aud| single(aud).is_ok()) {
                Ok(())
            } else {
                Err(reject(RejectReason::WrongAudience, "no aud in the list names this API"))
            }
        }
        Some(Value::Array(_)) => Err(reject(
            RejectReason::AudienceList,
            "list-valued aud refused (strict mode)",
        )),
        _ => Err(reject(RejectReason::WrongAudience, "no aud claim")),
    }
}

fn check_tenant(claims: &Map<String, Value>, settings: &EntraSettings) -> Result<String, AuthRejection> {
    // B2C user flows emit no `tid`: the directory is the configured one, and the exact issuer
    // check that follows proves the token came from it. A `tid` that is present must match.
    if settings.tenants == TenantPolicy::B2c && !claims.contains_key("tid") {
        return Ok(settings.tenant_id.to_ascii_lowercase());
    }
    let tid = str_claim(claims, "tid")
        .filter(|tid| is_guid(tid))
        .ok_or_else(|| reject(RejectReason::BadTenantId, "tid is missing or not a GUID"))?
        .to_ascii_lowercase();
    let allowed = match &settings.tenants {
        TenantPolicy::Single | TenantPolicy::B2c => tid.eq_ignore_ascii_case(&settings.tenant_id),
        TenantPolicy::AllowList(tenants) => tenants.iter().any(|t| t.eq_ignore_ascii_case(&tid)),
        TenantPolicy::AnyTenant => true,
    };
    if !allowed {
        return Err(reject(
            RejectReason::TenantNotAllowed,
            format!("tenant {tid} is not allowed"),
        ));
    }
    Ok(tid)
}

/// The issuer must equal the metadata issuer for the token's version with `{tenantid}` replaced
/// by the token's own `tid` — so a token from tenant A cannot claim tenant B's issuer, and the
/// templated multi-tenant issuer is never compared literally.
fn check_issuer(
    claims: &Map<String, Value>,
    version: TokenVersion,
    tid: &str,
    authority: &AuthoritySnapshot,
    key: &SigningKey,
) -> Result<(), AuthRejection> {
    let template = match version {
        TokenVersion::V1 => authority.v1_issuer.as_deref(),
        TokenVersion::V2 => authority.v2_issuer.as_deref(),
    }
    .ok_or_else(|| {
        reject(
            RejectReason::UnsupportedVersion,
            format!("no issuer known for {version:?} tokens"),
        )
    })?;
    let expected = template.replace(TENANT_PLACEHOLDER, tid);
    let iss = str_claim(claims, "iss").unwrap_or_default();
    if iss != expected {
        return Err(reject(
            RejectReason::WrongIssuer,
            format!("iss {iss} is not {expected}"),
        ));
    }
    // Entra publishes, per key, the issuer it may sign for. Keys come from the v2 endpoint, so
    // the key's issuer is the v2 issuer of the token's tenant, whatever the token version.
    if let Some(key_issuer) = &key.issuer {
        let key_issuer = key_issuer.replace(TENANT_PLACEHOLDER, tid);
        let v2_issuer = authority
            .v2_issuer
            .as_deref()
            .map(|t| t.replace(TENANT_PLACEHOLDER, tid));
        if key_issuer != iss && Some(&key_issuer) != v2_issuer.as_ref() {
            return Err(reject(
                RejectReason::KeyIssuerMismatch,
                format!("key {} signs for {key_issuer}, not {iss}", key.kid),
            ));
        }
    }
    Ok(())
}

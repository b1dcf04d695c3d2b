//! `private_key_jwt` (RFC 7523 §2.2, OIDC Core §9): a client proves itself with a JWT signed by a
//! key from its metadata document. The assertion must name the client as `iss` and `sub`, be meant
//! for this token endpoint, expire within five minutes, and be used once (`jti`).

use std::time::Duration;

use serde_json::Value;
use toolgate_jose::{CompactJws, RsaPublicKey};
use toolgate_store::Namespace;

use crate::client::RegisteredClient;
use crate::crypto::digest_b64;
use crate::proxy::ProxyState;
use crate::web::params::Params;

pub(crate) const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Longest accepted assertion lifetime (and clock skew).
const MAX_LIFETIME_SECONDS: i64 = 300;
/// Assertion ids already used.
const USED_ASSERTIONS: Namespace = Namespace::ASSERTION_JTI;

/// Why an assertion was refused (for the `invalid_client` description and the audit row).
pub(crate) enum AssertionError {
    Refused(&'static str),
    Store(toolgate_store::StoreError),
}

/// The `sub` of an unverified assertion: which client to look up when `client_id` is absent.
pub(crate) fn claimed_client(params: &Params) -> Option<String> {
    let assertion = params.get("client_assertion")?;
    let jws = CompactJws::parse(assertion).ok()?;
    jws.payload.get("sub").and_then(Value::as_str).map(str::to_owned)
}

pub(crate) async fn verify(
    state: &ProxyState,
    client: &RegisteredClient,
    params: &Params,
) -> Result<(), AssertionError> {
    use AssertionError::Refused;
    if params.get("client_assertion_type") != Some(ASSERTION_TYPE) {
        return Err(Refused("client_assertion_type must be jwt-bearer"));
    }
    let assertion = params
        .get("client_assertion")
        .ok_or(Refused("client_assertion is required"))?;
    let jws = CompactJws::parse(assertion).map_err(|_| Refused("client_assertion is not a JWS"))?;
    if jws.header_str("alg") != Some("RS256") {
        return Err(Refused("client_assertion must be signed with RS256"));
    }
    let keys = client.jwks.as_ref().ok_or(Refused("the client has no keys"))?;
    let kid = jws.header_str("kid");
    let verified = keys
        .keys
        .iter()
        .filter(|key| key.kty == "RSA" && (kid.is_none() || key.kid.as_deref() == kid))
        .filter_map(|key| RsaPublicKey::from_jwk(key).ok())
        .any(|key| key.verify_rs256(jws.signing_input.as_bytes(), &jws.signature).is_ok());
    if !verified {
        return Err(Refused(
            "client_assertion signature does not verify with the client's keys",
        ));
    }
    let claims = &jws.payload;
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let client_id = client.client_id.as_str();
    if text("iss") != Some(client_id) || text("sub") != Some(client_id) {
        return Err(Refused("client_assertion iss and sub must be the client id"));
    }
    let token_endpoint = format!("{}/token", state.config.issuer);
    let audience_ok = match claims.get("aud") {
        Some(Value::String(aud)) => *aud == token_endpoint || *aud == state.config.issuer,
        Some(Value::Array(auds)) => auds
            .iter()
            .filter_map(Value::as_str)
            .any(|aud| aud == token_endpoint || aud == state.config.issuer),
        _ => false,
    };
    if !audience_ok {
        return Err(Refused("client_assertion aud must be this token endpoint"));
    }
    let now = state.clock.now_unix();
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or(Refused("client_assertion has no exp"))?;
    if exp <= now || exp > now + MAX_LIFETIME_SECONDS {
        return Err(Refused("client_assertion is expired or lives longer than five minutes"));
    }
    let jti = text("jti").ok_or(Refused("client_assertion has no jti"))?;
    let ttl = Duration::from_secs(u64::try_from(exp - now + MAX_LIFETIME_SECONDS).unwrap_or(600));
    let first_use = state
        .grants
        .store()
        .put_new(USED_ASSERTIONS, &digest_b64(&format!("{client_id}\n{jti}")), b"1", ttl)
        .await
        .map_err(AssertionError::Store)?;
    if !first_use {
        return Err(Refused("client_assertion was already used"));
    }
    Ok(())
}

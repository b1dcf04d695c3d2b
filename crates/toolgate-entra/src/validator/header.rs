//! JOSE header rules, applied before any key is looked up.

use toolgate_core::{AuthRejection, RejectReason};
use toolgate_jose::CompactJws;

use crate::key_cache::SigningKey;

/// Returns the `kid` to look up.
pub(super) fn check(jws: &CompactJws) -> Result<&str, AuthRejection> {
    // Graph tokens carry a `nonce` in the header and are signed over a hash of it: third parties
    // cannot validate them and must not try. They are simply not issued for this API.
    if jws.header.contains_key("nonce") {
        return Err(AuthRejection::new(
            RejectReason::GraphToken,
            "token carries a header nonce (a Microsoft Graph token), not issued for this API",
        ));
    }
    // Only RS256: refusing everything else closes `none` and HS256 key-confusion attacks.
    match jws.header_str("alg") {
        Some("RS256") => {}
        other => {
            return Err(AuthRejection::new(
                RejectReason::UnsupportedAlgorithm,
                format!("alg {} is not accepted (RS256 only)", other.unwrap_or("<missing>")),
            ));
        }
    }
    // RFC 7515 §4.1.11: a recipient must reject critical extensions it does not understand,
    // and we understand none.
    if jws.header.contains_key("crit") {
        return Err(AuthRejection::new(
            RejectReason::UnsupportedCriticalHeader,
            "crit header present",
        ));
    }
    jws.header_str("kid")
        .filter(|kid| !kid.is_empty())
        .ok_or_else(|| AuthRejection::new(RejectReason::MissingKeyId, "no kid in the token header"))
}

/// v1 tokens also name the key by `x5t`; when both sides have one they must agree.
pub(super) fn check_thumbprint(jws: &CompactJws, key: &SigningKey) -> Result<(), AuthRejection> {
    match (jws.header_str("x5t"), key.x5t.as_deref()) {
        (Some(token_x5t), Some(key_x5t)) if token_x5t != key_x5t => Err(AuthRejection::new(
            RejectReason::UnknownSigningKey,
            format!("x5t does not match the key with kid {}", key.kid),
        )),
        _ => Ok(()),
    }
}

//! The claims of the bearer token an upstream received, decoded without verification.
//!
//! A JWT (RFC 7519) in compact JWS form is `base64url(header).base64url(payload).signature`
//! (RFC 7515 §7.1); the payload is a JSON object of claims. The fixture only reads it: the
//! gateway's tests need to know *which* token arrived (whose `oid`, for which `aud`), not whether
//! its signature is valid.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use http::HeaderMap;
use serde_json::{Map, Value};

/// Longest token the fixture decodes, in bytes (Entra access tokens are a few KiB).
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The claims `whoami` reports: who (`oid`, `sub`, `tid`), for what (`aud`, `scp` for delegated tokens,
/// `roles` for app tokens), from whom (`iss`, `azp`/`appid` = the calling client, `idtyp`).
pub const WHOAMI_CLAIMS: [&str; 10] = [
    "oid", "aud", "tid", "scp", "iss", "sub", "roles", "azp", "appid", "idtyp",
];

/// base64url (RFC 4648 §5); JWTs omit padding, but a padded segment is accepted too.
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why a bearer token's claims could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ClaimsError {
    #[error("no `Authorization: Bearer` token in the request")]
    NoBearerToken,
    #[error("the bearer token is longer than {MAX_TOKEN_BYTES} bytes")]
    TooLong,
    #[error("the bearer token is not a compact JWT (three dot-separated parts)")]
    NotCompactJwt,
    #[error("the JWT payload is not base64url: {0}")]
    Base64(String),
    #[error("the JWT payload is not a JSON object")]
    NotAnObject,
}

/// The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1; the scheme is
/// case-insensitive), if there is exactly one such header.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let mut values = headers.get_all(http::header::AUTHORIZATION).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    let (scheme, token) = value.to_str().ok()?.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Decodes the payload of a compact JWT into its claims object, without checking the signature.
///
/// Errors: [`ClaimsError::TooLong`] over [`MAX_TOKEN_BYTES`], [`ClaimsError::NotCompactJwt`] unless
/// there are exactly three parts, [`ClaimsError::Base64`] / [`ClaimsError::NotAnObject`] for a payload
/// that is not base64url-encoded JSON object.
pub fn decode_claims(token: &str) -> Result<Map<String, Value>, ClaimsError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(ClaimsError::TooLong);
    }
    let mut parts = token.split('.');
    let (Some(_header), Some(payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ClaimsError::NotCompactJwt);
    };
    let bytes = BASE64URL
        .decode(payload)
        .map_err(|e| ClaimsError::Base64(e.to_string()))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(claims)) => Ok(claims),
        _ => Err(ClaimsError::NotAnObject),
    }
}

/// The claims of the request's bearer token.
pub fn request_claims(headers: &HeaderMap) -> Result<Map<String, Value>, ClaimsError> {
    decode_claims(bearer_token(headers).ok_or(ClaimsError::NoBearerToken)?)
}

/// An object with every claim of [`WHOAMI_CLAIMS`] (`{"oid":…,"aud":…,…}`); a missing claim is `null`.
pub fn whoami(claims: &Map<String, Value>) -> Value {
    Value::Object(
        WHOAMI_CLAIMS
            .iter()
            .map(|name| ((*name).to_owned(), claims.get(*name).cloned().unwrap_or(Value::Null)))
            .collect(),
    )
}

/// Whether the claims' `aud` is `audience`: the string itself, or an array containing it
/// (RFC 7519 §4.1.3).
pub fn audience_matches(claims: &Map<String, Value>, audience: &str) -> bool {
    match claims.get("aud") {
        Some(Value::String(aud)) => aud == audience,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(audience)),
        _ => false,
    }
}

/// An unsigned compact JWT (`alg: none`, empty signature) carrying `claims` — for tests that need a
/// token whose payload they choose.
pub fn unsigned_jwt(claims: &Value) -> String {
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.",
        engine.encode(br#"{"alg":"none","typ":"JWT"}"#),
        engine.encode(claims.to_string())
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(http::header::AUTHORIZATION, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn decodes_the_claims_whoami_reports() {
        let token = unsigned_jwt(
            &json!({"oid": "u-1", "aud": "api://up", "tid": "t-1", "scp": "a b", "iss": "https://i", "x": 1}),
        );
        let claims = request_claims(&headers(&[&format!("Bearer {token}")])).unwrap();
        assert_eq!(
            whoami(&claims),
            json!({"oid": "u-1", "aud": "api://up", "tid": "t-1", "scp": "a b", "iss": "https://i",
                   "sub": null, "roles": null, "azp": null, "appid": null, "idtyp": null})
        );
        let app = unsigned_jwt(&json!({"oid": "sp-1", "roles": ["Tickets.Read"], "idtyp": "app", "azp": "c-1"}));
        let shown = whoami(&decode_claims(&app).unwrap());
        assert_eq!(shown["roles"], json!(["Tickets.Read"]));
        assert_eq!(
            (&shown["idtyp"], &shown["azp"], &shown["scp"]),
            (&json!("app"), &json!("c-1"), &Value::Null)
        );
    }

    #[test]
    fn padded_payloads_and_lowercase_scheme_are_accepted() {
        let payload = base64::engine::general_purpose::URL_SAFE.encode(br#"{"oid":"p"}"#);
        assert!(payload.ends_with('='), "the fixture payload needs padding: {payload}");
        let claims = request_claims(&headers(&[&format!("bearer h.{payload}.s")])).unwrap();
        assert_eq!(claims["oid"], "p");
    }

    #[test]
    fn bad_tokens_get_a_clear_error() {
        assert_eq!(request_claims(&HeaderMap::new()), Err(ClaimsError::NoBearerToken));
        assert_eq!(
            request_claims(&headers(&["Basic dXNlcjpwdw=="])),
            Err(ClaimsError::NoBearerToken)
        );
        assert_eq!(request_claims(&headers(&["Bearer "])), Err(ClaimsError::NoBearerToken));
        assert_eq!(
            request_claims(&headers(&["Bearer a.b.c", "Bearer d.e.f"])),
            Err(ClaimsError::NoBearerToken)
        );
        assert_eq!(decode_claims("opaque-token"), Err(ClaimsError::NotCompactJwt));
        assert_eq!(decode_claims("a.b.c.d"), Err(ClaimsError::NotCompactJwt));
        assert!(matches!(decode_claims("a.!!!.c"), Err(ClaimsError::Base64(_))));
        let array = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b"[1]");
        assert_eq!(decode_claims(&format!("a.{array}.c")), Err(ClaimsError::NotAnObject));
        assert_eq!(
            decode_claims(&"a".repeat(MAX_TOKEN_BYTES + 1)),
            Err(ClaimsError::TooLong)
        );
    }

    #[test]
    fn audience_is_a_string_or_an_array_member() {
        let one = decode_claims(&unsigned_jwt(&json!({"aud": "api://a"}))).unwrap();
        let many = decode_claims(&unsigned_jwt(&json!({"aud": ["api://b", "api://a"]}))).unwrap();
        let none = decode_claims(&unsigned_jwt(&json!({"sub": "x"}))).unwrap();
        assert!(audience_matches(&one, "api://a"));
        assert!(!audience_matches(&one, "api://b"));
        assert!(audience_matches(&many, "api://a"));
        assert!(!audience_matches(&many, "api://c"));
        assert!(!audience_matches(&none, "api://a"));
    }
}

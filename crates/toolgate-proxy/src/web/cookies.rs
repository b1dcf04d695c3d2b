//! Signed `__Host-` cookies: `Secure`, `HttpOnly`, `SameSite=Lax`, `Path=/`, no `Domain`, so no
//! sibling subdomain can set or read them. The value carries an HMAC over the cookie's name and
//! purpose, so a value cannot be forged or moved to another cookie.
//!
//! Browsers accept `Secure` cookies from `http://localhost`/`127.0.0.1` (loopback is a secure
//! context), which is how `toolgate dev` works without TLS.

use std::time::Duration;

use aws_lc_rs::hmac;
use http::HeaderMap;

use crate::crypto::digest_b64;

/// The browser-binding cookie for a transaction: set at `/authorize`, checked at the callback
/// and at the consent POST. Named per transaction so parallel sign-ins do not overwrite each other.
pub(crate) fn binding_name(transaction_id: &str) -> String {
    format!("__Host-toolgate-tx-{}", short_digest(transaction_id))
}

/// The CSRF cookie for a pending consent (double submit: the form carries the same token).
pub(crate) fn csrf_name(consent_id: &str) -> String {
    format!("__Host-toolgate-csrf-{}", short_digest(consent_id))
}

/// The first 16 characters (96 bits) of the value's SHA-256 digest, base64url.
fn short_digest(value: &str) -> String {
    digest_b64(value).chars().take(16).collect()
}

/// `name=value.mac` with the cookie attributes.
pub(crate) fn set(key: &hmac::Key, name: &str, value: &str, max_age: Duration) -> String {
    format!(
        "{name}={value}.{}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={}",
        mac(key, name, value),
        max_age.as_secs()
    )
}

/// Expires a cookie.
pub(crate) fn clear(name: &str) -> String {
    format!("{name}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// The verified value of cookie `name`, if present with a valid MAC.
pub(crate) fn read(key: &hmac::Key, headers: &HeaderMap, name: &str) -> Option<String> {
    let raw = headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)?;
    let (value, tag) = raw.rsplit_once('.')?;
    let tag = toolgate_jose::base64url_decode(tag).ok()?;
    hmac::verify(key, &signed_input(name, value), &tag).ok()?;
    Some(value.to_owned())
}

fn mac(key: &hmac::Key, name: &str, value: &str) -> String {
    toolgate_jose::base64url_encode(hmac::sign(key, &signed_input(name, value)))
}

fn signed_input(name: &str, value: &str) -> Vec<u8> {
    format!("{name}\n{value}").into_bytes()
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn signed_cookies_round_trip_and_resist_tampering() {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &[1u8; 32]);
        let other = hmac::Key::new(hmac::HMAC_SHA256, &[2u8; 32]);
        let name = binding_name("tx-1");
        assert!(name.starts_with("__Host-"));
        let header = set(&key, &name, "nonce", Duration::from_secs(600));
        assert!(header.contains("Secure; HttpOnly; SameSite=Lax") && header.contains("Path=/"));
        assert!(!header.contains("Domain"));
        let pair = header.split(';').next().unwrap().to_owned();
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::COOKIE,
            HeaderValue::from_str(&format!("a=b; {pair}")).unwrap(),
        );
        assert_eq!(read(&key, &headers, &name).as_deref(), Some("nonce"));
        assert_eq!(read(&other, &headers, &name), None, "other key");
        assert_eq!(read(&key, &headers, &binding_name("tx-2")), None, "other cookie");
        let forged = pair.replace("nonce.", "nonce2.");
        headers.insert(http::header::COOKIE, HeaderValue::from_str(&forged).unwrap());
        assert_eq!(read(&key, &headers, &name), None, "tampered value");
    }
}

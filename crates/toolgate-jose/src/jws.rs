//! Compact JWS: split into its three parts, decode the header and payload, and sign.

use serde_json::{Map, Value};

use crate::base64url;
use crate::rsa_key::RsaSigningKey;

/// Why a compact JWS could not even be parsed (before any key or claim is looked at).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum JwsError {
    #[error("a compact JWS has exactly three dot-separated parts")]
    NotThreeParts,
    #[error("the {part} is not valid unpadded base64url")]
    BadBase64 { part: &'static str },
    #[error("the {part} is not a JSON object")]
    NotJsonObject { part: &'static str },
    #[error("the token could not be signed")]
    SigningFailed,
}

/// A compact JWS split into its parts; nothing about it is trusted yet.
#[derive(Debug, Clone)]
pub struct CompactJws {
    /// The raw JOSE header, every member kept (`crit`, `nonce`, `x5t` included).
    pub header: Map<String, Value>,
    /// The payload parsed as a JSON object. Claims are not verified by parsing.
    pub payload: Map<String, Value>,
    /// `base64url(header) "." base64url(payload)`: the bytes the signature covers.
    pub signing_input: String,
    pub signature: Vec<u8>,
}

impl CompactJws {
    /// Splits and decodes a compact JWS. Cheap, allocation-light, and never panics on input.
    pub fn parse(token: &str) -> Result<Self, JwsError> {
        let mut parts = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwsError::NotThreeParts);
        };
        let header = decode_object(header_b64, "header")?;
        let payload = decode_object(payload_b64, "payload")?;
        let signature = base64url::decode(signature_b64).map_err(|_| JwsError::BadBase64 { part: "signature" })?;
        let signing_input_len = header_b64.len() + 1 + payload_b64.len();
        Ok(Self {
            header,
            payload,
            signing_input: token[..signing_input_len].to_owned(),
            signature,
        })
    }

    /// A header member as a string, if it is one.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header.get(name).and_then(Value::as_str)
    }
}

fn decode_object(b64: &str, part: &'static str) -> Result<Map<String, Value>, JwsError> {
    let bytes = base64url::decode(b64).map_err(|_| JwsError::BadBase64 { part })?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(JwsError::NotJsonObject { part }),
    }
}

/// Signs `payload` with `key` as a compact RS256 JWS. `header` is completed with `alg`,
/// `typ` (unless given) and `kid`; callers add `x5t`, `nonce` and so on.
pub fn encode_compact(
    mut header: Map<String, Value>,
    payload: &Value,
    key: &RsaSigningKey,
) -> Result<String, JwsError> {
    header.insert("alg".into(), Value::from("RS256"));
    header.entry("typ").or_insert_with(|| Value::from("JWT"));
    header.insert("kid".into(), Value::from(key.kid()));
    let header_json = serde_json::to_vec(&header).map_err(|_| JwsError::SigningFailed)?;
    let payload_json = serde_json::to_vec(payload).map_err(|_| JwsError::SigningFailed)?;
    let signing_input = format!("{}.{}", base64url::encode(header_json), base64url::encode(payload_json));
    let signature = key
        .sign_rs256(signing_input.as_bytes())
        .map_err(|_| JwsError::SigningFailed)?;
    Ok(format!("{signing_input}.{}", base64url::encode(signature)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_malformed_compact_forms() {
        assert_eq!(CompactJws::parse("a.b").unwrap_err(), JwsError::NotThreeParts);
        assert_eq!(CompactJws::parse("a.b.c.d").unwrap_err(), JwsError::NotThreeParts);
        assert_eq!(
            CompactJws::parse("!!.e30.").unwrap_err(),
            JwsError::BadBase64 { part: "header" }
        );
        // "W10" is `[]`: valid JSON, but not an object.
        assert_eq!(
            CompactJws::parse("W10.e30.").unwrap_err(),
            JwsError::NotJsonObject { part: "header" }
        );
    }

    #[test]
    fn signs_and_verifies_round_trip_and_detects_tampering() {
        let key = RsaSigningKey::generate("k1").unwrap();
        let token = encode_compact(Map::new(), &serde_json::json!({"sub": "x"}), &key).unwrap();
        let jws = CompactJws::parse(&token).unwrap();
        assert_eq!(jws.header_str("kid"), Some("k1"));
        assert_eq!(jws.header_str("alg"), Some("RS256"));
        let public = key.public_key();
        assert!(
            public
                .verify_rs256(jws.signing_input.as_bytes(), &jws.signature)
                .is_ok()
        );
        let mut tampered = jws.signing_input.clone();
        tampered.push('x');
        assert!(public.verify_rs256(tampered.as_bytes(), &jws.signature).is_err());
        let other = RsaSigningKey::generate("k2").unwrap().public_key();
        assert!(
            other
                .verify_rs256(jws.signing_input.as_bytes(), &jws.signature)
                .is_err()
        );
    }
}

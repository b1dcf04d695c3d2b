//! The argument digest: lets an auditor prove which arguments a call had without storing them.
//! It is computed over canonical JSON so that two clients sending the same arguments with keys in
//! a different order get the same digest.

use std::fmt::Write as _;

use aws_lc_rs::digest::{SHA256, digest};
use serde_json::Value;

/// SHA-256 (lowercase hex) of [`canonical_json`] of `arguments`.
pub fn argument_digest(arguments: &Value) -> String {
    let canonical = canonical_json(arguments);
    let hash = digest(&SHA256, canonical.as_bytes());
    hash.as_ref().iter().fold(String::with_capacity(64), |mut hex, byte| {
        // Writing to a String cannot fail.
        let _ = write!(hex, "{byte:02x}");
        hex
    })
}

/// JSON with object keys sorted (recursively, by UTF-8 bytes), no whitespace, and strings and
/// numbers exactly as serde_json prints them.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(item, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        // Scalars: serde_json's compact printing is the canonical form.
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_does_not_change_the_digest() {
        let a: Value = serde_json::from_str(r#"{"b": 1, "a": {"y": [1, {"d": 2, "c": 3}], "x": "s"}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"a":{"x":"s","y":[1,{"c":3,"d":2}]},"b":1}"#).unwrap();
        assert_eq!(argument_digest(&a), argument_digest(&b));
        assert_eq!(canonical_json(&a), r#"{"a":{"x":"s","y":[1,{"c":3,"d":2}]},"b":1}"#);
    }

    #[test]
    fn digest_is_sha256_hex_of_the_canonical_text() {
        // sha256 of "{}"
        assert_eq!(
            argument_digest(&json!({})),
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        assert_ne!(argument_digest(&json!({"a": 1})), argument_digest(&json!({"a": 2})));
        assert_eq!(argument_digest(&json!({"a": 1})).len(), 64);
    }

    #[test]
    fn strings_are_escaped_like_serde_json() {
        assert_eq!(canonical_json(&json!({"k\"": "v\n"})), r#"{"k\"":"v\n"}"#);
    }
}

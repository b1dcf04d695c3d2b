//! What of a tool call's arguments reaches the audit table. Off by default: arguments may hold
//! personal data or secrets, and the digest already proves which arguments were used.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The text that replaces a redacted value.
const REDACTED: &str = "[redacted]";

/// How much of the arguments to store in the `arguments` column.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum ArgumentCapture {
    /// Store nothing (only the digest).
    #[default]
    None,
    /// Store the arguments with the value of every key named in `fields` (case-insensitive, at
    /// any depth) replaced by `"[redacted]"`.
    Redacted { fields: Vec<String> },
    /// Store the arguments as received.
    Full,
}

/// The arguments as `mode` allows them to be stored; `None` when nothing is to be stored.
pub fn capture(arguments: &Value, mode: &ArgumentCapture) -> Option<Value> {
    match mode {
        ArgumentCapture::None => None,
        ArgumentCapture::Full => Some(arguments.clone()),
        ArgumentCapture::Redacted { fields } => {
            let fields: Vec<String> = fields.iter().map(|f| f.to_lowercase()).collect();
            Some(redact(arguments, &fields))
        }
    }
}

fn redact(value: &Value, fields: &[String]) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, item)| {
                    let lowered = key.to_lowercase();
                    if fields.contains(&lowered) {
                        (key.clone(), Value::String(REDACTED.to_owned()))
                    } else {
                        (key.clone(), redact(item, fields))
                    }
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|i| redact(i, fields)).collect()),
        scalar => scalar.clone(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn none_stores_nothing_and_full_stores_everything() {
        let args = json!({"password": "x"});
        assert_eq!(capture(&args, &ArgumentCapture::None), None);
        assert_eq!(capture(&args, &ArgumentCapture::Full), Some(args.clone()));
        assert_eq!(ArgumentCapture::default(), ArgumentCapture::None);
    }

    #[test]
    fn redaction_matches_keys_case_insensitively_at_any_depth() {
        let args = json!({
            "Password": "hunter2",
            "query": "select 1",
            "nested": {"TOKEN": {"deep": 1}, "keep": [{"password": "p", "x": 1}]}
        });
        let mode = ArgumentCapture::Redacted {
            fields: vec!["password".into(), "Token".into()],
        };
        assert_eq!(
            capture(&args, &mode),
            Some(json!({
                "Password": "[redacted]",
                "query": "select 1",
                "nested": {"TOKEN": "[redacted]", "keep": [{"password": "[redacted]", "x": 1}]}
            }))
        );
    }

    #[test]
    fn capture_mode_deserializes_from_config() {
        let mode: ArgumentCapture = serde_json::from_value(json!({"mode": "redacted", "fields": ["secret"]})).unwrap();
        assert_eq!(
            mode,
            ArgumentCapture::Redacted {
                fields: vec!["secret".into()]
            }
        );
        let mode: ArgumentCapture = serde_json::from_value(json!({"mode": "full"})).unwrap();
        assert_eq!(mode, ArgumentCapture::Full);
    }
}

//! The typing of a tool's arguments: JSON Schema → Cedar type, used twice with one mapping —
//! to write the schema and to convert each call's arguments into `context.input`.
//!
//! Supported: `string` (with or without `enum`) → `String`, `integer` → `Long`, `boolean` →
//! `Bool`, `array` of a supported type → `Set<…>`, `object` with `properties` → record (fields
//! not in `required` are optional). Anything else (`number`, `null`, `anyOf`/`oneOf`, type
//! arrays, free-form objects) is left out, so a policy that mentions it fails strict validation
//! instead of silently never matching.

use cedar_policy::RestrictedExpression;
use serde_json::Value;

use crate::names::attr_name;

/// A Cedar type that a JSON argument can be converted into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputType {
    String,
    Long,
    Bool,
    Set(Box<InputType>),
    Record(Vec<InputAttr>),
}

/// One field of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputAttr {
    pub name: String,
    pub required: bool,
    pub ty: InputType,
}

impl InputType {
    /// The record type of a tool's whole input. A schema that is not an object, or has no
    /// properties, gives an empty record. `omitted` collects the paths of untyped fields.
    pub fn from_tool_schema(schema: &Value, omitted: &mut Vec<String>) -> InputType {
        record_from(schema, "", omitted).unwrap_or(InputType::Record(Vec::new()))
    }

    /// Cedar schema syntax for this type.
    pub fn to_cedar(&self) -> String {
        let mut out = String::new();
        self.write_cedar(&mut out);
        out
    }

    fn write_cedar(&self, out: &mut String) {
        match self {
            InputType::String => out.push_str("String"),
            InputType::Long => out.push_str("Long"),
            InputType::Bool => out.push_str("Bool"),
            InputType::Set(item) => {
                out.push_str("Set<");
                item.write_cedar(out);
                out.push('>');
            }
            InputType::Record(attrs) => {
                if attrs.is_empty() {
                    out.push_str("{}");
                    return;
                }
                out.push_str("{ ");
                for (i, a) in attrs.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(&attr_name(&a.name));
                    if !a.required {
                        out.push('?');
                    }
                    out.push_str(": ");
                    a.ty.write_cedar(out);
                }
                out.push_str(" }");
            }
        }
    }

    /// Converts a JSON value of this type. Unknown record fields are dropped; a JSON `null` in
    /// an optional field counts as absent. The error names the path (`priority: expected …`).
    pub fn convert(&self, value: &Value) -> Result<RestrictedExpression, String> {
        self.convert_at(value, "")
    }

    fn convert_at(&self, value: &Value, path: &str) -> Result<RestrictedExpression, String> {
        let here = || if path.is_empty() { "arguments" } else { path };
        match (self, value) {
            (InputType::String, Value::String(s)) => Ok(RestrictedExpression::new_string(s.clone())),
            (InputType::Long, Value::Number(n)) => n
                .as_i64()
                .map(RestrictedExpression::new_long)
                .ok_or_else(|| format!("{}: expected an integer, got {n}", here())),
            (InputType::Bool, Value::Bool(b)) => Ok(RestrictedExpression::new_bool(*b)),
            (InputType::Set(item), Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, v) in items.iter().enumerate() {
                    out.push(item.convert_at(v, &format!("{}[{i}]", here()))?);
                }
                Ok(RestrictedExpression::new_set(out))
            }
            (InputType::Record(attrs), Value::Object(map)) => {
                let mut fields = Vec::with_capacity(attrs.len());
                for a in attrs {
                    let child = if path.is_empty() {
                        a.name.clone()
                    } else {
                        format!("{path}.{}", a.name)
                    };
                    match map.get(&a.name) {
                        Some(Value::Null) | None if !a.required => {}
                        Some(v) => fields.push((a.name.clone(), a.ty.convert_at(v, &child)?)),
                        None => return Err(format!("{child}: required but missing")),
                    }
                }
                RestrictedExpression::new_record(fields).map_err(|e| format!("{}: {e}", here()))
            }
            (expected, got) => Err(format!(
                "{}: expected {}, got {}",
                here(),
                expected.describe(),
                json_kind(got)
            )),
        }
    }

    fn describe(&self) -> &'static str {
        match self {
            InputType::String => "a string",
            InputType::Long => "an integer",
            InputType::Bool => "a boolean",
            InputType::Set(_) => "an array",
            InputType::Record(_) => "an object",
        }
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A record from an object schema's `properties`; `None` when there are none.
fn record_from(schema: &Value, path: &str, omitted: &mut Vec<String>) -> Option<InputType> {
    let props = schema.get("properties")?.as_object()?;
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut attrs = Vec::with_capacity(props.len());
    for (name, sub) in props {
        let child = if path.is_empty() {
            name.clone()
        } else {
            format!("{path}.{name}")
        };
        match type_of(sub, &child, omitted) {
            Some(ty) => attrs.push(InputAttr {
                name: name.clone(),
                required: required.contains(&name.as_str()),
                ty,
            }),
            None => omitted.push(child),
        }
    }
    // Sorted: serde_json's key order depends on a feature other crates may switch on, and the
    // schema text (and so the policy-set hash) must not.
    attrs.sort_by(|a, b| a.name.cmp(&b.name));
    Some(InputType::Record(attrs))
}

fn type_of(schema: &Value, path: &str, omitted: &mut Vec<String>) -> Option<InputType> {
    // `anyOf`/`oneOf`/`allOf` may sit beside a `type`; we cannot type a union soundly.
    if ["anyOf", "oneOf", "allOf", "not"]
        .iter()
        .any(|k| schema.get(k).is_some())
    {
        return None;
    }
    match schema.get("type")?.as_str()? {
        "string" => Some(InputType::String),
        "integer" => Some(InputType::Long),
        "boolean" => Some(InputType::Bool),
        "array" => {
            let items = schema.get("items")?;
            let item = type_of(items, &format!("{path}[]"), omitted)?;
            Some(InputType::Set(Box::new(item)))
        }
        "object" => record_from(schema, path, omitted),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn maps_supported_types_and_omits_the_rest() {
        let schema = json!({
            "type": "object",
            "properties": {
                "title": {"type": "string"},
                "level": {"type": "string", "enum": ["a", "b"]},
                "n": {"type": "integer"},
                "flag": {"type": "boolean"},
                "labels": {"type": "array", "items": {"type": "string"}},
                "ratio": {"type": "number"},
                "maybe": {"type": ["string", "null"]},
                "either": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                "free": {"type": "object"},
                "nested": {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}
            },
            "required": ["title", "ratio"]
        });
        let mut omitted = Vec::new();
        let ty = InputType::from_tool_schema(&schema, &mut omitted);
        omitted.sort();
        assert_eq!(
            ty.to_cedar(),
            "{ flag?: Bool, labels?: Set<String>, level?: String, n?: Long, nested?: { x: Long }, title: String }"
        );
        omitted.sort();
        assert_eq!(omitted, ["either", "free", "maybe", "ratio"]);
    }

    #[test]
    fn converts_and_reports_mismatches() {
        let schema = json!({"type": "object", "properties": {
            "title": {"type": "string"}, "priority": {"type": "integer"}}, "required": ["title"]});
        let ty = InputType::from_tool_schema(&schema, &mut Vec::new());
        assert!(ty.convert(&json!({"title": "x", "priority": 3, "extra": 1})).is_ok());
        assert!(ty.convert(&json!({"title": "x", "priority": null})).is_ok());
        let e = ty.convert(&json!({"title": "x", "priority": "high"})).err();
        assert_eq!(e.as_deref(), Some("priority: expected an integer, got a string"));
        let e = ty.convert(&json!({"priority": 1})).err();
        assert_eq!(e.as_deref(), Some("title: required but missing"));
        let e = ty.convert(&json!({"title": "x", "priority": 2.5})).err();
        assert_eq!(e.as_deref(), Some("priority: expected an integer, got 2.5"));
        assert!(ty.convert(&json!([1])).is_err());
    }
}

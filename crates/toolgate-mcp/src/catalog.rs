//! rmcp tools → [`ToolDescriptor`]s, the catalog policies are written against.

use std::collections::HashMap;

use rmcp::model::Tool;
use serde_json::Value;
use toolgate_core::{ToolAnnotations, ToolDescriptor};

/// Tags per tool name from configuration; merged with tags the tool declares in
/// `_meta.tags` (an array of strings).
pub type ToolTags = HashMap<String, Vec<String>>;

pub fn descriptor_of(tool: &Tool, configured_tags: &ToolTags) -> ToolDescriptor {
    let mut tags: Vec<String> = configured_tags.get(tool.name.as_ref()).cloned().unwrap_or_default();
    if let Some(Value::Array(meta_tags)) = tool.meta.as_ref().and_then(|meta| meta.get("tags")) {
        for tag in meta_tags.iter().filter_map(Value::as_str) {
            if !tags.iter().any(|t| t == tag) {
                tags.push(tag.to_owned());
            }
        }
    }
    let annotations = tool
        .annotations
        .as_ref()
        .map(|a| ToolAnnotations {
            read_only: a.read_only_hint,
            destructive: a.destructive_hint,
            idempotent: a.idempotent_hint,
            open_world: a.open_world_hint,
        })
        .unwrap_or_default();
    ToolDescriptor {
        name: tool.name.to_string(),
        description: tool.description.as_ref().map(|d| d.to_string()),
        input_schema: normalize_schema(&Value::Object((*tool.input_schema).clone())),
        annotations,
        tags,
        server: None,
    }
}

/// Rewrites a tool's input schema into the plain shape policies are typed from:
/// local `$ref`s (schemars puts enums and nested structs in `$defs`) are inlined, and
/// nullable forms (`"type": ["integer", "null"]`, `anyOf: [X, {"type": "null"}]`, which
/// schemars emits for `Option<T>`) become `X` — optionality is already expressed by `required`.
pub fn normalize_schema(schema: &Value) -> Value {
    let definitions = schema
        .get("$defs")
        .or_else(|| schema.get("definitions"))
        .cloned()
        .unwrap_or(Value::Null);
    let mut normalized = normalize(schema, &definitions, 0);
    if let Value::Object(map) = &mut normalized {
        map.remove("$defs");
        map.remove("definitions");
        map.remove("$schema");
    }
    normalized
}

/// Deep enough for any real tool; stops reference cycles.
const MAX_DEPTH: usize = 16;

fn normalize(value: &Value, definitions: &Value, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return Value::Object(Default::default());
    }
    let Value::Object(map) = value else {
        return value.clone();
    };
    if let Some(target) = map.get("$ref").and_then(Value::as_str) {
        let name = target.rsplit('/').next().unwrap_or_default();
        return match definitions.get(name) {
            Some(definition) => normalize(definition, definitions, depth + 1),
            None => Value::Object(Default::default()),
        };
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(options)) = map.get(key) {
            let non_null: Vec<&Value> = options
                .iter()
                .filter(|o| o.get("type") != Some(&Value::from("null")))
                .collect();
            if let ([only], 2) = (non_null.as_slice(), options.len()) {
                let mut merged = normalize(only, definitions, depth + 1);
                if let (Value::Object(target), Some(description)) = (&mut merged, map.get("description")) {
                    target.entry("description").or_insert_with(|| description.clone());
                }
                return merged;
            }
        }
    }
    let mut out = serde_json::Map::new();
    for (key, item) in map {
        let item = match (key.as_str(), item) {
            ("type", Value::Array(types)) => {
                let non_null: Vec<&Value> = types.iter().filter(|t| *t != "null").collect();
                match non_null.as_slice() {
                    [single] => (*single).clone(),
                    _ => item.clone(),
                }
            }
            ("properties", Value::Object(properties)) => Value::Object(
                properties
                    .iter()
                    .map(|(name, schema)| (name.clone(), normalize(schema, definitions, depth + 1)))
                    .collect(),
            ),
            ("items", schema) => normalize(schema, definitions, depth + 1),
            _ => item.clone(),
        };
        out.insert(key.clone(), item);
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;

    use super::normalize_schema;

    #[test]
    fn nullable_and_refs_become_plain_types() {
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "priority": {"type": ["integer", "null"], "format": "int64"},
                "status": {"anyOf": [{"$ref": "#/$defs/Status"}, {"type": "null"}], "description": "filter"},
                "tags": {"type": "array", "items": {"$ref": "#/$defs/Status"}}
            },
            "required": [],
            "$defs": {"Status": {"type": "string", "enum": ["open", "done"]}}
        });
        let normalized = normalize_schema(&schema);
        assert_eq!(normalized["properties"]["priority"]["type"], "integer");
        assert_eq!(normalized["properties"]["status"]["type"], "string");
        assert_eq!(normalized["properties"]["status"]["description"], "filter");
        assert_eq!(
            normalized["properties"]["tags"]["items"]["enum"],
            json!(["open", "done"])
        );
        assert!(normalized.get("$defs").is_none());
    }
}

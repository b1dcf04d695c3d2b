//! What a tool declares it takes, so that a tool receives exactly the arguments its decision
//! was made on.
//!
//! Cedar sees `context.input` typed from the tool's input schema; members the schema does not
//! declare never reach a policy. A tool whose argument type has serde aliases, `flatten`ed maps
//! or lenient field names could still read such a member — a field the policy never saw. So
//! undeclared members are removed before the decision and the tool gets the same object the
//! policies judged. A schema that explicitly allows more (`additionalProperties: true` or a
//! schema, or an object schema with no `properties`) keeps them: its author declared it open.

use std::collections::HashMap;

use serde_json::{Map, Value};

/// The declared shape of a tool's arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DeclaredShape {
    /// Anything goes below this point (free-form, unions, scalars).
    Open,
    /// An object with known members; others are removed unless `additional` is set.
    Object {
        members: HashMap<String, DeclaredShape>,
        additional: bool,
    },
    /// An array whose items have this shape.
    Array(Box<DeclaredShape>),
}

/// Deep enough for any real tool (schemas are already `$ref`-inlined and bounded).
const MAX_DEPTH: usize = 32;

impl DeclaredShape {
    pub(crate) fn of_schema(schema: &Value) -> Self {
        Self::at(schema, 0)
    }

    fn at(schema: &Value, depth: usize) -> Self {
        if depth > MAX_DEPTH {
            return Self::Open;
        }
        if let Some(Value::Object(properties)) = schema.get("properties") {
            let additional = !matches!(schema.get("additionalProperties"), None | Some(Value::Bool(false)));
            return Self::Object {
                members: properties
                    .iter()
                    .map(|(name, sub)| (name.clone(), Self::at(sub, depth + 1)))
                    .collect(),
                additional,
            };
        }
        if schema.get("type").and_then(Value::as_str) == Some("array")
            && let Some(items) = schema.get("items")
        {
            return Self::Array(Box::new(Self::at(items, depth + 1)));
        }
        Self::Open
    }

    /// Removes undeclared members from `arguments` (the top-level object); returns their paths.
    pub(crate) fn retain(&self, arguments: &mut Map<String, Value>) -> Vec<String> {
        let mut removed = Vec::new();
        self.retain_members(arguments, "", &mut removed);
        removed
    }

    fn retain_members(&self, object: &mut Map<String, Value>, path: &str, removed: &mut Vec<String>) {
        let Self::Object { members, additional } = self else {
            return;
        };
        object.retain(|name, value| {
            let child = if path.is_empty() {
                name.clone()
            } else {
                format!("{path}.{name}")
            };
            match members.get(name) {
                Some(shape) => {
                    shape.retain_value(value, &child, removed);
                    true
                }
                None if *additional => true,
                None => {
                    removed.push(child);
                    false
                }
            }
        });
    }

    fn retain_value(&self, value: &mut Value, path: &str, removed: &mut Vec<String>) {
        match (self, value) {
            (Self::Object { .. }, Value::Object(object)) => self.retain_members(object, path, removed),
            (Self::Array(item), Value::Array(items)) => {
                for (index, value) in items.iter_mut().enumerate() {
                    item.retain_value(value, &format!("{path}[{index}]"), removed);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn undeclared_members_are_removed_at_every_depth() {
        let shape = DeclaredShape::of_schema(&json!({
            "type": "object",
            "properties": {
                "priority": {"type": "integer"},
                "owner": {"type": "object", "properties": {"id": {"type": "string"}}},
                "steps": {"type": "array", "items": {"type": "object", "properties": {"n": {"type": "integer"}}}},
                "extra": {"type": "object"}
            }
        }));
        let mut arguments = json!({
            "priority": 1, "prio": 9,
            "owner": {"id": "a", "admin": true},
            "steps": [{"n": 1, "sudo": true}],
            "extra": {"anything": 1}
        })
        .as_object()
        .cloned()
        .unwrap();
        let mut removed = shape.retain(&mut arguments);
        removed.sort();
        assert_eq!(removed, ["owner.admin", "prio", "steps[0].sudo"]);
        assert_eq!(
            Value::Object(arguments),
            json!({"priority": 1, "owner": {"id": "a"}, "steps": [{"n": 1}], "extra": {"anything": 1}})
        );
    }

    #[test]
    fn schemas_that_declare_more_keep_it() {
        let open = DeclaredShape::of_schema(&json!({
            "type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": true
        }));
        let mut arguments = json!({"a": "x", "b": 1}).as_object().cloned().unwrap();
        assert!(open.retain(&mut arguments).is_empty());
        let free = DeclaredShape::of_schema(&json!({"type": "object"}));
        assert!(free.retain(&mut arguments).is_empty());
        assert_eq!(arguments.len(), 2);
    }
}

//! Extra token claims exposed to policies as optional principal attributes.

use cedar_policy::RestrictedExpression;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::PolicyError;
use crate::names::is_identifier;

/// Which token claims become principal attributes, from configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimMapping {
    #[serde(default)]
    pub extra: Vec<ExtraClaim>,
}

/// One claim → one optional attribute on `User` and `App` (`principal has dept`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraClaim {
    /// Name of the claim in the token (`extension_department`, `ctry`).
    pub claim: String,
    /// Cedar attribute name (an identifier, so policies can write `principal.dept`).
    pub attribute: String,
    pub kind: ClaimKind,
}

/// The Cedar type of a mapped claim. A claim of another JSON type is left out (not coerced).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimKind {
    String,
    Long,
    Bool,
    StringSet,
}

impl ClaimKind {
    pub(crate) fn cedar_type(self) -> &'static str {
        match self {
            ClaimKind::String => "String",
            ClaimKind::Long => "Long",
            ClaimKind::Bool => "Bool",
            ClaimKind::StringSet => "Set<String>",
        }
    }

    /// The claim's value as this kind, or `None` when its JSON type differs.
    fn convert(self, v: &Value) -> Option<RestrictedExpression> {
        match (self, v) {
            (ClaimKind::String, Value::String(s)) => Some(RestrictedExpression::new_string(s.clone())),
            (ClaimKind::Long, Value::Number(n)) => n.as_i64().map(RestrictedExpression::new_long),
            (ClaimKind::Bool, Value::Bool(b)) => Some(RestrictedExpression::new_bool(*b)),
            (ClaimKind::StringSet, Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    out.push(RestrictedExpression::new_string(i.as_str()?.to_owned()));
                }
                Some(RestrictedExpression::new_set(out))
            }
            _ => None,
        }
    }
}

/// Attribute names the generator itself puts on `User`/`App`.
pub(crate) const BUILT_IN_ATTRS: &[&str] = &[
    "tenant",
    "roles",
    "scopes",
    "groups",
    "groups_overage",
    "guest",
    "client_app",
];

impl ClaimMapping {
    /// Refuses attribute names that are not identifiers, repeat, or shadow a built-in one.
    pub(crate) fn check(&self) -> Result<(), PolicyError> {
        let mut seen: Vec<&str> = Vec::with_capacity(self.extra.len());
        for e in &self.extra {
            let reason = if !is_identifier(&e.attribute) {
                Some(format!("attribute `{}` is not a Cedar identifier", e.attribute))
            } else if BUILT_IN_ATTRS.contains(&e.attribute.as_str()) {
                Some(format!("attribute `{}` is built in", e.attribute))
            } else if seen.contains(&e.attribute.as_str()) {
                Some(format!("attribute `{}` is mapped twice", e.attribute))
            } else {
                None
            };
            if let Some(reason) = reason {
                return Err(PolicyError::ClaimMapping {
                    claim: e.claim.clone(),
                    reason,
                });
            }
            seen.push(&e.attribute);
        }
        Ok(())
    }

    /// The mapped attributes present in `claims` with the right type.
    pub(crate) fn attributes<'a>(
        &'a self,
        claims: &'a Map<String, Value>,
    ) -> impl Iterator<Item = (String, RestrictedExpression)> + 'a {
        self.extra.iter().filter_map(move |e| {
            let value = claims.get(&e.claim)?;
            match e.kind.convert(value) {
                Some(expr) => Some((e.attribute.clone(), expr)),
                None => {
                    tracing::debug!(claim = %e.claim, "claim has the wrong type for its mapping; left out");
                    None
                }
            }
        })
    }
}

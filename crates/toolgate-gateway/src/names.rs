//! Upstream names and the namespacing of what they offer.
//!
//! Every upstream has a name (`github`, `tickets`): `[a-z0-9_-]`, 1–32 characters. Its tools and
//! prompts are offered to clients as `{name}{separator}{tool}` (`github__create_issue`), so two
//! upstreams may both have a `search` tool; an upstream may opt out (`prefix = false`) and keep
//! its own names. Two offered names that collide are a start-up error naming both upstreams.
//! Resource URIs are never rewritten (they carry their own scheme); they are routed by the
//! upstream that listed them.

use std::fmt;

/// The longest upstream name.
pub const MAX_UPSTREAM_NAME: usize = 32;

/// A validated upstream name: `[a-z0-9_-]{1,32}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UpstreamName(String);

/// Why a name is not an upstream name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an upstream name: use 1 to 32 of a-z, 0-9, `_` and `-`")]
pub struct InvalidUpstreamName(pub String);

impl UpstreamName {
    pub fn parse(name: &str) -> Result<Self, InvalidUpstreamName> {
        let valid = !name.is_empty()
            && name.len() <= MAX_UPSTREAM_NAME
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if valid {
            Ok(Self(name.to_owned()))
        } else {
            Err(InvalidUpstreamName(toolgate_core::text::bounded_string(name, 64)))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UpstreamName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How upstream names prefix what they offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespacing {
    /// Between the upstream's name and the item's (`__` by default).
    pub separator: String,
}

impl Default for Namespacing {
    fn default() -> Self {
        Self { separator: "__".into() }
    }
}

impl Namespacing {
    /// The name clients see for `item` of `upstream`.
    pub fn qualify(&self, upstream: &UpstreamName, prefixed: bool, item: &str) -> String {
        if prefixed {
            format!("{upstream}{}{item}", self.separator)
        } else {
            item.to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_names_are_plain_and_short() {
        for good in ["github", "tickets-v2", "a", "x_1"] {
            assert!(UpstreamName::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "GitHub", "has space", "dot.ted", "slash/", &"x".repeat(33), "é"] {
            assert!(UpstreamName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_are_qualified_unless_the_upstream_opts_out() {
        let ns = Namespacing::default();
        let github = UpstreamName::parse("github").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ns.qualify(&github, true, "create_issue"), "github__create_issue");
        assert_eq!(ns.qualify(&github, false, "create_issue"), "create_issue");
    }
}

//! The validated rate-limit rules: what `[rate_limits]` says, checked once at start-up.

use toolgate_store::Gcra;
use wildmatch::WildMatch;

/// What to do when the state store holding the counters does not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StoreFailure {
    /// Refuse the request with 503 and `Retry-After: 1` (fail closed, the default).
    #[default]
    Refuse,
    /// Admit the request unlimited, log and count it (fail open).
    Allow,
}

/// A tool name or a glob over tool names (`*` any run of characters, `?` one character), as
/// clients see them (`github__create_issue`, `github__*`).
#[derive(Debug, Clone)]
pub struct ToolPattern {
    text: String,
    matcher: WildMatch,
}

/// A pattern that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidPattern {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most 128 characters (MCP tool names are)")]
    TooLong,
    #[error("may only contain letters, digits, `_`, `-`, `.`, `/` and the wildcards `*` and `?` (found {0:?})")]
    Character(char),
}

impl ToolPattern {
    /// The characters MCP recommends for tool names (2025-11-25, "Tool names"), plus `/` and the
    /// wildcards. No `:`, so the pattern can sit in a counter's key unambiguously.
    pub fn parse(text: &str) -> Result<Self, InvalidPattern> {
        if text.is_empty() {
            return Err(InvalidPattern::Empty);
        }
        if text.chars().count() > 128 {
            return Err(InvalidPattern::TooLong);
        }
        if let Some(bad) = text
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | '*' | '?')))
        {
            return Err(InvalidPattern::Character(bad));
        }
        Ok(Self {
            text: text.to_owned(),
            matcher: WildMatch::new(text),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the pattern has wildcards (an exact name can be checked against the catalog).
    pub fn is_glob(&self) -> bool {
        self.text.contains(['*', '?'])
    }

    pub fn matches(&self, tool: &str) -> bool {
        self.matcher.matches(tool)
    }
}

/// Limits for one tool pattern or one upstream: each principal's own, and everyone's together.
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    pub per_principal: Option<Gcra>,
    pub total: Option<Gcra>,
}

/// `[[rate_limits.tool]]`: calls (`tools/call`) of the tools matching `pattern`.
#[derive(Debug, Clone)]
pub struct ToolRule {
    pub pattern: ToolPattern,
    pub limits: Limits,
}

/// `[[rate_limits.upstream]]`: every request forwarded to the upstream `name` (tool calls,
/// prompts, resource reads, completions, subscriptions).
#[derive(Debug, Clone)]
pub struct UpstreamRule {
    pub name: String,
    pub limits: Limits,
}

/// Every rate limit of a deployment.
#[derive(Debug, Clone, Default)]
pub struct RateLimitRules {
    /// Every MCP `POST` and every REST operation of one principal.
    pub per_principal: Option<Gcra>,
    pub tools: Vec<ToolRule>,
    pub upstreams: Vec<UpstreamRule>,
    pub on_store_unavailable: StoreFailure,
}

impl RateLimitRules {
    /// No limit at all: nothing to enforce.
    pub fn is_empty(&self) -> bool {
        self.per_principal.is_none() && self.tools.is_empty() && self.upstreams.is_empty()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn patterns_match_names_and_globs() {
        let exact = ToolPattern::parse("github__create_issue").unwrap();
        assert!(!exact.is_glob());
        assert!(exact.matches("github__create_issue"));
        assert!(!exact.matches("github__create_issues"));
        let glob = ToolPattern::parse("github__*").unwrap();
        assert!(glob.is_glob());
        assert!(glob.matches("github__create_issue"));
        assert!(!glob.matches("gitlab__create_issue"));
        assert_eq!(ToolPattern::parse("").unwrap_err(), InvalidPattern::Empty);
        assert_eq!(ToolPattern::parse("a:b").unwrap_err(), InvalidPattern::Character(':'));
        assert_eq!(
            ToolPattern::parse(&"x".repeat(129)).unwrap_err(),
            InvalidPattern::TooLong
        );
    }
}

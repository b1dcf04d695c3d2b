//! Label values, bounded. Prometheus keeps one time series per distinct label set, so a label
//! fed from request text (a user id, a path, a tool argument) is a memory leak an attacker can
//! drive. Every label here comes from a closed list, or from a [`CappedValues`] that gives the
//! first [`MAX_DISTINCT`] values their own series and folds the rest into `other`.

use std::collections::HashSet;

use parking_lot::Mutex;

/// The label value for anything outside a closed list, or over a cap.
pub const OTHER: &str = "other";

/// Distinct values a [`CappedValues`] gives their own series.
pub const MAX_DISTINCT: usize = 256;

/// The methods that get their own `method` label: the MCP methods the gate audits, toolgate's
/// own events, and the entra-proxy authorization server's. HTTP-level refusals (`POST /mcp`,
/// whose path is the caller's) are `http`; anything else is [`OTHER`].
const KNOWN_METHODS: &[&str] = &[
    "initialize",
    "ping",
    "server/discover",
    "tools/list",
    "tools/call",
    "prompts/list",
    "prompts/get",
    "resources/list",
    "resources/read",
    "resources/templates/list",
    "resources/subscribe",
    "resources/unsubscribe",
    "subscriptions/listen",
    "completion/complete",
    "logging/setLevel",
    "notifications/initialized",
    "notifications/cancelled",
    "policy/reload",
    "policy/rebuild",
    "auth_failures_suppressed",
    "oauth/callback",
    "oauth/consent",
    "oauth/register",
    "oauth/revoke",
    "oauth/token",
];

/// The `method` label of an audited method: itself when known, `http` for an HTTP route
/// (`VERB /path`), else [`OTHER`].
pub fn method_label(method: &str) -> &'static str {
    if let Some(known) = KNOWN_METHODS.iter().find(|m| **m == method) {
        return known;
    }
    let verb = method.split(' ').next().unwrap_or_default();
    if method.contains(' ') && !verb.is_empty() && verb.bytes().all(|b| b.is_ascii_uppercase()) {
        "http"
    } else {
        OTHER
    }
}

/// Values seen so far, at most [`MAX_DISTINCT`]: for labels whose values come from
/// configuration (policy ids, upstream names) and so are few, but which a mistake or a very
/// large policy set must not turn into an unbounded series count.
#[derive(Debug, Default)]
pub struct CappedValues {
    seen: Mutex<HashSet<String>>,
}

impl CappedValues {
    /// `value` itself while fewer than [`MAX_DISTINCT`] distinct values were seen (or it was
    /// seen before), else [`OTHER`].
    pub fn label(&self, value: &str) -> String {
        let mut seen = self.seen.lock();
        if seen.contains(value) {
            return value.to_owned();
        }
        if seen.len() < MAX_DISTINCT {
            seen.insert(value.to_owned());
            return value.to_owned();
        }
        OTHER.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_known_http_or_other() {
        assert_eq!(method_label("tools/call"), "tools/call");
        assert_eq!(method_label("POST /mcp/anything-the-caller-typed"), "http");
        assert_eq!(method_label("GET /whoami"), "http");
        assert_eq!(method_label("tools/call2"), OTHER);
        assert_eq!(method_label("alice@example.com did it"), OTHER);
        assert_eq!(method_label(""), OTHER);
    }

    #[test]
    fn capped_values_fold_into_other_beyond_the_cap() {
        let capped = CappedValues::default();
        for i in 0..MAX_DISTINCT {
            assert_eq!(capped.label(&format!("p{i}")), format!("p{i}"));
        }
        assert_eq!(capped.label("one-too-many"), OTHER);
        assert_eq!(capped.label("p0"), "p0", "values seen before keep their series");
    }
}

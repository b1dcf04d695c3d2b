//! Rate limits as every stage sees them: which limit refused a request ([`LimitScope`]), for
//! how long ([`RateLimited`]), the limiter the HTTP edge and the MCP gate ask ([`RateLimiter`]),
//! and its refusal counters ([`RateLimitStats`]). The limits themselves (rules, GCRA counters in
//! the shared state store) live in `toolgate-server`; see `docs/rate-limits.md`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::origin::ItemKind;
use crate::principal::Principal;

/// Which limit refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LimitScope {
    /// `[rate_limits] per_principal`: every MCP request and REST call of one principal.
    Principal,
    /// A `[[rate_limits.tool]]` rule: calls of the tools it names.
    Tool,
    /// A `[[rate_limits.upstream]]` rule: requests forwarded to one upstream.
    Upstream,
}

impl LimitScope {
    /// `principal`, `tool` or `upstream`: the `limit` member of the JSON-RPC error's `data`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Principal => "principal",
            Self::Tool => "tool",
            Self::Upstream => "upstream",
        }
    }

    /// The audit row's `reason_code`.
    pub fn reason_code(self) -> &'static str {
        match self {
            Self::Principal => "rate_limited_principal",
            Self::Tool => "rate_limited_tool",
            Self::Upstream => "rate_limited_upstream",
        }
    }
}

impl std::fmt::Display for LimitScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request refused by a rate limit, and when the same request would be admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimited {
    pub scope: LimitScope,
    pub retry_after: Duration,
}

impl RateLimited {
    /// `retry_after` in whole seconds, rounded up and at least 1: the `Retry-After` value
    /// (`delay-seconds`, RFC 9110 §10.2.3) and the JSON-RPC error's `data.retryAfterSeconds`.
    pub fn retry_after_seconds(&self) -> u64 {
        retry_after_seconds(self.retry_after)
    }
}

/// A delay in whole seconds, rounded up, at least 1 (`Retry-After: 0` would invite a busy loop).
pub fn retry_after_seconds(delay: Duration) -> u64 {
    let whole = delay.as_secs();
    let seconds = if delay.subsec_nanos() > 0 {
        whole.saturating_add(1)
    } else {
        whole
    };
    seconds.max(1)
}

/// Why the limiter did not admit a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttled {
    /// A limit is exhausted.
    Limited(RateLimited),
    /// The state store holding the counters did not answer, and the limits fail closed
    /// (`[rate_limits] on_store_unavailable = "refuse"`, the default): answer 503, retry in 1 s.
    StoreUnavailable,
}

/// What a call is about, as the tool and upstream limits see it.
#[derive(Debug, Clone, Copy)]
pub struct LimitedItem<'a> {
    pub kind: ItemKind,
    /// The name clients use (`github__create_issue`), or a resource URI.
    pub name: &'a str,
    /// Gateway mode: the upstream serving it.
    pub upstream: Option<&'a str>,
}

/// The limiter, asked after authentication and before policy.
///
/// [`RateLimiter::admit_request`] runs at the HTTP edge for every MCP `POST` and every REST
/// operation; [`RateLimiter::admit_item`] runs in the MCP gate (which REST tool calls go through
/// too) for each tool call, prompt, resource read, completion and subscription. Each call
/// counts one request, admitted or not.
#[async_trait::async_trait]
pub trait RateLimiter: Send + Sync + 'static {
    /// One request of `principal` against its per-principal limit.
    async fn admit_request(&self, principal: &Principal) -> Result<(), Throttled>;

    /// One call of `item` by `principal` against every tool and upstream limit that applies.
    async fn admit_item(&self, principal: &Principal, item: LimitedItem<'_>) -> Result<(), Throttled>;

    /// The refusal counters (read by metrics).
    fn stats(&self) -> &RateLimitStats;
}

/// Counters of what the limiter refused, since start. Monotonic; read them with
/// [`RateLimitStats::refused`] and [`RateLimitStats::store_unavailable`].
#[derive(Debug, Default)]
pub struct RateLimitStats {
    refused_principal: AtomicU64,
    refused_tool: AtomicU64,
    refused_upstream: AtomicU64,
    store_unavailable: AtomicU64,
}

impl RateLimitStats {
    /// Requests refused by limits of `scope`.
    pub fn refused(&self, scope: LimitScope) -> u64 {
        self.counter(scope).load(Ordering::Relaxed)
    }

    /// Requests refused by any limit.
    pub fn refused_total(&self) -> u64 {
        [LimitScope::Principal, LimitScope::Tool, LimitScope::Upstream]
            .into_iter()
            .map(|scope| self.refused(scope))
            .sum()
    }

    /// Requests decided without the state store (it did not answer): refused when the limits
    /// fail closed, admitted when they fail open.
    pub fn store_unavailable(&self) -> u64 {
        self.store_unavailable.load(Ordering::Relaxed)
    }

    /// Counts one refusal by a limit of `scope`.
    pub fn count_refused(&self, scope: LimitScope) {
        self.counter(scope).fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one request decided without the store.
    pub fn count_store_unavailable(&self) {
        self.store_unavailable.fetch_add(1, Ordering::Relaxed);
    }

    fn counter(&self, scope: LimitScope) -> &AtomicU64 {
        match scope {
            LimitScope::Principal => &self.refused_principal,
            LimitScope::Tool => &self.refused_tool,
            LimitScope::Upstream => &self.refused_upstream,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_to_whole_seconds_and_is_never_zero() {
        assert_eq!(retry_after_seconds(Duration::ZERO), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_seconds(Duration::from_secs(1)), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1001)), 2);
        assert_eq!(retry_after_seconds(Duration::from_secs(60)), 60);
    }

    #[test]
    fn stats_count_by_scope() {
        let stats = RateLimitStats::default();
        stats.count_refused(LimitScope::Tool);
        stats.count_refused(LimitScope::Tool);
        stats.count_refused(LimitScope::Principal);
        stats.count_store_unavailable();
        assert_eq!(stats.refused(LimitScope::Tool), 2);
        assert_eq!(stats.refused(LimitScope::Upstream), 0);
        assert_eq!(stats.refused_total(), 3);
        assert_eq!(stats.store_unavailable(), 1);
    }
}

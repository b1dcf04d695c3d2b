//! [`RateLimits`]: the rules, counted in the state store ([`StateStore::throttle`], GCRA), so
//! replicas sharing Redis share every limit.
//!
//! Counter keys (namespace `rate`, so `{key_prefix}:rate:…` in Redis) hold the principal's
//! stable id (`user:{tid}/{oid}`, `app:{tid}/{client id}`), never a token or an argument:
//! `principal:{id}`, `tool:{pattern}:{id}`, `tool-total:{pattern}`, `upstream:{name}:{id}`,
//! `upstream-total:{name}`. Patterns and upstream names contain no `:`, so no two keys collide.
//!
//! A call is checked against each principal's own limits before the shared totals, so a
//! principal refused by its own limit never uses up what the others share. A call refused by a
//! later limit has been counted by the earlier ones (conservative: the refused caller waits a
//! little longer).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use toolgate_core::{
    ItemKind, LimitScope, LimitedItem, Principal, RateLimitStats, RateLimited, RateLimiter, Throttled,
};
use toolgate_store::{Gcra, Namespace, StateStore, Verdict};

use super::rules::{RateLimitRules, StoreFailure};

/// After the store fails, how long requests are decided without asking it (so a Redis outage
/// costs each request nothing instead of the store's 2 s timeout).
const STORE_BACKOFF: Duration = Duration::from_secs(1);

/// The limits in force, counted in `store`.
pub struct RateLimits {
    rules: RateLimitRules,
    store: Arc<dyn StateStore>,
    stats: RateLimitStats,
    started: Instant,
    /// Milliseconds after `started` until which the store is not asked (0: ask it).
    store_down_until_ms: AtomicU64,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits")
            .field("rules", &self.rules)
            .finish_non_exhaustive()
    }
}

/// One counter to ask: its key, its limit and the scope a refusal is reported under.
struct Check {
    key: String,
    limit: Gcra,
    scope: LimitScope,
}

impl RateLimits {
    pub fn new(rules: RateLimitRules, store: Arc<dyn StateStore>) -> Self {
        Self {
            rules,
            store,
            stats: RateLimitStats::default(),
            started: Instant::now(),
            store_down_until_ms: AtomicU64::new(0),
        }
    }

    pub fn rules(&self) -> &RateLimitRules {
        &self.rules
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The counters a call of `item` by `principal` is checked against, in order.
    fn item_checks(&self, principal: &Principal, item: LimitedItem<'_>) -> Vec<Check> {
        let id = principal.id.as_str();
        let mut own = Vec::new();
        let mut shared = Vec::new();
        if item.kind == ItemKind::Tool {
            for rule in self.rules.tools.iter().filter(|r| r.pattern.matches(item.name)) {
                let pattern = rule.pattern.as_str();
                if let Some(limit) = rule.limits.per_principal {
                    own.push(Check {
                        key: format!("tool:{pattern}:{id}"),
                        limit,
                        scope: LimitScope::Tool,
                    });
                }
                if let Some(limit) = rule.limits.total {
                    shared.push(Check {
                        key: format!("tool-total:{pattern}"),
                        limit,
                        scope: LimitScope::Tool,
                    });
                }
            }
        }
        if let Some(upstream) = item.upstream {
            for rule in self.rules.upstreams.iter().filter(|r| r.name == upstream) {
                if let Some(limit) = rule.limits.per_principal {
                    own.push(Check {
                        key: format!("upstream:{upstream}:{id}"),
                        limit,
                        scope: LimitScope::Upstream,
                    });
                }
                if let Some(limit) = rule.limits.total {
                    shared.push(Check {
                        key: format!("upstream-total:{upstream}"),
                        limit,
                        scope: LimitScope::Upstream,
                    });
                }
            }
        }
        own.extend(shared);
        own
    }

    /// Asks the store about each check in order; the first refusal ends it.
    async fn run(&self, checks: Vec<Check>) -> Result<(), Throttled> {
        for check in checks {
            if self.elapsed_ms() < self.store_down_until_ms.load(Ordering::Relaxed) {
                return self.without_store();
            }
            match self.store.throttle(Namespace::RATE, &check.key, check.limit).await {
                Ok(Verdict::Admitted) => {}
                Ok(Verdict::Refused { retry_after }) => {
                    self.stats.count_refused(check.scope);
                    return Err(Throttled::Limited(RateLimited {
                        scope: check.scope,
                        retry_after,
                    }));
                }
                Err(error) => {
                    tracing::warn!(%error, policy = ?self.rules.on_store_unavailable,
                        "rate-limit counters unavailable");
                    self.store_down_until_ms.store(
                        self.elapsed_ms()
                            .saturating_add(u64::try_from(STORE_BACKOFF.as_millis()).unwrap_or(1000)),
                        Ordering::Relaxed,
                    );
                    return self.without_store();
                }
            }
        }
        Ok(())
    }

    /// A request decided while the store does not answer: `on_store_unavailable`.
    fn without_store(&self) -> Result<(), Throttled> {
        self.stats.count_store_unavailable();
        match self.rules.on_store_unavailable {
            StoreFailure::Refuse => Err(Throttled::StoreUnavailable),
            StoreFailure::Allow => Ok(()),
        }
    }
}

#[async_trait::async_trait]
impl RateLimiter for RateLimits {
    async fn admit_request(&self, principal: &Principal) -> Result<(), Throttled> {
        let Some(limit) = self.rules.per_principal else {
            return Ok(());
        };
        let check = Check {
            key: format!("principal:{}", principal.id),
            limit,
            scope: LimitScope::Principal,
        };
        self.run(vec![check]).await
    }

    async fn admit_item(&self, principal: &Principal, item: LimitedItem<'_>) -> Result<(), Throttled> {
        let checks = self.item_checks(principal, item);
        if checks.is_empty() {
            return Ok(());
        }
        self.run(checks).await
    }

    fn stats(&self) -> &RateLimitStats {
        &self.stats
    }
}

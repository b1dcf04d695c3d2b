//! Audit rows for refused requests, within a budget.
//!
//! Anyone can send requests that fail authentication, as fast as they like. Each refusal is
//! worth a row, but not at the price of the rows of authorized calls: refusals get their own
//! budget (a token bucket, [`FailureBudget`]) and may only take the audit queue while most of it
//! is free ([`AuditSink::try_record_unprivileged`]). What the budget does not admit is counted,
//! and the count is recorded as one `auth_failures_suppressed` row per second while a flood
//! lasts — so the trail says how many refusals it did not keep, instead of silently losing them.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use toolgate_core::{AuditDecision, AuditEvent, AuditOutcome, AuditSink, SystemClock};

/// Refusals recorded individually per second (sustained).
pub const DEFAULT_PER_SECOND: u32 = 100;
/// Refusals recorded individually in a burst.
pub const DEFAULT_BURST: u32 = 200;
/// How often a flood's suppressed count is written.
const SUMMARY_INTERVAL: Duration = Duration::from_secs(1);

/// A token bucket: `burst` tokens, refilled at `per_second`.
#[derive(Debug)]
pub struct FailureBudget {
    per_second: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl FailureBudget {
    pub fn new(per_second: u32, burst: u32) -> Self {
        let burst = f64::from(burst.max(1));
        Self {
            per_second: f64::from(per_second),
            burst,
            state: Mutex::new((burst, Instant::now())),
        }
    }

    /// Takes one token if there is one.
    pub fn admit(&self) -> bool {
        let mut state = self.state.lock();
        let (tokens, last) = &mut *state;
        let now = Instant::now();
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * self.per_second).min(self.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

impl Default for FailureBudget {
    fn default() -> Self {
        Self::new(DEFAULT_PER_SECOND, DEFAULT_BURST)
    }
}

/// Records refusals in `sink` within a budget, counting the rest.
pub struct FailureAudit {
    sink: Arc<dyn AuditSink>,
    budget: FailureBudget,
    provider: String,
    /// The summary row's `method` (`auth_failures_suppressed`, `rate_limited_suppressed`).
    summary_method: &'static str,
    suppressed: AtomicU64,
    summary_pending: AtomicBool,
}

impl FailureAudit {
    pub fn new(sink: Arc<dyn AuditSink>, provider: &str, budget: FailureBudget) -> Arc<Self> {
        Self::with_summary(sink, provider, budget, "auth_failures_suppressed")
    }

    /// The same, writing its summary rows under `summary_method`.
    pub fn with_summary(
        sink: Arc<dyn AuditSink>,
        provider: &str,
        budget: FailureBudget,
        summary_method: &'static str,
    ) -> Arc<Self> {
        Arc::new(Self {
            sink,
            budget,
            provider: provider.to_owned(),
            summary_method,
            suppressed: AtomicU64::new(0),
            summary_pending: AtomicBool::new(false),
        })
    }

    /// Records `event` if the budget and the queue allow; otherwise counts it. Never waits.
    pub fn record(self: &Arc<Self>, event: AuditEvent) {
        if self.budget.admit() && self.sink.try_record_unprivileged(event) {
            return;
        }
        self.suppressed.fetch_add(1, Ordering::Relaxed);
        if !self.summary_pending.swap(true, Ordering::AcqRel) {
            let this = self.clone();
            tokio::spawn(async move {
                tokio::time::sleep(SUMMARY_INTERVAL).await;
                this.summary_pending.store(false, Ordering::Release);
                this.write_summary().await;
            });
        }
    }

    /// How many refusals were not recorded individually since the last summary.
    pub fn suppressed(&self) -> u64 {
        self.suppressed.load(Ordering::Relaxed)
    }

    async fn write_summary(&self) {
        let count = self.suppressed.swap(0, Ordering::AcqRel);
        if count == 0 {
            return;
        }
        tracing::warn!(
            suppressed = count,
            summary = self.summary_method,
            "refusals over the audit budget, recorded as one summary row"
        );
        let mut event = AuditEvent::new(
            &SystemClock,
            "",
            &self.provider,
            self.summary_method,
            AuditDecision::AuthFailed,
            AuditOutcome::Suppressed,
        )
        .reason(Some("over_budget"));
        event.arguments = Some(serde_json::json!({ "suppressed": count }));
        if let Err(error) = self.sink.record(event).await {
            tracing::warn!(%error, suppressed = count, "could not record the suppressed-failures summary");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_admits_a_burst_then_refuses() {
        let budget = FailureBudget::new(0, 3);
        assert!(budget.admit());
        assert!(budget.admit());
        assert!(budget.admit());
        assert!(!budget.admit());
    }
}

//! Prometheus metrics, exposed as OpenMetrics text by `toolgate_server::metrics_endpoint` (poem stays out of this crate).
//!
//! | Metric | Type | Labels | Meaning |
//! | --- | --- | --- | --- |
//! | `toolgate_requests_total` | counter | `method`, `outcome` | requests that reached an outcome, by audited method ([`labels::method_label`]) and audit outcome |
//! | `toolgate_decisions_total` | counter | `effect` | policy decisions (`allow`, `deny`, `shadow_deny`) |
//! | `toolgate_decision_policies_total` | counter | `effect`, `policy` | decisions each policy determined (`none`: no policy applied, the default deny) |
//! | `toolgate_request_duration_seconds` | histogram | `method` | from the gate taking a request to its outcome (the audit row's latency) |
//! | `toolgate_auth_duration_seconds`, `toolgate_policy_duration_seconds`, `toolgate_upstream_duration_seconds` | histogram | — | the [`Stage`]s |
//! | `toolgate_audit_suppressed_total` | counter | — | refusals over the audit budget, recorded only as a summary row |
//! | gauges of [`live`] | gauge | see there | read from the running components at scrape time |
//!
//! Counters and the request histogram are fed by [`MeteredAudit`], which sees every audit event
//! on its way to the audit trail: the facts (method, outcome, decision, determining policies,
//! latency) are already there, so no request path carries counters of its own. No label is
//! taken from request text: see [`labels`].

pub mod labels;
pub mod live;
pub mod observer;
pub mod stage;

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use toolgate_core::{AuditDecision, AuditEvent, AuditOutcome, AuditWrite};

use self::labels::{CappedValues, method_label};
pub use self::live::{LiveSample, LiveSource, RateLimitCounts};
pub use self::observer::MeteredAudit;
pub use self::stage::{Stage, StageTimer};

/// The `policy` label of a decision no policy determined (Cedar's default deny).
pub const NO_POLICY: &str = "none";

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EffectLabels {
    effect: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PolicyLabels {
    effect: &'static str,
    policy: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodLabels {
    method: &'static str,
}

/// One gateway's metrics: its registry and the families its [`MeteredAudit`] feeds.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    decisions: Family<EffectLabels, Counter>,
    decision_policies: Family<PolicyLabels, Counter>,
    durations: Family<MethodLabels, Histogram>,
    suppressed: Counter,
    policies: CappedValues,
}

impl Metrics {
    /// A registry with every family registered, the process-wide [`Stage`] histograms, and
    /// `live`'s gauges (read at each scrape).
    pub fn new(live: Option<Arc<dyn LiveSource>>) -> Self {
        let mut registry = Registry::with_prefix("toolgate");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "Requests that reached an outcome, by audited method and outcome",
            requests.clone(),
        );
        let decisions = Family::<EffectLabels, Counter>::default();
        registry.register("decisions", "Policy decisions, by effect", decisions.clone());
        let decision_policies = Family::<PolicyLabels, Counter>::default();
        registry.register(
            "decision_policies",
            "Policy decisions each policy determined, by effect (policy \"none\": no policy applied, the default deny)",
            decision_policies.clone(),
        );
        let durations = Family::<MethodLabels, Histogram>::new_with_constructor(|| Histogram::new(stage::BUCKETS));
        registry.register_with_unit(
            "request_duration",
            "Time from the gate taking a request to its outcome, by method",
            Unit::Seconds,
            durations.clone(),
        );
        for stage in Stage::ALL {
            registry.register_with_unit(
                stage.metric_name(),
                stage.help(),
                Unit::Seconds,
                stage.histogram().clone(),
            );
        }
        let suppressed = Counter::default();
        registry.register(
            "audit_suppressed",
            "Refusals of unauthenticated requests over the audit budget, recorded only as a summary row",
            suppressed.clone(),
        );
        if let Some(live) = live {
            registry.register_collector(Box::new(live::LiveCollector(live)));
        }
        Self {
            registry,
            requests,
            decisions,
            decision_policies,
            durations,
            suppressed,
            policies: CappedValues::default(),
        }
    }

    /// Counts what `event` tells (see the module documentation). An allowed call is audited
    /// twice — the decision before it runs (`pending`), the outcome after — so decisions are
    /// counted from the first and requests from the second.
    pub fn observe(&self, event: &AuditEvent) {
        let method = method_label(&event.method);
        let is_decision = event.write == AuditWrite::Insert
            && matches!(event.outcome, AuditOutcome::Pending | AuditOutcome::Denied)
            && event.policy_set_hash.is_some();
        if is_decision && let Some(effect) = effect(event.decision) {
            self.decisions.get_or_create(&EffectLabels { effect }).inc();
            if event.policy_ids.is_empty() {
                self.count_policy(effect, NO_POLICY.to_owned());
            }
            for policy in &event.policy_ids {
                let policy = self.policies.label(policy);
                self.count_policy(effect, policy);
            }
        }
        if event.outcome == AuditOutcome::Pending {
            return;
        }
        if event.outcome == AuditOutcome::Suppressed {
            let count = event
                .arguments
                .as_ref()
                .and_then(|a| a.get("suppressed"))
                .and_then(serde_json_u64)
                .unwrap_or(0);
            self.suppressed.inc_by(count);
            return;
        }
        self.requests
            .get_or_create(&RequestLabels {
                method,
                outcome: event.outcome.as_str(),
            })
            .inc();
        if event.latency_us > 0 {
            #[expect(clippy::cast_precision_loss, reason = "microseconds to seconds for a histogram")]
            let seconds = event.latency_us as f64 / 1_000_000.0;
            self.durations.get_or_create(&MethodLabels { method }).observe(seconds);
        }
    }

    fn count_policy(&self, effect: &'static str, policy: String) {
        self.decision_policies
            .get_or_create(&PolicyLabels { effect, policy })
            .inc();
    }

    /// The registry as OpenMetrics text (`application/openmetrics-text; version=1.0.0`).
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

fn effect(decision: AuditDecision) -> Option<&'static str> {
    match decision {
        AuditDecision::Allow | AuditDecision::Deny | AuditDecision::ShadowDeny => Some(decision.as_str()),
        AuditDecision::AuthFailed => None,
    }
}

fn serde_json_u64(value: &serde_json::Value) -> Option<u64> {
    value.as_u64()
}

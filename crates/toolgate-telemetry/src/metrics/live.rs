//! Gauges read from the running components at each scrape: the audit trail's queue and spool,
//! the signing keys, the shared state store, the upstreams. Reading them costs nothing: every
//! figure is already kept in memory (the same figures readiness reports).
//!
//! | Metric | Labels | Meaning |
//! | --- | --- | --- |
//! | `toolgate_audit_queue_depth` | — | events waiting in memory for the audit writer |
//! | `toolgate_audit_spool_bytes` | — | size of the audit spool (events waiting for the database), in bytes |
//! | `toolgate_audit_database_up` | — | 1 when the last audit database operation succeeded |
//! | `toolgate_signing_keys_loaded` | — | 1 when every token validator has signing keys |
//! | `toolgate_signing_keys` | — | signing keys cached (all validators) |
//! | `toolgate_signing_keys_refreshed_timestamp_seconds` | — | Unix time of the oldest validator's last successful key refresh |
//! | `toolgate_state_store_up` | — | 1 when the shared state store (Redis) answered the last probe; absent before the first |
//! | `toolgate_upstream_up` | `upstream` | 1 when the upstream is up, 0 when down; absent while unknown |
//! | `toolgate_rate_limit_refusals_total` | `scope` | counter: requests refused by a rate limit of `scope` (`principal`, `tool`, `upstream`), audited or not (floods beyond the audit budget are counted too); absent without `[rate_limits]` |
//! | `toolgate_rate_limit_store_unavailable_total` | — | counter: requests the limits decided without the state store (refused when failing closed, admitted when failing open) |

use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric as _};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Unit;

use super::labels::MAX_DISTINCT;

/// What the running components report, at one instant. `None`: the component does not exist
/// in this deployment (no validators with `azure-bearer` API keys only, no shared store).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveSample {
    pub audit: Option<AuditGauges>,
    pub keys: Option<KeyGauges>,
    pub state_store_up: Option<bool>,
    /// Each upstream by its configured name: `Some(up)`, or `None` while unknown.
    pub upstreams: Vec<(String, Option<bool>)>,
    /// The rate limiter's counters (`None` without `[rate_limits]`).
    pub rate_limits: Option<RateLimitCounts>,
}

/// Monotonic counts kept by the rate limiter ([`toolgate_core::RateLimitStats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimitCounts {
    pub refused_principal: u64,
    pub refused_tool: u64,
    pub refused_upstream: u64,
    pub store_unavailable: u64,
}

impl RateLimitCounts {
    /// The counts of `stats` now.
    pub fn of(stats: &toolgate_core::RateLimitStats) -> Self {
        use toolgate_core::LimitScope;
        Self {
            refused_principal: stats.refused(LimitScope::Principal),
            refused_tool: stats.refused(LimitScope::Tool),
            refused_upstream: stats.refused(LimitScope::Upstream),
            store_unavailable: stats.store_unavailable(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuditGauges {
    pub queue_depth: u64,
    pub spool_bytes: u64,
    pub database_up: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyGauges {
    pub loaded: bool,
    pub keys: u64,
    /// Unix seconds of the oldest last successful refresh; `None` before every validator had one.
    pub refreshed_unix: Option<u64>,
}

/// Something that can say what the running components report.
pub trait LiveSource: Send + Sync + 'static {
    fn sample(&self) -> LiveSample;
}

pub(super) struct LiveCollector(pub Arc<dyn LiveSource>);

impl std::fmt::Debug for LiveCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LiveCollector")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct UpstreamLabels {
    upstream: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ScopeLabels {
    scope: &'static str,
}

fn rate_limit_counters(encoder: &mut DescriptorEncoder, counts: RateLimitCounts) -> Result<(), std::fmt::Error> {
    let mut family = encoder.encode_descriptor(
        "rate_limit_refusals",
        "Requests refused by a rate limit, by the scope of the limit",
        None,
        prometheus_client::metrics::MetricType::Counter,
    )?;
    for (scope, value) in [
        ("principal", counts.refused_principal),
        ("tool", counts.refused_tool),
        ("upstream", counts.refused_upstream),
    ] {
        let labels = ScopeLabels { scope };
        let metric = family.encode_family(&labels)?;
        ConstCounter::new(value).encode(metric)?;
    }
    let counter = ConstCounter::new(counts.store_unavailable);
    let metric = encoder.encode_descriptor(
        "rate_limit_store_unavailable",
        "Requests the rate limits decided without the state store (it did not answer)",
        None,
        counter.metric_type(),
    )?;
    counter.encode(metric)
}

fn gauge(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    value: i64,
) -> Result<(), std::fmt::Error> {
    let gauge = ConstGauge::new(value);
    let metric = encoder.encode_descriptor(name, help, unit, gauge.metric_type())?;
    gauge.encode(metric)
}

fn saturating(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl Collector for LiveCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let sample = self.0.sample();
        if let Some(audit) = sample.audit {
            gauge(
                &mut encoder,
                "audit_queue_depth",
                "Audit events waiting in memory for the audit writer",
                None,
                saturating(audit.queue_depth),
            )?;
            gauge(
                &mut encoder,
                "audit_spool",
                "Size of the audit spool (events waiting for the database)",
                Some(&Unit::Bytes),
                saturating(audit.spool_bytes),
            )?;
            gauge(
                &mut encoder,
                "audit_database_up",
                "1 when the last audit database operation succeeded",
                None,
                i64::from(audit.database_up),
            )?;
        }
        if let Some(keys) = sample.keys {
            gauge(
                &mut encoder,
                "signing_keys_loaded",
                "1 when every token validator has signing keys (else every token is refused)",
                None,
                i64::from(keys.loaded),
            )?;
            gauge(
                &mut encoder,
                "signing_keys",
                "Signing keys cached, all validators",
                None,
                saturating(keys.keys),
            )?;
            if let Some(at) = keys.refreshed_unix {
                gauge(
                    &mut encoder,
                    "signing_keys_refreshed_timestamp",
                    "Unix time of the oldest validator's last successful key refresh",
                    Some(&Unit::Seconds),
                    saturating(at),
                )?;
            }
        }
        if let Some(up) = sample.state_store_up {
            gauge(
                &mut encoder,
                "state_store_up",
                "1 when the shared state store answered the last probe",
                None,
                i64::from(up),
            )?;
        }
        if let Some(counts) = sample.rate_limits {
            rate_limit_counters(&mut encoder, counts)?;
        }
        let known: Vec<(&str, bool)> = sample
            .upstreams
            .iter()
            .take(MAX_DISTINCT)
            .filter_map(|(name, up)| up.map(|up| (name.as_str(), up)))
            .collect();
        if !known.is_empty() {
            let mut family = encoder.encode_descriptor(
                "upstream_up",
                "1 when the upstream is up, 0 when down (absent while unknown)",
                None,
                prometheus_client::metrics::MetricType::Gauge,
            )?;
            for (upstream, up) in known {
                let labels = UpstreamLabels {
                    upstream: upstream.to_owned(),
                };
                let metric = family.encode_family(&labels)?;
                ConstGauge::new(i64::from(up)).encode(metric)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::{LiveSample, LiveSource, RateLimitCounts};
    use crate::metrics::Metrics;

    struct Fixed(LiveSample);

    impl LiveSource for Fixed {
        fn sample(&self) -> LiveSample {
            self.0.clone()
        }
    }

    fn scrape(sample: LiveSample) -> String {
        Metrics::new(Some(Arc::new(Fixed(sample)))).encode().unwrap_or_default()
    }

    #[test]
    fn rate_limit_counters_by_scope_only_when_limits_exist() {
        let text = scrape(LiveSample {
            rate_limits: Some(RateLimitCounts {
                refused_principal: 42,
                refused_tool: 3,
                refused_upstream: 0,
                store_unavailable: 7,
            }),
            ..LiveSample::default()
        });
        assert!(text.contains("# TYPE toolgate_rate_limit_refusals counter"), "{text}");
        assert!(
            text.contains("toolgate_rate_limit_refusals_total{scope=\"principal\"} 42"),
            "{text}"
        );
        assert!(
            text.contains("toolgate_rate_limit_refusals_total{scope=\"tool\"} 3"),
            "{text}"
        );
        assert!(
            text.contains("toolgate_rate_limit_refusals_total{scope=\"upstream\"} 0"),
            "{text}"
        );
        assert!(text.contains("toolgate_rate_limit_store_unavailable_total 7"), "{text}");
        let without = scrape(LiveSample::default());
        assert!(!without.contains("rate_limit"), "{without}");
    }
}

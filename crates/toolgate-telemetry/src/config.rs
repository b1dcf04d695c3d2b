//! `[telemetry]`: where metrics are served and where traces go. Both are off by default.
//!
//! ```toml
//! [telemetry]
//! metrics_bind = "127.0.0.1:9464"        # GET /metrics, no authentication: keep it private
//!
//! [telemetry.traces]
//! endpoint = "http://127.0.0.1:4318/v1/traces"   # OTLP/HTTP, protobuf
//! service_name = "toolgate"
//! sample_ratio = 1.0
//! ```

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

/// The `[telemetry]` section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetryConfig {
    /// Address of the metrics listener (`GET /metrics`). Absent: no listener. It takes no
    /// credentials, so bind it to loopback or a private interface, not the public one.
    #[serde(default)]
    pub metrics_bind: Option<SocketAddr>,
    /// OpenTelemetry traces over OTLP. Absent: no spans leave the process.
    #[serde(default)]
    pub traces: Option<TracesConfig>,
}

/// `[telemetry.traces]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TracesConfig {
    /// The OTLP/HTTP traces endpoint, full URL (`http://collector:4318/v1/traces`): spans are
    /// POSTed there as protobuf (OTLP specification, "OTLP/HTTP").
    pub endpoint: url::Url,
    /// `service.name` of the spans.
    #[serde(default = "default_service_name")]
    pub service_name: String,
    /// Share of traces started here that are recorded, 0.0–1.0. A trace the caller started
    /// follows the caller's sampling decision (`traceparent` flags).
    #[serde(default = "default_ratio")]
    pub sample_ratio: f64,
}

fn default_service_name() -> String {
    "toolgate".to_owned()
}

fn default_ratio() -> f64 {
    1.0
}

/// A bad `[telemetry]` value: the key and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {reason}")]
pub struct InvalidTelemetry {
    pub key: &'static str,
    pub reason: String,
}

impl TelemetryConfig {
    /// Checks what serde cannot: the sample ratio's range, the endpoint's scheme.
    pub fn validate(&self) -> Result<(), InvalidTelemetry> {
        if let Some(traces) = &self.traces {
            if !(0.0..=1.0).contains(&traces.sample_ratio) {
                return Err(InvalidTelemetry {
                    key: "telemetry.traces.sample_ratio",
                    reason: "must be between 0.0 and 1.0".into(),
                });
            }
            if !matches!(traces.endpoint.scheme(), "http" | "https") {
                return Err(InvalidTelemetry {
                    key: "telemetry.traces.endpoint",
                    reason: "must be an http:// or https:// URL (OTLP/HTTP)".into(),
                });
            }
            if traces.service_name.trim().is_empty() {
                return Err(InvalidTelemetry {
                    key: "telemetry.traces.service_name",
                    reason: "must not be empty".into(),
                });
            }
        }
        Ok(())
    }
}

//! toolgate's telemetry: Prometheus metrics ([`metrics`]) and OpenTelemetry traces
//! ([`trace`]), configured in `[telemetry]` ([`config`]). Both are off by default; see
//! `docs/telemetry.md`.

#![cfg_attr(not(test), deny(clippy::string_slice, clippy::indexing_slicing))]

pub mod config;
pub mod metrics;
pub mod trace;

pub use config::{InvalidTelemetry, TelemetryConfig, TracesConfig};
pub use metrics::{LiveSample, LiveSource, MeteredAudit, Metrics, RateLimitCounts, Stage};

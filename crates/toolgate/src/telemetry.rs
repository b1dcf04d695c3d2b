//! `[telemetry]` for a running gateway: the metrics registry fed by the audit path, its gauges
//! read from the gateway's components, the metrics listener, and the OTLP traces pipeline.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use toolgate_audit::AuditWriter;
use toolgate_core::AuditSink;
use toolgate_core::RateLimiter as _;
use toolgate_entra::EntraValidator;
use toolgate_gateway::{GatewayCore, UpstreamState};
use toolgate_server::metrics_endpoint::metrics_endpoint;
use toolgate_server::{ConnectionLimits, RunningServer, ServeError};
use toolgate_telemetry::metrics::live::{AuditGauges, KeyGauges};
use toolgate_telemetry::trace::TracesGuard;
use toolgate_telemetry::{LiveSample, LiveSource, MeteredAudit, Metrics, RateLimitCounts, TelemetryConfig};

use crate::readiness::StoreProbe;

/// Connections the metrics listener accepts at once (scrapers are few; it is unauthenticated).
const METRICS_MAX_CONNECTIONS: usize = 16;

/// Why telemetry could not start.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("cannot listen for metrics on {addr} ([telemetry] metrics_bind): {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error(transparent)]
    Serve(#[from] ServeError),
    #[error("[telemetry.traces]: {0}")]
    Traces(#[from] toolgate_telemetry::trace::TracesError),
}

/// The gateway's components, as gauges (the figures readiness reports).
pub struct GatewayGauges {
    pub audit: AuditWriter,
    pub validators: Vec<EntraValidator>,
    pub store: Option<Arc<StoreProbe>>,
    pub core: Arc<GatewayCore>,
    /// `[rate_limits]` in force, whose refusal counters are exported.
    pub rate_limits: Option<Arc<toolgate_server::rate_limit::RateLimits>>,
}

impl LiveSource for GatewayGauges {
    fn sample(&self) -> LiveSample {
        let health = self.audit.health();
        let keys = (!self.validators.is_empty()).then(|| {
            let healths: Vec<_> = self.validators.iter().map(|v| v.key_cache().health()).collect();
            KeyGauges {
                loaded: self.validators.iter().all(|v| v.key_cache().snapshot().is_loaded()),
                keys: healths.iter().map(|h| h.key_count as u64).sum(),
                refreshed_unix: healths
                    .iter()
                    .map(|h| h.last_success_unix)
                    .collect::<Option<Vec<u64>>>()
                    .and_then(|all| all.into_iter().min()),
            }
        });
        LiveSample {
            audit: Some(AuditGauges {
                queue_depth: health.queue_depth as u64,
                spool_bytes: health.spool_bytes,
                database_up: health.database_available,
            }),
            keys,
            state_store_up: self.store.as_ref().and_then(|s| match s.state() {
                "up" => Some(true),
                "down" => Some(false),
                _ => None,
            }),
            upstreams: self
                .core
                .status()
                .into_iter()
                .map(|u| {
                    let up = match u.state {
                        UpstreamState::Up => Some(true),
                        UpstreamState::Down => Some(false),
                        UpstreamState::Unknown => None,
                    };
                    (u.name, up)
                })
                .collect(),
            rate_limits: self
                .rate_limits
                .as_ref()
                .map(|limits| RateLimitCounts::of(limits.stats())),
        }
    }
}

/// What `[telemetry]` started; [`Telemetry::shutdown`] stops it.
pub struct Telemetry {
    pub metrics: Arc<Metrics>,
    /// The metrics listener, when `metrics_bind` is set.
    pub metrics_server: Option<RunningServer>,
    traces: Option<TracesGuard>,
}

impl Telemetry {
    /// Switches traces on (when configured), builds the registry and serves it (when
    /// `metrics_bind` is set).
    pub async fn start(config: &TelemetryConfig, gauges: GatewayGauges) -> Result<Self, TelemetryError> {
        let traces = match &config.traces {
            Some(traces) => Some(toolgate_telemetry::trace::enable(traces)?),
            None => None,
        };
        let metrics = Arc::new(Metrics::new(Some(Arc::new(gauges))));
        let metrics_server = match config.metrics_bind {
            Some(addr) => {
                if !addr.ip().is_loopback() {
                    tracing::warn!(%addr, "metrics are served without authentication on a non-loopback address: keep it on a private network");
                }
                let listener = tokio::net::TcpListener::bind(addr)
                    .await
                    .map_err(|source| TelemetryError::Bind { addr, source })?;
                let limits = ConnectionLimits {
                    max_connections: METRICS_MAX_CONNECTIONS,
                    header_read_timeout: Duration::from_secs(5),
                    idle_timeout: Duration::from_secs(30),
                    shutdown_grace: Duration::from_secs(1),
                };
                let server = toolgate_server::serve_with_limits(metrics_endpoint(metrics.clone()), listener, limits)?;
                tracing::info!(addr = %server.local_addr(), "serving metrics at /metrics");
                Some(server)
            }
            None => None,
        };
        Ok(Self {
            metrics,
            metrics_server,
            traces,
        })
    }

    /// `sink` with every event counted on its way.
    pub fn metered(&self, sink: Arc<dyn AuditSink>) -> Arc<dyn AuditSink> {
        Arc::new(MeteredAudit::new(sink, self.metrics.clone()))
    }

    /// The metrics listener's address, when it runs.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_server.as_ref().map(RunningServer::local_addr)
    }

    /// Stops the metrics listener and exports the last spans.
    pub async fn shutdown(self) {
        if let Some(server) = self.metrics_server {
            server.shutdown().await;
        }
        if let Some(traces) = self.traces {
            traces.shutdown().await;
        }
    }
}

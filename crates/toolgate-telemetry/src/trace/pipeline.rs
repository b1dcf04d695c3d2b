//! The tracing subscriber toolgate installs, with a slot for the OpenTelemetry layer, and the
//! OTLP pipeline that fills it when `[telemetry.traces]` is configured.
//!
//! The subscriber is process-wide and installed before configuration is read (so the first log
//! lines are not lost); the OpenTelemetry layer is put into its slot once the configuration says
//! where spans go ([`enable`]), and taken out again on shutdown ([`TracesGuard::shutdown`]).

use std::sync::OnceLock;
use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig as _, WithHttpConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer, Registry, reload};

use super::http_client::OtlpHttp;
use crate::config::TracesConfig;

type Slot = Option<Box<dyn Layer<Registry> + Send + Sync>>;

static SLOT: OnceLock<reload::Handle<Slot, Registry>> = OnceLock::new();

/// How long one OTLP export may take.
pub const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// Installs the process-wide subscriber: log lines to stderr as `filter` allows, and an empty
/// slot for the OpenTelemetry layer. Returns `false` if a subscriber was already installed (by
/// an embedder): then [`enable`] fails, and the embedder adds the layer to its own subscriber.
pub fn init_subscriber(filter: EnvFilter) -> bool {
    let (slot, handle) = reload::Layer::new(None::<Box<dyn Layer<Registry> + Send + Sync>>);
    let installed = tracing_subscriber::registry()
        .with(slot)
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(filter)
        .try_init()
        .is_ok();
    if installed {
        let _ = SLOT.set(handle);
    }
    installed
}

/// Why traces could not be switched on.
#[derive(Debug, thiserror::Error)]
pub enum TracesError {
    #[error(
        "[telemetry.traces] is configured, but toolgate's tracing subscriber is not installed (an embedder installed its own): call toolgate_telemetry::trace::init_subscriber first"
    )]
    NoSubscriber,
    #[error("the OTLP exporter could not be built: {0}")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
    #[error("the HTTP client for OTLP could not be built: {0}")]
    Client(#[from] reqwest::Error),
    #[error("the tracing subscriber refused the OpenTelemetry layer: {0}")]
    Reload(#[from] reload::Error),
    #[error("traces must be switched on inside the tokio runtime")]
    NoRuntime,
}

/// Keeps traces flowing; [`TracesGuard::shutdown`] exports what is buffered and stops.
#[derive(Debug)]
pub struct TracesGuard {
    provider: SdkTracerProvider,
}

/// Starts exporting spans to `config.endpoint` (OTLP/HTTP protobuf, batched).
pub fn enable(config: &TracesConfig) -> Result<TracesGuard, TracesError> {
    let handle = SLOT.get().ok_or(TracesError::NoSubscriber)?;
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| TracesError::NoRuntime)?;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(EXPORT_TIMEOUT)
        .build()?;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(OtlpHttp { client, runtime })
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(config.endpoint.as_str())
        .with_timeout(EXPORT_TIMEOUT)
        .build()?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
            config.sample_ratio,
        ))))
        .with_resource(
            Resource::builder()
                .with_service_name(config.service_name.clone())
                .build(),
        )
        .build();
    let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("toolgate"));
    handle.reload(Some(Box::new(layer) as Box<dyn Layer<Registry> + Send + Sync>))?;
    tracing::info!(endpoint = %config.endpoint, "exporting traces over OTLP");
    Ok(TracesGuard { provider })
}

impl TracesGuard {
    /// Takes the layer out of the subscriber, exports the spans still buffered and stops the
    /// exporter (on a blocking thread: the SDK's flush waits for its exporting thread).
    pub async fn shutdown(self) {
        if let Some(handle) = SLOT.get() {
            let _ = handle.reload(None);
        }
        let provider = self.provider;
        let flushed = tokio::task::spawn_blocking(move || {
            let flushed = provider.force_flush();
            let _ = provider.shutdown();
            flushed
        })
        .await;
        if let Ok(Err(error)) = flushed {
            tracing::warn!(%error, "the last spans could not be exported");
        }
    }
}

//! The tracing subscriber toolgate installs, with a slot for the OpenTelemetry layer, and the
//! OTLP pipeline that fills it when `[telemetry.traces]` is configured.
//!
//! The subscriber is process-wide and installed before configuration is read (so the first log
//! lines are not lost); the OpenTelemetry layer is put into its slot once the configuration says
//! where spans go ([`enable`]), and taken out again on shutdown ([`TracesGuard::shutdown`]).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{LazyLock, OnceLock};
use std::time::Duration;

use opentelemetry::trace::{Link, SpanKind, TraceId, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::{Protocol, WithExportConfig as _, WithHttpConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchSpanProcessor, Sampler, SamplingResult, SdkTracerProvider, ShouldSample, Span, SpanData, SpanProcessor,
};
use parking_lot::RwLock;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

use super::http_client::OtlpHttp;
use crate::config::TracesConfig;

/// The OpenTelemetry layer is always in toolgate's subscriber (it must be: `tracing`'s reload
/// layer hides a layer from the span-context look-ups propagation needs); this switch decides
/// whether it sees spans at all (a per-layer filter: off costs nothing) and where they go.
struct Switch {
    on: AtomicBool,
    /// `f64` bits of the sample ratio.
    ratio: AtomicU64,
    processor: RwLock<Option<BatchSpanProcessor>>,
}

static SWITCH: LazyLock<Switch> = LazyLock::new(|| Switch {
    on: AtomicBool::new(false),
    ratio: AtomicU64::new(1.0_f64.to_bits()),
    processor: RwLock::new(None),
});

/// Set once toolgate's subscriber is installed; keeps its tracer provider alive.
static INSTALLED: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Parent-based sampling with the configured ratio for traces started here.
#[derive(Debug, Clone)]
struct SwitchSampler;

impl ShouldSample for SwitchSampler {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        name: &str,
        span_kind: &SpanKind,
        attributes: &[KeyValue],
        links: &[Link],
    ) -> SamplingResult {
        let ratio = f64::from_bits(SWITCH.ratio.load(Ordering::Relaxed));
        Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(ratio))).should_sample(
            parent_context,
            trace_id,
            name,
            span_kind,
            attributes,
            links,
        )
    }
}

/// Hands finished spans to the exporting processor while traces are on.
#[derive(Debug)]
struct SwitchProcessor;

impl SpanProcessor for SwitchProcessor {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        if let Some(processor) = SWITCH.processor.read().as_ref() {
            processor.on_start(span, cx);
        }
    }

    fn on_end(&self, span: SpanData) {
        if let Some(processor) = SWITCH.processor.read().as_ref() {
            processor.on_end(span);
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        match SWITCH.processor.read().as_ref() {
            Some(processor) => processor.force_flush(),
            None => Ok(()),
        }
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}

/// How long one OTLP export may take.
pub const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// Installs the process-wide subscriber: log lines to stderr as `filter` allows, and the
/// OpenTelemetry layer, idle until [`enable`]. Returns `false` if a subscriber was already
/// installed (by an embedder, or an earlier call): then [`enable`] fails unless the earlier
/// call was this one.
pub fn init_subscriber(filter: EnvFilter) -> bool {
    let provider = SdkTracerProvider::builder()
        .with_span_processor(SwitchProcessor)
        .with_sampler(SwitchSampler)
        .build();
    let otel = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("toolgate"))
        .with_filter(tracing_subscriber::filter::dynamic_filter_fn(|_, _| {
            SWITCH.on.load(Ordering::Relaxed)
        }));
    let installed = tracing_subscriber::registry()
        .with(otel)
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(filter)
        .try_init()
        .is_ok();
    if installed {
        let _ = INSTALLED.set(provider);
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
    #[error("traces must be switched on inside the tokio runtime")]
    NoRuntime,
}

/// Starts exporting spans to `config.endpoint` (OTLP/HTTP protobuf, batched).
pub fn enable(config: &TracesConfig) -> Result<TracesGuard, TracesError> {
    if INSTALLED.get().is_none() {
        return Err(TracesError::NoSubscriber);
    }
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
    let mut processor = BatchSpanProcessor::builder(exporter).build();
    processor.set_resource(
        &Resource::builder()
            .with_service_name(config.service_name.clone())
            .build(),
    );
    SWITCH.ratio.store(config.sample_ratio.to_bits(), Ordering::Relaxed);
    *SWITCH.processor.write() = Some(processor);
    SWITCH.on.store(true, Ordering::Relaxed);
    tracing::info!(endpoint = %config.endpoint, "exporting traces over OTLP");
    Ok(TracesGuard { _private: () })
}

/// Keeps traces flowing; [`TracesGuard::shutdown`] exports what is buffered and stops.
#[derive(Debug)]
pub struct TracesGuard {
    _private: (),
}

impl TracesGuard {
    /// Stops recording, exports the spans still buffered and stops the exporter (on a blocking
    /// thread: the SDK's flush waits for its exporting thread).
    pub async fn shutdown(self) {
        SWITCH.on.store(false, Ordering::Relaxed);
        let Some(processor) = SWITCH.processor.write().take() else {
            return;
        };
        let flushed = tokio::task::spawn_blocking(move || {
            let flushed = processor.force_flush();
            let _ = processor.shutdown();
            flushed
        })
        .await;
        if let Ok(Err(error)) = flushed {
            tracing::warn!(%error, "the last spans could not be exported");
        }
    }
}

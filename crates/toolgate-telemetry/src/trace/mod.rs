//! OpenTelemetry traces: the spans toolgate opens ([`spans`]), W3C trace-context propagation
//! ([`propagation`]), and the OTLP export pipeline ([`pipeline`]). Off unless
//! `[telemetry.traces]` is configured; with it off, spans are ordinary `tracing` spans (log
//! context) and no `traceparent` is sent upstream.

mod http_client;
pub mod pipeline;
pub mod propagation;
pub mod spans;

pub use pipeline::{TracesError, TracesGuard, enable, init_subscriber};
pub use propagation::{TRACEPARENT, TRACESTATE, traceparent_of};
pub use spans::{RequestSpan, adopt_header_parent, mcp_span};

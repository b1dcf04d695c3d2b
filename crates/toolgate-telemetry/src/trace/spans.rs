//! The spans toolgate opens, by name, and how a gated MCP request finds its parent.
//!
//! ```text
//! request                    (HTTP, one per request; parent: the caller's `traceparent` header)
//! ├── toolgate.authenticate  (the auth provider)
//! └── toolgate.mcp           (one gated MCP request; parent: `request`, or `_meta.traceparent`)
//!     ├── toolgate.decision  (the policy decision)
//!     ├── toolgate.audit     (each audit write of the request)
//!     └── toolgate.upstream  (the wrapped handler / upstream call; its `traceparent` goes upstream)
//! ```

use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use super::propagation;

pub const REQUEST: &str = "request";
pub const AUTHENTICATE: &str = "toolgate.authenticate";
pub const MCP: &str = "toolgate.mcp";
pub const DECISION: &str = "toolgate.decision";
pub const AUDIT: &str = "toolgate.audit";
pub const UPSTREAM: &str = "toolgate.upstream";

/// The HTTP request's span, in the request's extensions: rmcp hands handlers the request's
/// `http::request::Parts` in another task, where the span is no longer current, so the gate
/// takes it from there to parent its spans.
#[derive(Debug, Clone)]
pub struct RequestSpan {
    pub span: tracing::Span,
    /// The request carried a valid `traceparent` header (the span joined the caller's trace).
    pub remote_parent: bool,
}

/// Makes `span` a child of the caller's span named in `headers`, if any. Returns whether it did.
pub fn adopt_header_parent(span: &tracing::Span, headers: &http::HeaderMap) -> bool {
    match propagation::from_headers(headers) {
        Some(cx) => span.set_parent(cx).is_ok(),
        None => false,
    }
}

/// The span of one gated MCP request (`method`). Its parent: the HTTP request's span when that
/// joined the caller's trace through the header; else the caller's span named in
/// `params._meta.traceparent` (SEP-414), when valid; else the HTTP request's span.
pub fn mcp_span(
    method: &'static str,
    request: Option<&RequestSpan>,
    meta_traceparent: Option<&str>,
    meta_tracestate: Option<&str>,
) -> tracing::Span {
    let parent = request.map(|r| r.span.id());
    let span = tracing::info_span!(parent: parent.flatten(), "toolgate.mcp", mcp.method = method);
    let header_parent = request.is_some_and(|r| r.remote_parent);
    if !header_parent && let Some(cx) = meta_traceparent.and_then(|tp| propagation::remote_parent(tp, meta_tracestate))
    {
        let _ = span.set_parent(cx);
    }
    span
}

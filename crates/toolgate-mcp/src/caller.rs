//! Who is calling, read from the HTTP request rmcp hands to handlers.
//!
//! rmcp copies the request's `http::request::Parts` into `RequestContext::extensions`; the
//! authentication middleware put the principal and request id in those parts' extensions.

use std::sync::Arc;

use rmcp::RoleServer;
use rmcp::service::RequestContext;
use toolgate_core::{AuditDecision, AuditEvent, AuditOutcome, Principal, RequestId, SystemClock};

/// The caller of one MCP request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Option<Arc<Principal>>,
    pub request_id: String,
    pub session_id: Option<String>,
    /// The HTTP request's span (absent for requests that did not come over HTTP).
    pub request_span: Option<toolgate_telemetry::trace::RequestSpan>,
}

impl Caller {
    pub fn of(context: &RequestContext<RoleServer>) -> Self {
        let parts = context.extensions.get::<http::request::Parts>();
        let principal = parts.and_then(|p| p.extensions.get::<Arc<Principal>>()).cloned();
        let request_id = parts
            .and_then(|p| p.extensions.get::<RequestId>())
            .map(|id| id.0.clone())
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let session_id = parts
            .and_then(|p| p.headers.get("mcp-session-id"))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let request_span = parts
            .and_then(|p| p.extensions.get::<toolgate_telemetry::trace::RequestSpan>())
            .cloned();
        Self {
            principal,
            request_id,
            session_id,
            request_span,
        }
    }

    /// The span of this caller's MCP request `method`: a child of the HTTP request's span, or of
    /// the caller's span named in `params._meta.traceparent` (see
    /// [`toolgate_telemetry::trace::mcp_span`]).
    pub fn span(&self, method: &'static str, context: &RequestContext<RoleServer>) -> tracing::Span {
        toolgate_telemetry::trace::mcp_span(
            method,
            self.request_span.as_ref(),
            context.meta.get_traceparent(),
            context.meta.get_tracestate(),
        )
    }

    /// An audit event for this caller's request (the principal is added by the caller of this).
    pub fn event(&self, method: &str, decision: AuditDecision, outcome: AuditOutcome) -> AuditEvent {
        AuditEvent::new(&SystemClock, &self.request_id, "", method, decision, outcome)
            .session(self.session_id.as_deref())
    }
}

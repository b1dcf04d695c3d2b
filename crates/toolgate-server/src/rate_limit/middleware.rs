//! The per-principal limit at the HTTP edge: after authentication, before any REST operation
//! runs, and in the MCP edge once it has routed the request (before the body is read).
//!
//! A refused request gets `429 Too Many Requests` (RFC 6585 §4) with `Retry-After` in seconds
//! (RFC 9110 §10.2.3): on the MCP endpoint the body is a JSON-RPC error (`-32029`, `data`:
//! `retryAfterSeconds`, `limit`; `id` is `null` because the body is not read), on the REST API
//! `{"error": "rate_limited", "message": …}`. When the counters' store does not answer and the
//! limits fail closed: `503` with `Retry-After: 1`.
//!
//! The limiter comes from request data ([`RequestRateLimit`], `.data(…)` on the app), so
//! per-operation transforms (poem-openapi's) can use the middleware too; without it, requests
//! pass (no limits configured).

use std::sync::Arc;

use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::{Endpoint, EndpointExt, IntoResponse, Middleware, Request, Response, Result};
use toolgate_core::{
    AuditDecision, AuditEvent, AuditOutcome, AuditSink, Principal, RateLimited, RateLimiter, RequestId, SystemClock,
    Throttled,
};
use toolgate_mcp::{limits_unavailable_error, rate_limited_error};

use crate::failure_audit::{FailureAudit, FailureBudget};

/// The limiter and where its refusals are recorded: request data for [`PrincipalRateLimit`].
#[derive(Clone)]
pub struct RequestRateLimit {
    limiter: Arc<dyn RateLimiter>,
    refusals: Option<Arc<FailureAudit>>,
}

impl RequestRateLimit {
    pub fn new(limiter: Arc<dyn RateLimiter>) -> Self {
        Self {
            limiter,
            refusals: None,
        }
    }

    /// Records refusals in `audit`, within the refusal budget ([`FailureAudit`]: a flood is
    /// summarized as `rate_limited_suppressed` rows with the count).
    pub fn with_audit(mut self, audit: Arc<dyn AuditSink>) -> Self {
        self.refusals = Some(FailureAudit::with_summary(
            audit,
            "rate-limit",
            FailureBudget::default(),
            "rate_limited_suppressed",
        ));
        self
    }

    pub fn limiter(&self) -> &Arc<dyn RateLimiter> {
        &self.limiter
    }
}

/// `app` with `limits` in its request data, where [`PrincipalRateLimit`] finds them; `None`
/// leaves `app` unlimited.
pub fn provide(app: impl Endpoint + 'static, limits: Option<RequestRateLimit>) -> impl Endpoint + 'static {
    match limits {
        Some(limits) => app.data(limits).map_to_response().boxed(),
        None => app.map_to_response().boxed(),
    }
}

/// How refusals are spoken where the middleware is mounted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// The MCP endpoint: JSON-RPC error bodies; only `POST`s (one JSON-RPC message each) count,
    /// not the `GET` stream or the `DELETE` ending a session.
    Mcp,
    /// The REST API: `{"error", "message"}` bodies; every request counts.
    Rest,
}

/// The middleware for REST operations; mount it inside the authentication middleware (it needs
/// the principal). The MCP endpoint asks from its edge instead (`refuse_mcp_if_limited`).
#[derive(Debug, Clone, Copy)]
pub struct PrincipalRateLimit(Style);

impl PrincipalRateLimit {
    /// For REST operations.
    pub fn rest() -> Self {
        Self(Style::Rest)
    }
}

impl<E: Endpoint> Middleware<E> for PrincipalRateLimit {
    type Output = PrincipalRateLimitEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        PrincipalRateLimitEndpoint {
            style: self.0,
            inner: ep,
        }
    }
}

pub struct PrincipalRateLimitEndpoint<E> {
    style: Style,
    inner: E,
}

impl<E: Endpoint> Endpoint for PrincipalRateLimitEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        if let Some(refused) = refuse_if_limited(&req, self.style).await {
            return Ok(refused);
        }
        Ok(self.inner.call(req).await?.into_response())
    }
}

/// For the MCP edge: counts a `POST` this replica serves against its principal's limit, and
/// answers the refusal if it is over. Called after the edge has routed the request, so a request
/// forwarded to the replica holding its session is counted there only, not twice.
pub(crate) async fn refuse_mcp_if_limited(req: &Request) -> Option<Response> {
    refuse_if_limited(req, Style::Mcp).await
}

async fn refuse_if_limited(req: &Request, style: Style) -> Option<Response> {
    if style == Style::Mcp && req.method() != Method::POST {
        return None;
    }
    let limits = req.data::<RequestRateLimit>()?;
    let principal = req.extensions().get::<Arc<Principal>>()?;
    let throttled = limits.limiter.admit_request(principal).await.err()?;
    audit(limits, req, principal, throttled);
    Some(refusal(style, throttled))
}

fn audit(limits: &RequestRateLimit, req: &Request, principal: &Principal, throttled: Throttled) {
    let (outcome, reason) = match throttled {
        Throttled::Limited(limited) => {
            tracing::info!(principal = %principal.id, retry_after_ms = limited.retry_after.as_millis() as u64,
                "request refused by the per-principal rate limit");
            (AuditOutcome::RateLimited, limited.scope.reason_code())
        }
        Throttled::StoreUnavailable => (AuditOutcome::Error, "rate_limit_store_unavailable"),
    };
    let Some(refusals) = &limits.refusals else {
        return;
    };
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|id| id.0.as_str())
        .unwrap_or_default();
    let route = format!("{} {}", req.method(), req.uri().path());
    let event = AuditEvent::new(&SystemClock, request_id, "", &route, AuditDecision::Deny, outcome)
        .principal(principal)
        .session(req.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()))
        .reason(Some(reason));
    refusals.record(event);
}

/// The answer to a request the limiter did not admit.
fn refusal(style: Style, throttled: Throttled) -> Response {
    let (status, seconds, body) = match (style, throttled) {
        (Style::Mcp, Throttled::Limited(limited)) => (
            StatusCode::TOO_MANY_REQUESTS,
            limited.retry_after_seconds(),
            json_rpc(&rate_limited_error(&limited)),
        ),
        (Style::Mcp, Throttled::StoreUnavailable) => (
            StatusCode::SERVICE_UNAVAILABLE,
            1,
            json_rpc(&limits_unavailable_error()),
        ),
        (Style::Rest, Throttled::Limited(limited)) => (
            StatusCode::TOO_MANY_REQUESTS,
            limited.retry_after_seconds(),
            rest(&limited),
        ),
        (Style::Rest, Throttled::StoreUnavailable) => (
            StatusCode::SERVICE_UNAVAILABLE,
            1,
            serde_json::json!({
                "error": "temporarily_unavailable",
                "message": "rate limits unavailable; retry shortly",
            }),
        ),
    };
    let mut response = Response::builder()
        .status(status)
        .content_type("application/json")
        .header(header::CACHE_CONTROL, "no-store")
        .body(body.to_string());
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

fn json_rpc(error: &rmcp::ErrorData) -> serde_json::Value {
    serde_json::json!({ "jsonrpc": "2.0", "id": null, "error": error })
}

fn rest(limited: &RateLimited) -> serde_json::Value {
    serde_json::json!({
        "error": "rate_limited",
        "message": format!("rate limit exceeded ({} limit); retry after {} s", limited.scope, limited.retry_after_seconds()),
    })
}

//! Authentication at the edge: [`RequireAuth`] authenticates with the configured provider and
//! puts the [`Principal`] in request extensions; [`Authenticated`] hands it to handlers.
//!
//! A handler that takes `Authenticated` cannot run for an unauthenticated request: if it is
//! mounted without the middleware, the extractor refuses (fail closed).

use std::sync::Arc;

use poem::http::{HeaderValue, StatusCode, header};
use poem::{Endpoint, FromRequest, IntoResponse, Middleware, Request, RequestBody, Response, Result};
use toolgate_core::{
    AuditDecision, AuditEvent, AuditOutcome, AuditSink, AuthProvider, AuthRejection, Challenge, Principal, RequestHead,
    RequestId, SystemClock,
};

use tracing::Instrument as _;

use crate::failure_audit::{FailureAudit, FailureBudget};

/// Authentication state shared by the middleware.
#[derive(Clone)]
pub struct AuthGate {
    provider: Arc<dyn AuthProvider>,
    challenge: Challenge,
    refusals: Option<Arc<FailureAudit>>,
}

impl AuthGate {
    pub fn new(provider: Arc<dyn AuthProvider>, challenge: Challenge) -> Self {
        Self {
            provider,
            challenge,
            refusals: None,
        }
    }

    /// Records every refused request in the audit trail, within the refusal budget
    /// ([`FailureAudit`]).
    pub fn with_audit(mut self, audit: Arc<dyn AuditSink>) -> Self {
        let provider = self.provider.name().to_owned();
        self.refusals = Some(FailureAudit::new(audit, &provider, FailureBudget::default()));
        self
    }

    /// Where refusals of unauthenticated requests are recorded (authentication failures, and
    /// the MCP endpoint's `Host`/`Origin` refusals), if audit is on.
    pub fn refusals(&self) -> Option<&Arc<FailureAudit>> {
        self.refusals.as_ref()
    }

    /// The audit row of a request refused before anyone was authenticated.
    pub fn refusal_event(&self, req: &Request, outcome: AuditOutcome, reason: &str) -> AuditEvent {
        let request_id = req
            .extensions()
            .get::<RequestId>()
            .map(|id| id.0.as_str())
            .unwrap_or_default();
        let route = format!("{} {}", req.method(), req.uri().path());
        AuditEvent::new(
            &SystemClock,
            request_id,
            self.provider.name(),
            &route,
            AuditDecision::AuthFailed,
            outcome,
        )
        .session(req.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()))
        .reason(Some(reason))
    }

    /// Audits a refused request. Best effort and budgeted: a refusal is already the safe outcome.
    fn audit_failure(&self, req: &Request, rejection: &AuthRejection) {
        if let Some(refusals) = &self.refusals {
            refusals.record(self.refusal_event(req, AuditOutcome::AuthFailed, rejection.reason.as_str()));
        }
    }

    pub fn provider(&self) -> &Arc<dyn AuthProvider> {
        &self.provider
    }

    pub fn challenge(&self) -> &Challenge {
        &self.challenge
    }

    /// Authenticates a request head (span `toolgate.authenticate`, timed as
    /// [`Stage::Auth`](toolgate_telemetry::Stage::Auth)).
    pub async fn authenticate(&self, req: &Request) -> Result<Arc<Principal>, AuthRejection> {
        let head = RequestHead {
            method: req.method(),
            uri: req.uri(),
            headers: req.headers(),
        };
        let span = tracing::info_span!("toolgate.authenticate", provider = self.provider.name());
        let _timer = toolgate_telemetry::Stage::Auth.timer();
        self.provider.authenticate(head).instrument(span).await
    }

    /// The RFC 6750 answer for a refusal: status, challenge, terse JSON body.
    pub fn rejection_response(&self, rejection: &AuthRejection) -> Response {
        rejection_response(rejection, &self.challenge)
    }
}

/// Status + `WWW-Authenticate` + `{"error", "message"}`. The precise reason is logged, never sent.
pub fn rejection_response(rejection: &AuthRejection, challenge: &Challenge) -> Response {
    let body = serde_json::json!({
        "error": rejection.error_code().unwrap_or(match rejection.status() {
            StatusCode::SERVICE_UNAVAILABLE => "temporarily_unavailable",
            _ => "invalid_request",
        }),
        "message": rejection.public_message(),
    });
    let mut response = Response::builder()
        .status(rejection.status())
        .content_type("application/json")
        .header(header::CACHE_CONTROL, "no-store")
        .body(body.to_string());
    if let Ok(value) = HeaderValue::from_str(&rejection.www_authenticate(challenge)) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// Middleware requiring an authenticated principal.
#[derive(Clone)]
pub struct RequireAuth(pub AuthGate);

impl<E: Endpoint> Middleware<E> for RequireAuth {
    type Output = RequireAuthEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        RequireAuthEndpoint {
            gate: Some(self.0.clone()),
            inner: ep,
        }
    }
}

/// The same, taking the [`AuthGate`] from request data (`.data(gate)` on the app): for
/// per-operation transforms that cannot capture state, like poem-openapi's.
#[derive(Clone, Copy, Debug, Default)]
pub struct RequireAuthFromData;

impl<E: Endpoint> Middleware<E> for RequireAuthFromData {
    type Output = RequireAuthEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        RequireAuthEndpoint { gate: None, inner: ep }
    }
}

pub struct RequireAuthEndpoint<E> {
    gate: Option<AuthGate>,
    inner: E,
}

impl<E: Endpoint> Endpoint for RequireAuthEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Self::Output> {
        let Some(gate) = self.gate.clone().or_else(|| req.data::<AuthGate>().cloned()) else {
            tracing::error!("no AuthGate for a protected route: refusing (fail closed)");
            return Ok(StatusCode::UNAUTHORIZED.into_response());
        };
        match gate.authenticate(&req).await {
            Ok(principal) => {
                tracing::Span::current().record("principal", principal.id.as_str());
                req.extensions_mut().insert(principal);
                Ok(self.inner.call(req).await?.into_response())
            }
            Err(rejection) => {
                tracing::info!(
                    reason = rejection.reason.as_str(),
                    detail = %rejection.detail,
                    provider = gate.provider().name(),
                    "authentication refused"
                );
                gate.audit_failure(&req, &rejection);
                Ok(gate.rejection_response(&rejection))
            }
        }
    }
}

/// The authenticated caller, for handlers behind [`RequireAuth`].
#[derive(Debug, Clone)]
pub struct Authenticated(pub Arc<Principal>);

impl<'a> FromRequest<'a> for Authenticated {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> Result<Self> {
        req.extensions()
            .get::<Arc<Principal>>()
            .cloned()
            .map(Authenticated)
            .ok_or_else(|| poem::Error::from_status(StatusCode::UNAUTHORIZED))
    }
}

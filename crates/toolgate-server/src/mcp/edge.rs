//! The MCP edge: everything the MCP endpoint refuses before rmcp parses a request, in order —
//!
//! 1. `Host`/`Origin` (DNS rebinding) — 403;
//! 2. the session belongs to this principal (or is unknown to rmcp too) — 403; with replicas
//!    sharing sessions, a session another replica holds is forwarded there ([`super::forward`]),
//!    or taken over when that replica is gone, and a state store that does not answer is a 503;
//! 3. POST: `[rate_limits] per_principal` ([`crate::rate_limit`]) and a concurrency slot for
//!    this principal — 429 with `Retry-After`;
//! 4. POST: the body within `max_body_bytes` (413), readable (400), and a bounded JSON-RPC
//!    message ([`scan`]): `-32700`, `-32600` (batches, wrong shapes, too many values) or `-32602`
//!    (over-long names);
//! 5. POST: `Mcp-Method`/`Mcp-Name` headers, when supplied, agree with the body — 400 `-32020`
//!    ([`standard_headers`]);
//! 6. POST: no other request with the same JSON-RPC id in flight in this session (rmcp routes
//!    answers by id, so the second would hang) — answered at once with `-32600`.
//!
//! Each refusal leaves an audit row (within the refusal budget). After rmcp answers: a new
//! session is bound to its creator (closing that principal's least recently used session beyond
//! the cap) and, with shared sessions, recorded in the state store (a store that does not take
//! the record fails the `initialize` with 503: a session other replicas cannot find would break
//! behind a balancer); a deleted one is forgotten, and a 500 for a session that vanished while the
//! request was on its way (rmcp's "Session service terminated") becomes the 404 the spec
//! prescribes.

use std::sync::Arc;

use super::endpoint::McpTransportConfig;
use super::forward::{FORWARDED_HEADER, ForwardError, forward};
use super::session_binding::{Check, SessionBindings};
use super::shared_sessions::{ReplicaUrl, SessionRecord, SharedSessions};
use crate::edge::host_origin::HostOriginPolicy;
use crate::edge::in_flight::{InFlight, Slot};
use crate::edge::json_rpc::{JsonRpcHead, JsonRpcLimits, JsonRpcRefusal, MessageKind, scan};
use crate::edge::response_guard::hold_until_sent;
use crate::edge::standard_headers;
use crate::failure_audit::{FailureAudit, FailureBudget};
use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::{Body, Endpoint, IntoResponse, Middleware, Request, Response, Result};
use rmcp::transport::streamable_http_server::session::SessionManager as _;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use toolgate_core::{AuditDecision, AuditEvent, AuditOutcome, AuditSink, Principal, RequestId, SystemClock};

const SESSION_HEADER: &str = "mcp-session-id";
/// Longer session ids were never issued by rmcp (UUIDs): refused without a lookup.
const MAX_SESSION_ID_CHARS: usize = 128;

struct Shared {
    host_origin: HostOriginPolicy,
    bindings: SessionBindings,
    sessions: Arc<LocalSessionManager>,
    refusals: Arc<FailureAudit>,
    max_body_bytes: usize,
    json: JsonRpcLimits,
    per_principal: Arc<InFlight<String>>,
    request_ids: Arc<InFlight<(String, String)>>,
}

/// The middleware: see the module documentation.
#[derive(Clone)]
pub struct McpEdgeLayer(Arc<Shared>);

impl McpEdgeLayer {
    pub(crate) fn new(
        host_origin: HostOriginPolicy,
        transport: &McpTransportConfig,
        bindings: SessionBindings,
        sessions: Arc<LocalSessionManager>,
        audit: Arc<dyn AuditSink>,
    ) -> Self {
        Self(Arc::new(Shared {
            host_origin,
            bindings,
            sessions,
            refusals: FailureAudit::new(audit, "mcp", FailureBudget::default()),
            max_body_bytes: transport.max_body_bytes,
            json: transport.json,
            per_principal: InFlight::new(transport.max_concurrent_requests_per_principal),
            request_ids: InFlight::new(1),
        }))
    }
}

impl<E: Endpoint> Middleware<E> for McpEdgeLayer {
    type Output = McpEdge<E>;

    fn transform(&self, ep: E) -> Self::Output {
        McpEdge {
            shared: self.0.clone(),
            inner: ep,
        }
    }
}

pub struct McpEdge<E> {
    shared: Arc<Shared>,
    inner: E,
}

/// A refused request: its answer and its audit reason.
struct Refusal {
    response: Response,
    reason: &'static str,
    item: Option<String>,
}

fn json_rpc_error(status: StatusCode, id: Option<&str>, code: i32, message: &str) -> Response {
    let id = id
        .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
        .unwrap_or(serde_json::Value::Null);
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": { "code": code, "message": message },
    });
    Response::builder()
        .status(status)
        .content_type("application/json")
        .header(header::CACHE_CONTROL, "no-store")
        .body(body.to_string())
}

impl Refusal {
    fn json_rpc(refusal: &JsonRpcRefusal) -> Self {
        let status = match refusal {
            JsonRpcRefusal::TooLong { .. } => StatusCode::OK,
            _ => StatusCode::BAD_REQUEST,
        };
        Self {
            response: json_rpc_error(status, None, refusal.code(), &refusal.to_string()),
            reason: refusal.reason_code(),
            item: None,
        }
    }

    fn plain(status: StatusCode, reason: &'static str, message: &str) -> Self {
        Self {
            response: json_rpc_error(status, None, -32600, message),
            reason,
            item: None,
        }
    }

    /// The shared session store did not answer: retry shortly.
    fn store_unavailable() -> Self {
        let mut response = json_rpc_error(
            StatusCode::SERVICE_UNAVAILABLE,
            None,
            -32603,
            "Service Unavailable: the session store is unavailable; retry shortly",
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        Self {
            response,
            reason: "session_store_unavailable",
            item: None,
        }
    }

    fn stranger() -> Self {
        Self::plain(
            StatusCode::FORBIDDEN,
            "session_of_another_principal",
            "Forbidden: this MCP session belongs to another principal",
        )
    }
}

/// Where a request with (or without) a session goes.
enum Route {
    /// No session: a new one (`initialize`) or a stateless request.
    New,
    /// A session this replica holds (or rmcp will answer 404 for).
    Here(String),
    /// A session another replica holds.
    Forward(String, ReplicaUrl),
}

impl<E: Endpoint> McpEdge<E> {
    fn refuse(&self, req: &Request, principal: &Principal, method: &str, refusal: Refusal) -> Response {
        let request_id = req
            .extensions()
            .get::<RequestId>()
            .map(|id| id.0.as_str())
            .unwrap_or_default();
        let session = req.headers().get(SESSION_HEADER).and_then(|v| v.to_str().ok());
        self.record_refusal(principal, method, request_id, session, refusal)
    }

    fn record_refusal(
        &self,
        principal: &Principal,
        method: &str,
        request_id: &str,
        session: Option<&str>,
        refusal: Refusal,
    ) -> Response {
        let event = AuditEvent::new(
            &SystemClock,
            request_id,
            "",
            method,
            AuditDecision::Deny,
            AuditOutcome::Refused,
        )
        .principal(principal)
        .session(session)
        .tool(refusal.item.as_deref())
        .reason(Some(refusal.reason));
        self.shared.refusals.record(event);
        tracing::info!(reason = refusal.reason, principal = %principal.id, "MCP request refused at the edge");
        refusal.response
    }

    /// Sends the request to the replica holding its session. An owner that does not answer gives
    /// the request back, and this replica takes the session over.
    async fn forward(
        &self,
        req: Request,
        principal: &Principal,
        method: &str,
        session: &str,
        owner: &ReplicaUrl,
    ) -> Forwarded {
        let Some(replicas) = self.shared.bindings.replicas().cloned() else {
            return Forwarded::Back(Box::new(req));
        };
        let request_id = req
            .extensions()
            .get::<RequestId>()
            .map(|id| id.0.clone())
            .unwrap_or_default();
        let refused =
            |refusal| Forwarded::Answered(self.record_refusal(principal, method, &request_id, Some(session), refusal));
        match forward(&replicas, owner, req, self.shared.max_body_bytes).await {
            Ok(response) => Forwarded::Answered(response),
            Err(ForwardError::Unreachable { owner, error, request }) => {
                tracing::warn!(%owner, %error, "the replica holding an MCP session does not answer");
                let record = match replicas.load(session).await {
                    Ok(Some(record)) if record.principal_id == principal.id => record,
                    Ok(_) => {
                        return refused(Refusal::plain(
                            StatusCode::NOT_FOUND,
                            "unknown_session",
                            "Not Found: session not found",
                        ));
                    }
                    Err(_) => return refused(Refusal::store_unavailable()),
                };
                match self.take_over(&replicas, session.to_owned(), record).await {
                    Ok(_) => Forwarded::Back(request),
                    Err(refusal) => refused(refusal),
                }
            }
            Err(ForwardError::Body) => refused(Refusal::plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                &format!(
                    "Payload Too Large: the body exceeds {} bytes",
                    self.shared.max_body_bytes
                ),
            )),
            Err(error @ ForwardError::Failed(_)) => {
                tracing::warn!(%error, "forwarding an MCP request failed");
                refused(Refusal::plain(
                    StatusCode::BAD_GATEWAY,
                    "session_owner_failed",
                    "Bad Gateway: the replica holding this session failed to answer",
                ))
            }
        }
    }

    /// Binds a session rmcp just created to its creator and, with shared sessions, records it
    /// in the state store (with the `initialize` parameters from `body`, for a takeover).
    async fn bind_new(&self, session: &str, principal: &Principal, body: &[u8]) -> Result<(), Refusal> {
        let Some(replicas) = self.shared.bindings.replicas() else {
            let closing = self
                .shared
                .bindings
                .bind(session.to_owned(), principal.id.clone(), None);
            self.close_sessions(closing);
            return Ok(());
        };
        #[derive(serde::Deserialize)]
        struct Initialize {
            params: rmcp::model::InitializeRequestParams,
        }
        let Ok(Initialize { params }) = serde_json::from_slice::<Initialize>(body) else {
            // rmcp created a session for something that is not an `initialize` it can replay.
            return Err(Refusal::plain(
                StatusCode::BAD_REQUEST,
                "unreplayable_initialize",
                "Bad Request: only an initialize request opens a session",
            ));
        };
        let record = SessionRecord {
            principal_id: principal.id.clone(),
            owner: replicas.this_replica().clone(),
            initialize: params,
        };
        if let Err(error) = replicas.save(session, &record).await {
            tracing::warn!(%error, "MCP session store unavailable: the new session is closed");
            return Err(Refusal::store_unavailable());
        }
        let closing = self
            .shared
            .bindings
            .bind(session.to_owned(), principal.id.clone(), Some(record.initialize));
        self.close_sessions(closing);
        Ok(())
    }

    /// Steps 1–2: checks common to every method.
    async fn route(&self, req: &Request, principal: &Principal) -> Result<Route, Refusal> {
        if let Err(refusal) = self.shared.host_origin.check(req.headers()) {
            tracing::warn!(%refusal, "MCP request refused: Host/Origin");
            return Err(Refusal::plain(
                StatusCode::FORBIDDEN,
                refusal.reason_code(),
                "Forbidden: Host or Origin not allowed",
            ));
        }
        let Some(value) = req.headers().get(SESSION_HEADER) else {
            return Ok(Route::New);
        };
        let session = match value.to_str() {
            Ok(id) if !id.is_empty() && id.chars().count() <= MAX_SESSION_ID_CHARS => id.to_owned(),
            _ => {
                return Err(Refusal::plain(
                    StatusCode::NOT_FOUND,
                    "unknown_session",
                    "Not Found: session not found",
                ));
            }
        };
        match self.shared.bindings.check(&session, &principal.id) {
            Check::Owner => match self.shared.bindings.due_for_refresh(&session) {
                Some(record) => self.refresh(session, record).await,
                None => Ok(Route::Here(session)),
            },
            Check::Stranger => Err(Refusal::stranger()),
            Check::Unknown => {
                // A session rmcp holds but nobody is bound to (never the case for sessions made
                // here) is refused rather than handed to whoever presents its id.
                if self
                    .shared
                    .sessions
                    .has_session(&session.clone().into())
                    .await
                    .unwrap_or(true)
                {
                    return Err(Refusal::plain(
                        StatusCode::FORBIDDEN,
                        "session_unbound",
                        "Forbidden: this MCP session is not bound to the caller",
                    ));
                }
                match self.shared.bindings.replicas() {
                    Some(replicas) => self.route_shared(req, principal, replicas, session).await,
                    None => Ok(Route::Here(session)),
                }
            }
        }
    }

    /// A session this replica does not hold, with replicas sharing sessions: refused, forwarded
    /// to its owner, or taken over (the owner named this replica, or a forwarded request came here
    /// because the owner did not answer).
    async fn route_shared(
        &self,
        req: &Request,
        principal: &Principal,
        replicas: &SharedSessions,
        session: String,
    ) -> Result<Route, Refusal> {
        let record = match replicas.load(&session).await {
            Ok(Some(record)) => record,
            // rmcp finds nothing either and answers 404.
            Ok(None) => return Ok(Route::Here(session)),
            Err(error) => {
                tracing::warn!(%error, "MCP session store unavailable");
                return Err(Refusal::store_unavailable());
            }
        };
        if record.principal_id != principal.id {
            return Err(Refusal::stranger());
        }
        if record.owner != *replicas.this_replica() && !req.headers().contains_key(FORWARDED_HEADER) {
            return Ok(Route::Forward(session, record.owner));
        }
        self.take_over(replicas, session, record).await
    }

    /// Records this replica as the session's owner and binds it here; rmcp then restores the
    /// session from the record's `initialize`.
    async fn take_over(
        &self,
        replicas: &SharedSessions,
        session: String,
        mut record: SessionRecord,
    ) -> Result<Route, Refusal> {
        tracing::info!(previous_owner = %record.owner, "taking over an MCP session");
        record.owner = replicas.this_replica().clone();
        if let Err(error) = replicas.save(&session, &record).await {
            tracing::warn!(%error, "MCP session store unavailable");
            return Err(Refusal::store_unavailable());
        }
        let closing = self
            .shared
            .bindings
            .bind(session.clone(), record.principal_id, Some(record.initialize));
        self.close_sessions(closing);
        Ok(Route::Here(session))
    }

    /// An owned session's record is due for a rewrite. If another replica has taken the session
    /// over meanwhile, this replica's copy is stale: it is closed and the request goes to the new
    /// owner.
    async fn refresh(&self, session: String, record: SessionRecord) -> Result<Route, Refusal> {
        let Some(replicas) = self.shared.bindings.replicas().cloned() else {
            return Ok(Route::Here(session));
        };
        match replicas.load(&session).await {
            Ok(Some(current)) if current.owner != record.owner => {
                self.shared.bindings.forget(&session);
                self.close_local(vec![session.clone()]);
                return Ok(Route::Forward(session, current.owner));
            }
            Ok(_) => {
                if let Err(error) = replicas.save(&session, &record).await {
                    tracing::warn!(%error, "could not refresh an MCP session record");
                }
            }
            Err(error) => tracing::warn!(%error, "could not refresh an MCP session record"),
        }
        Ok(Route::Here(session))
    }

    /// Step 4: the body, within its bound, scanned.
    async fn read_message(&self, req: &mut Request) -> Result<(bytes::Bytes, JsonRpcHead), Refusal> {
        let body = match req.take_body().into_bytes_limit(self.shared.max_body_bytes).await {
            Ok(body) => body,
            Err(poem::error::ReadBodyError::PayloadTooLarge) => {
                return Err(Refusal::plain(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    &format!(
                        "Payload Too Large: the body exceeds {} bytes",
                        self.shared.max_body_bytes
                    ),
                ));
            }
            Err(_) => {
                return Err(Refusal {
                    response: json_rpc_error(StatusCode::BAD_REQUEST, None, -32700, "Parse error: unreadable body"),
                    reason: "unreadable_body",
                    item: None,
                });
            }
        };
        let head = scan(&body, &self.shared.json).map_err(|refusal| Refusal::json_rpc(&refusal))?;
        Ok((body, head))
    }
}

impl<E: Endpoint> Endpoint for McpEdge<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Self::Output> {
        let Some(principal) = req.extensions().get::<Arc<Principal>>().cloned() else {
            return Ok(StatusCode::UNAUTHORIZED.into_response());
        };
        let http_method = req.method().clone();
        let route = format!("{http_method} mcp");
        let session = match self.route(&req, &principal).await {
            Ok(Route::New) => None,
            Ok(Route::Here(session)) => Some(session),
            Ok(Route::Forward(session, owner)) => match self.forward(req, &principal, &route, &session, &owner).await {
                Forwarded::Answered(response) => return Ok(response),
                Forwarded::Back(returned) => {
                    req = *returned;
                    Some(session)
                }
            },
            Err(refusal) => return Ok(self.refuse(&req, &principal, &route, refusal)),
        };
        if http_method != Method::POST {
            let response = self.inner.call(req).await?.into_response();
            if http_method == Method::DELETE
                && response.status().is_success()
                && let Some(session) = &session
            {
                self.shared.bindings.forget(session);
                self.remove_records(vec![session.clone()]);
            }
            return Ok(response);
        }

        // `[rate_limits] per_principal`, counted on the replica that serves the request.
        if let Some(refused) = crate::rate_limit::refuse_mcp_if_limited(&req).await {
            return Ok(refused);
        }
        let Some(principal_slot) = self.shared.per_principal.try_acquire(principal.id.clone()) else {
            let mut refused = self.refuse(
                &req,
                &principal,
                &route,
                Refusal::plain(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_concurrent_requests",
                    "Too Many Requests: too many requests in flight for this caller",
                ),
            );
            refused
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return Ok(refused);
        };
        let (body, head) = match self.read_message(&mut req).await {
            Ok(read) => read,
            Err(refusal) => return Ok(self.refuse(&req, &principal, &route, refusal)),
        };
        let method = head.method.clone().unwrap_or_else(|| route.clone());
        if let Err(mismatch) = standard_headers::check(req.headers(), &head) {
            let refusal = Refusal {
                response: json_rpc_error(
                    StatusCode::BAD_REQUEST,
                    head.id.as_deref(),
                    standard_headers::HEADER_MISMATCH,
                    &mismatch.to_string(),
                ),
                reason: "header_mismatch",
                item: head.item.clone(),
            };
            return Ok(self.refuse(&req, &principal, &method, refusal));
        }
        let id_slot: Option<Slot<(String, String)>> = match (&session, head.kind, &head.id) {
            (Some(session), MessageKind::Request, Some(id)) => {
                match self.shared.request_ids.try_acquire((session.clone(), id.clone())) {
                    Some(slot) => Some(slot),
                    None => {
                        let refusal = Refusal {
                            response: json_rpc_error(
                                StatusCode::OK,
                                Some(id),
                                -32600,
                                "Invalid Request: a request with this id is already in flight in this session",
                            ),
                            reason: "duplicate_request_id",
                            item: head.item.clone(),
                        };
                        return Ok(self.refuse(&req, &principal, &method, refusal));
                    }
                }
            }
            _ => None,
        };
        let request_id = req
            .extensions()
            .get::<RequestId>()
            .map(|id| id.0.clone())
            .unwrap_or_default();
        req.set_body(Body::from_bytes(body.clone()));
        let response = self.inner.call(req).await?.into_response();

        let response = match &session {
            None => match response.headers().get(SESSION_HEADER).and_then(|v| v.to_str().ok()) {
                Some(created) if response.status().is_success() => {
                    let created = created.to_owned();
                    match self.bind_new(&created, &principal, &body).await {
                        Ok(()) => response,
                        Err(refusal) => {
                            self.close_local(vec![created]);
                            return Ok(self.record_refusal(&principal, &method, &request_id, None, refusal));
                        }
                    }
                }
                _ => response,
            },
            Some(session) if response.status() == StatusCode::INTERNAL_SERVER_ERROR => {
                let gone = !self
                    .shared
                    .sessions
                    .has_session(&session.clone().into())
                    .await
                    .unwrap_or(false);
                if gone {
                    self.shared.bindings.forget(session);
                    self.remove_records(vec![session.clone()]);
                    json_rpc_error(
                        StatusCode::NOT_FOUND,
                        head.id.as_deref(),
                        -32600,
                        "Not Found: session not found",
                    )
                } else {
                    response
                }
            }
            Some(_) => response,
        };
        Ok(hold_until_sent(response, (principal_slot, id_slot)))
    }
}

/// What forwarding did with a request.
enum Forwarded {
    /// The owner (or this replica, refusing) answered.
    Answered(Response),
    /// The owner is gone and this replica took the session over: serve the request here.
    Back(Box<Request>),
}

impl<E> McpEdge<E> {
    /// Closes sessions evicted from the bindings (beyond a principal's cap, or idle) and removes
    /// their shared records.
    fn close_sessions(&self, closing: Vec<String>) {
        self.remove_records(closing.clone());
        self.close_local(closing);
    }

    /// Ends rmcp's sessions `closing` in this process.
    fn close_local(&self, closing: Vec<String>) {
        if closing.is_empty() {
            return;
        }
        let sessions = self.shared.sessions.clone();
        tokio::spawn(async move {
            for id in closing {
                if let Err(error) = sessions.close_session(&id.into()).await {
                    tracing::debug!(%error, "closing an evicted MCP session");
                }
            }
        });
    }

    /// Removes the shared records of sessions that ended here.
    fn remove_records(&self, ended: Vec<String>) {
        let Some(replicas) = self.shared.bindings.replicas().cloned() else {
            return;
        };
        if ended.is_empty() {
            return;
        }
        tokio::spawn(async move {
            for id in ended {
                if let Err(error) = replicas.remove(&id).await {
                    tracing::debug!(%error, "removing an ended MCP session's record");
                }
            }
        });
    }
}

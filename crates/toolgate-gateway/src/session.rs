//! One downstream session's links to the upstreams: opened lazily on first use, with the
//! caller's credentials, never shared with another session (upstream credentials are per user,
//! and upstream session state — subscriptions, roots — belongs to one client), closed when the
//! downstream session ends. A link whose connection died, or whose credentials are about to
//! expire, is reopened on next use; an upstream that keeps failing is backed off and calls fail
//! fast with an error naming it.

use std::sync::Arc;

use rmcp::model::{ClientRequest, GetMeta as _, ServerResult};
use rmcp::service::{PeerRequestOptions, RequestContext};
use rmcp::{ErrorData as McpError, RoleServer, ServiceError};
use serde_json::json;
use tokio::sync::{Mutex, Notify};
use toolgate_core::{Principal, bearer_token};

use crate::core::GatewayCore;
use crate::upstream::client::{ProgressTokens, UpstreamClient};
use crate::upstream::connect::{connect, is_connection_lost};
use crate::upstream::local::DynHandler;
use crate::upstream::{Connection, Upstream};

/// Credentials this close to expiry make the link reopen before a call (seconds).
const REOPEN_MARGIN_SECONDS: i64 = 60;

/// How a session reaches one upstream.
#[derive(Clone)]
pub enum Link {
    Remote(Arc<Connection>),
    Local(Arc<dyn DynHandler>),
}

/// One upstream, from one session.
pub struct Slot {
    pub upstream: Arc<Upstream>,
    link: Mutex<Option<Link>>,
}

/// An error a client sees for `upstream`: JSON-RPC internal error naming it.
pub fn unavailable(upstream: &str, detail: impl std::fmt::Display) -> McpError {
    McpError::internal_error(
        format!("upstream `{upstream}` is unavailable: {detail}"),
        Some(json!({ "upstream": upstream })),
    )
}

/// The caller of a downstream request: principal and bearer token (for On-Behalf-Of).
fn caller(cx: &RequestContext<RoleServer>) -> (Option<Arc<Principal>>, Option<String>) {
    let parts = cx.extensions.get::<http::request::Parts>();
    let principal = parts.and_then(|p| p.extensions.get::<Arc<Principal>>()).cloned();
    let bearer = parts.and_then(|p| bearer_token(&p.headers).ok()).map(str::to_owned);
    (principal, bearer)
}

/// A request without a session of its own: a 2026-07-28 request (served statelessly), any
/// request under `[mcp] stateful = false`, or a REST call. Its links come from
/// [`crate::shared_links::SharedLinks`] instead of being opened (and closed) for it alone.
fn is_sessionless(cx: &RequestContext<RoleServer>) -> bool {
    cx.extensions
        .get::<http::request::Parts>()
        .is_none_or(|parts| !parts.headers.contains_key("mcp-session-id"))
}

/// Opens a connection to `upstream` for the caller of `cx` (credentials per its settings),
/// with `client` handling what the upstream sends back. Backed-off upstreams fail fast; a failed
/// connection backs off an upstream reached with toolgate's own credentials.
pub(crate) async fn open(
    upstream: &Upstream,
    core: &GatewayCore,
    cx: &RequestContext<RoleServer>,
    client: UpstreamClient,
    progress: Arc<ProgressTokens>,
) -> Result<Connection, McpError> {
    let name = upstream.name();
    if let Some(wait) = upstream.health.backing_off() {
        return Err(unavailable(
            name,
            format!("it failed recently; retrying in {}s", wait.as_secs().max(1)),
        ));
    }
    let (principal, bearer) = caller(cx);
    let header = core
        .credentials
        .header(&upstream.settings.credentials, principal.as_deref(), bearer.as_deref())
        .await
        .map_err(|error| {
            tracing::warn!(upstream = %name, %error, "no credentials for the upstream");
            McpError::internal_error(
                format!("upstream `{name}` could not be called for you: {error}"),
                Some(json!({ "upstream": name, "reason": "credentials" })),
            )
        })?;
    match connect(&upstream.settings, client, header.as_ref(), &core.locals).await {
        Ok(service) => {
            upstream.health.up();
            Ok(Connection::new(service, progress, header.and_then(|h| h.expires_at)))
        }
        Err(error) => {
            let message = error.to_string();
            // An On-Behalf-Of upstream refusing one user's token says nothing about the
            // upstream for others: only upstreams reached with toolgate's own credentials
            // are backed off for everyone.
            if !upstream.needs_user() {
                upstream.health.down(&message);
            }
            Err(unavailable(name, message))
        }
    }
}

/// The principal id of `cx`'s caller, if authenticated.
pub(crate) fn principal_id(cx: &RequestContext<RoleServer>) -> Option<String> {
    caller(cx).0.map(|p| p.id.clone())
}

/// Whether credentials this close to expiry (or a closed connection) call for a new one.
pub(crate) fn is_stale(connection: &Connection, core: &GatewayCore) -> bool {
    connection.is_closed()
        || connection
            .expires_at
            .is_some_and(|at| at - REOPEN_MARGIN_SECONDS <= core.clock.now_unix())
}

impl Slot {
    pub fn new(upstream: Arc<Upstream>) -> Self {
        Self {
            upstream,
            link: Mutex::new(None),
        }
    }

    fn name(&self) -> &str {
        self.upstream.name()
    }

    /// The link, opening it if needed.
    pub async fn link(&self, core: &GatewayCore, cx: &RequestContext<RoleServer>) -> Result<Link, McpError> {
        let mut held = self.link.lock().await;
        if let Some(link) = held.as_ref() {
            let stale = match link {
                Link::Remote(connection) => is_stale(connection, core),
                Link::Local(_) => false,
            };
            if !stale {
                return Ok(link.clone());
            }
            *held = None;
        }
        if let Some(factory) = core.locals.get(self.name()) {
            let link = Link::Local(Arc::from(factory.open()));
            *held = Some(link.clone());
            return Ok(link);
        }
        if is_sessionless(cx) {
            return core.shared_links.link(&self.upstream, core, cx).await.map(Link::Remote);
        }
        let progress = Arc::new(ProgressTokens::default());
        let client =
            UpstreamClient::for_session(self.name(), cx.peer.clone(), progress.clone(), Arc::new(Notify::new()));
        let connection = Arc::new(open(&self.upstream, core, cx, client, progress).await?);
        *held = Some(Link::Remote(connection.clone()));
        Ok(Link::Remote(connection))
    }

    /// Forgets a link that failed (the next call reopens it).
    pub async fn drop_link(&self) {
        *self.link.lock().await = None;
    }

    /// Sends `request` over `connection` for `cx`: the client's progress token is mapped, its
    /// cancellation forwarded, and the call bounded by the upstream's call timeout (renewed by
    /// progress; rmcp then cancels the call upstream).
    pub async fn request(
        &self,
        connection: &Connection,
        mut request: ClientRequest,
        cx: &RequestContext<RoleServer>,
    ) -> Result<ServerResult, McpError> {
        // The current span (the gate's `toolgate.upstream`) is the upstream's parent (SEP-414;
        // HTTP upstreams get it as a header too: `upstream::trace_header`).
        if let Some(traceparent) = toolgate_telemetry::trace::traceparent_of(&tracing::Span::current()) {
            request.get_meta_mut().set_traceparent(traceparent);
        }
        let timeout = self.upstream.settings.call_timeout;
        let mut options = PeerRequestOptions::no_options();
        options.timeout = Some(timeout);
        options.reset_timeout_on_progress = true;
        options.max_total_timeout = Some(timeout.saturating_mul(10));
        let handle = connection
            .peer
            .send_request_with_option(request, options)
            .await
            .map_err(|e| self.failed(e))?;
        let upstream_token = handle.progress_token.clone();
        if let Some(token) = cx.meta.get_progress_token() {
            connection.progress.insert(upstream_token.clone(), token);
        }
        let id = handle.id.clone();
        let answer = tokio::select! {
            answer = handle.await_response() => match answer {
                Ok(answer) => Ok(answer),
                Err(error) => {
                    let lost = is_connection_lost(&error);
                    let mapped = self.failed(error);
                    if lost {
                        // The next call opens a fresh session (an HTTP upstream may have restarted).
                        connection.mark_lost();
                        self.drop_link().await;
                    }
                    Err(mapped)
                }
            },
            () = cx.ct.cancelled() => {
                let cancelled = rmcp::model::CancelledNotificationParam::new(Some(id), Some("cancelled by the client".into()));
                let _ = connection.peer.notify_cancelled(cancelled).await;
                Err(McpError::internal_error("cancelled by the client", None))
            }
        };
        connection.progress.remove(&upstream_token);
        answer
    }

    /// Maps a failed upstream request: the upstream's own JSON-RPC errors pass unchanged; a lost
    /// connection marks the upstream down.
    pub fn failed(&self, error: ServiceError) -> McpError {
        match error {
            ServiceError::McpError(error) => error,
            ServiceError::Timeout { timeout } => unavailable(self.name(), format!("no answer within {timeout:?}")),
            other if is_connection_lost(&other) => {
                let message = other.to_string();
                self.upstream.health.down(&message);
                unavailable(self.name(), message)
            }
            other => unavailable(self.name(), other),
        }
    }
}

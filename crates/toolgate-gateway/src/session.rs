//! One downstream session's links to the upstreams: opened lazily on first use, with the
//! caller's credentials, never shared with another session (upstream credentials are per user,
//! and upstream session state — subscriptions, roots — belongs to one client), closed when the
//! downstream session ends. A link whose connection died, or whose credentials are about to
//! expire, is reopened on next use; an upstream that keeps failing is backed off and calls fail
//! fast with an error naming it.

use std::sync::Arc;

use rmcp::model::{ClientRequest, ServerResult};
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
                Link::Remote(connection) => {
                    connection.is_closed()
                        || connection
                            .expires_at
                            .is_some_and(|at| at - REOPEN_MARGIN_SECONDS <= core.clock.now_unix())
                }
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
        if let Some(wait) = self.upstream.health.backing_off() {
            return Err(unavailable(
                self.name(),
                format!("it failed recently; retrying in {}s", wait.as_secs().max(1)),
            ));
        }
        let (principal, bearer) = caller(cx);
        let header = core
            .credentials
            .header(
                &self.upstream.settings.credentials,
                principal.as_deref(),
                bearer.as_deref(),
            )
            .await
            .map_err(|error| {
                tracing::warn!(upstream = %self.name(), %error, "no credentials for the upstream");
                McpError::internal_error(
                    format!("upstream `{}` could not be called for you: {error}", self.name()),
                    Some(json!({ "upstream": self.name(), "reason": "credentials" })),
                )
            })?;
        let progress = Arc::new(ProgressTokens::default());
        let client =
            UpstreamClient::for_session(self.name(), cx.peer.clone(), progress.clone(), Arc::new(Notify::new()));
        match connect(&self.upstream.settings, client, header.as_ref(), &core.locals).await {
            Ok(service) => {
                self.upstream.health.up();
                let connection = Arc::new(Connection::new(service, progress, header.and_then(|h| h.expires_at)));
                *held = Some(Link::Remote(connection.clone()));
                Ok(Link::Remote(connection))
            }
            Err(error) => {
                let message = error.to_string();
                // An On-Behalf-Of upstream refusing one user's token says nothing about the
                // upstream for others: only upstreams reached with toolgate's own credentials
                // are backed off for everyone.
                if !self.upstream.needs_user() {
                    self.upstream.health.down(&message);
                }
                Err(unavailable(self.name(), message))
            }
        }
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
        request: ClientRequest,
        cx: &RequestContext<RoleServer>,
    ) -> Result<ServerResult, McpError> {
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

//! toolgate as the *client* of an upstream: what the upstream sends toolgate's way travels on
//! to the downstream client of the same session — server→client requests (sampling,
//! elicitation, roots) and notifications (progress, logging, resource updates, list changes).
//!
//! Quirks, each handled here:
//! - rmcp's client puts its own progress token on every request it sends (overwriting any
//!   given), so the downstream client's token is mapped back on each progress notification
//!   ([`ProgressTokens`]).
//! - A request sent from inside this handler's task would be tagged by rmcp with the *upstream's*
//!   request id (a task-local) and routed to the wrong downstream stream; forwarding from a
//!   spawned task leaves the tag off, and rmcp then uses the session's standalone stream.
//! - toolgate's own catalog connection has no downstream client: it declares no client
//!   capabilities, so an upstream has no reason to ask it anything, and is refused if it does.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use rmcp::model::{
    ClientCapabilities, ClientConfig, ClientResult, ErrorCode, Implementation, ProgressToken, ProtocolVersion,
    ServerNotification, ServerRequest,
};
use rmcp::service::{NotificationContext, Peer, RequestContext, Service};
use rmcp::{ErrorData as McpError, RoleClient, RoleServer};
use tokio::sync::Notify;

/// The protocol version toolgate speaks toward upstreams (sessions, server→client requests).
pub const UPSTREAM_PROTOCOL: ProtocolVersion = ProtocolVersion::V_2025_11_25;

/// Upstream progress token → the downstream client's token, for calls in flight.
#[derive(Debug, Default)]
pub struct ProgressTokens(Mutex<HashMap<ProgressToken, ProgressToken>>);

impl ProgressTokens {
    pub fn insert(&self, upstream: ProgressToken, downstream: ProgressToken) {
        self.0.lock().insert(upstream, downstream);
    }

    pub fn remove(&self, upstream: &ProgressToken) {
        self.0.lock().remove(upstream);
    }

    fn downstream(&self, upstream: &ProgressToken) -> Option<ProgressToken> {
        self.0.lock().get(upstream).cloned()
    }
}

/// The rmcp client service of one upstream connection.
pub struct UpstreamClient {
    upstream: String,
    /// The downstream session this connection serves; `None` for the catalog connection.
    downstream: Option<Peer<RoleServer>>,
    capabilities: ClientCapabilities,
    progress: Arc<ProgressTokens>,
    /// Told when the upstream's tools, prompts or resources changed.
    changed: Arc<Notify>,
}

impl UpstreamClient {
    /// For a downstream session: forwards both ways, declaring upstream exactly the
    /// capabilities the downstream client declared.
    pub fn for_session(
        upstream: &str,
        downstream: Peer<RoleServer>,
        progress: Arc<ProgressTokens>,
        changed: Arc<Notify>,
    ) -> Self {
        let capabilities = downstream
            .peer_info()
            .map(|info| info.capabilities.clone())
            .unwrap_or_default();
        Self {
            upstream: upstream.to_owned(),
            downstream: Some(downstream),
            capabilities,
            progress,
            changed,
        }
    }

    /// For toolgate's own catalog connection, and for connections shared by requests without a
    /// session (they have no client to forward to).
    pub fn for_catalog(upstream: &str, changed: Arc<Notify>) -> Self {
        Self {
            upstream: upstream.to_owned(),
            downstream: None,
            capabilities: ClientCapabilities::default(),
            progress: Arc::default(),
            changed,
        }
    }
}

fn forward_error(error: rmcp::ServiceError) -> McpError {
    match error {
        rmcp::ServiceError::McpError(error) => error,
        other => McpError::internal_error(format!("the client could not be reached: {other}"), None),
    }
}

impl Service<RoleClient> for UpstreamClient {
    async fn handle_request(
        &self,
        request: ServerRequest,
        _context: RequestContext<RoleClient>,
    ) -> Result<ClientResult, McpError> {
        if let ServerRequest::PingRequest(_) = request {
            return Ok(ClientResult::empty(()));
        }
        let Some(downstream) = self.downstream.clone() else {
            tracing::debug!(upstream = %self.upstream, "a request to toolgate's catalog connection refused");
            return Err(McpError::new(ErrorCode::METHOD_NOT_FOUND, "method not found", None));
        };
        // Spawned: see the module documentation (rmcp's originating-request tag).
        let forwarded = tokio::spawn(async move { downstream.send_request(request).await }).await;
        match forwarded {
            Ok(result) => result.map_err(forward_error),
            Err(_) => Err(McpError::internal_error("forwarding to the client failed", None)),
        }
    }

    async fn handle_notification(
        &self,
        notification: ServerNotification,
        _context: NotificationContext<RoleClient>,
    ) -> Result<(), McpError> {
        let notification = match notification {
            ServerNotification::ProgressNotification(mut progress) => {
                let Some(token) = self.progress.downstream(&progress.params.progress_token) else {
                    // The call it belonged to has ended, or the client asked for no progress.
                    return Ok(());
                };
                progress.params.progress_token = token;
                ServerNotification::ProgressNotification(progress)
            }
            ServerNotification::ToolListChangedNotification(_)
            | ServerNotification::PromptListChangedNotification(_)
            | ServerNotification::ResourceListChangedNotification(_) => {
                // Not forwarded as is: the client hears `list_changed` from `sync` once the
                // catalog is re-read and the policy rebuilt. Forwarding the upstream's at once
                // let a client list again before the catalog changed and see the old tools.
                self.changed.notify_waiters();
                return Ok(());
            }
            other => other,
        };
        if let Some(downstream) = &self.downstream {
            downstream
                .send_notification(notification)
                .await
                .map_err(forward_error)?;
        }
        Ok(())
    }

    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            self.capabilities.clone(),
            Implementation::new("toolgate", env!("CARGO_PKG_VERSION")),
        )
        .with_protocol_version(UPSTREAM_PROTOCOL)
    }
}

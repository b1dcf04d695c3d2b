//! One upstream: its settings and health, connections to it, and what it offers.

pub mod client;
pub mod connect;
pub mod health;
pub mod local;
pub mod trace_header;

use std::sync::Arc;
use std::time::Duration;

use rmcp::service::{Peer, RunningServiceCancellationToken};
use rmcp::{RoleClient, ServiceError};

use self::client::ProgressTokens;
use self::connect::UpstreamService;
use self::health::Health;
use crate::catalog::Offer;
use crate::config::{Transport, UpstreamSettings};
use crate::credentials::CredentialSpec;

/// An upstream as the gateway runs it.
#[derive(Debug)]
pub struct Upstream {
    /// Its position in configuration (and in the catalog).
    pub index: usize,
    pub settings: UpstreamSettings,
    pub health: Health,
}

impl Upstream {
    pub fn new(index: usize, settings: UpstreamSettings) -> Self {
        let transport = match settings.transport {
            Transport::Stdio { .. } => "stdio",
            Transport::StreamableHttp { .. } => "streamable-http",
            Transport::InProcess => "in-process",
        };
        Self {
            health: Health::new(settings.name.as_str(), transport),
            index,
            settings,
        }
    }

    pub fn name(&self) -> &str {
        self.settings.name.as_str()
    }

    /// On-Behalf-Of upstreams can only be reached for a user: toolgate has no connection of its
    /// own to them, and learns their catalog from users' sessions.
    pub fn needs_user(&self) -> bool {
        matches!(self.settings.credentials, CredentialSpec::EntraObo { .. })
    }
}

/// An open client session to an upstream. Dropping it ends the session (the stdio child is
/// killed, the HTTP session deleted).
pub struct Connection {
    pub peer: Peer<RoleClient>,
    pub progress: Arc<ProgressTokens>,
    /// When the credentials it was opened with expire (Unix seconds): reconnect before.
    pub expires_at: Option<i64>,
    cancel: Option<RunningServiceCancellationToken>,
    /// Resolves when the session has ended (transport closed or cancelled).
    ended: tokio::task::JoinHandle<()>,
    /// A request found the connection lost (e.g. an HTTP upstream restarted and forgot the
    /// session): the next user reopens it.
    lost: std::sync::atomic::AtomicBool,
}

impl Connection {
    pub fn new(service: UpstreamService, progress: Arc<ProgressTokens>, expires_at: Option<i64>) -> Self {
        let peer = service.peer().clone();
        let cancel = service.cancellation_token();
        let ended = tokio::spawn(async move {
            let _ = service.waiting().await;
        });
        Self {
            peer,
            progress,
            expires_at,
            cancel: Some(cancel),
            ended,
            lost: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The session has ended (or a request found it lost).
    pub fn is_closed(&self) -> bool {
        self.ended.is_finished()
            || self.peer.is_transport_closed()
            || self.lost.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Marks the connection lost: whoever holds it reopens it on next use.
    pub fn mark_lost(&self) {
        self.lost.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Waits until the session ends.
    pub async fn closed(&mut self) {
        let _ = (&mut self.ended).await;
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        if let Some(cancel) = self.cancel.take() {
            cancel.cancel();
        }
    }
}

/// Lists everything `peer` offers (following cursors), as far as its capabilities say it
/// offers anything, within `timeout` per listing.
pub async fn list_offer(peer: &Peer<RoleClient>, timeout: Duration) -> Result<Offer, ListError> {
    let capabilities = peer
        .peer_info()
        .map(|info| info.capabilities.clone())
        .unwrap_or_default();
    let bounded = |what: &'static str| move |_| ListError::Timeout(what, timeout);
    let mut offer = Offer::default();
    if capabilities.tools.is_some() {
        offer.tools = tokio::time::timeout(timeout, peer.list_all_tools())
            .await
            .map_err(bounded("tools/list"))??;
    }
    if capabilities.prompts.is_some() {
        offer.prompts = tokio::time::timeout(timeout, peer.list_all_prompts())
            .await
            .map_err(bounded("prompts/list"))??;
    }
    if capabilities.resources.is_some() {
        offer.resources = tokio::time::timeout(timeout, peer.list_all_resources())
            .await
            .map_err(bounded("resources/list"))??;
        // Templates are optional even for servers with resources.
        offer.templates = tokio::time::timeout(timeout, peer.list_all_resource_templates())
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
    }
    Ok(offer)
}

/// A listing failed.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    #[error("{0} took longer than {1:?}")]
    Timeout(&'static str, Duration),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

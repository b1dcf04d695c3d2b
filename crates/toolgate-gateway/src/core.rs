//! What one gateway shares between its sessions: the upstreams, the catalog, credentials, the
//! in-process handlers, the policy sync — and toolgate's own catalog connection to each upstream
//! that needs no user, kept open (and restarted with backoff) so the catalog is known before the
//! first client and follows every `list_changed`.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use toolgate_core::Clock;

use crate::catalog::{Catalog, Collision};
use crate::credentials::Credentials;
use crate::router::Router;
use crate::shared_links::SharedLinks;
use crate::sync::PolicySync;
use crate::upstream::client::UpstreamClient;
use crate::upstream::connect::connect;
use crate::upstream::health::{UpstreamState, UpstreamStatus};
use crate::upstream::local::LocalHandlers;
use crate::upstream::{Connection, Upstream, list_offer};

/// The shared part of a gateway.
pub struct GatewayCore {
    pub upstreams: Vec<Arc<Upstream>>,
    pub catalog: Arc<Catalog>,
    pub credentials: Arc<Credentials>,
    pub locals: Arc<LocalHandlers>,
    pub sync: Arc<PolicySync>,
    pub clock: Arc<dyn Clock>,
    /// Upstream connections of requests without a session (stateless, REST).
    pub shared_links: SharedLinks,
    stop: CancellationToken,
}

/// The gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Collision(#[from] Collision),
}

impl GatewayCore {
    pub fn new(
        upstreams: Vec<Arc<Upstream>>,
        catalog: Arc<Catalog>,
        credentials: Arc<Credentials>,
        locals: Arc<LocalHandlers>,
        sync: Arc<PolicySync>,
        clock: Arc<dyn Clock>,
    ) -> Arc<Self> {
        Arc::new(Self {
            upstreams,
            catalog,
            credentials,
            locals,
            sync,
            clock,
            shared_links: SharedLinks::default(),
            stop: CancellationToken::new(),
        })
    }

    /// A handler for a new downstream session.
    pub fn router(self: &Arc<Self>) -> Router {
        Router::new(self.clone())
    }

    /// Opens toolgate's catalog connection to every upstream that needs no user and waits (each
    /// at most its connect timeout, plus a listing) for a first listing. Upstreams that do not
    /// answer start `down` and are retried in the background; a name offered by two upstreams
    /// is an error.
    pub async fn discover(self: &Arc<Self>) -> Result<(), StartError> {
        let mut first_listings = Vec::new();
        for upstream in &self.upstreams {
            if upstream.needs_user() {
                tracing::info!(upstream = %upstream.name(), "On-Behalf-Of upstream: its catalog is learned from users' sessions");
                continue;
            }
            let listed = Arc::new(Notify::new());
            let wait = listed.clone();
            let core = self.clone();
            let upstream = upstream.clone();
            let limit = upstream.settings.connect_timeout + upstream.settings.call_timeout;
            tokio::spawn(async move { core.keep_catalog_connection(upstream, listed).await });
            first_listings.push(async move {
                let _ = tokio::time::timeout(limit, wait.notified()).await;
            });
        }
        futures::future::join_all(first_listings).await;
        let core = self.clone();
        tokio::spawn(async move {
            let every = (core.shared_links.idle() / 4).max(Duration::from_secs(1));
            while !core.pause(every).await {
                core.shared_links.sweep();
            }
        });
        if let Some(collision) = self.catalog.collisions().into_iter().next() {
            return Err(collision.into());
        }
        Ok(())
    }

    /// The catalog connection to `upstream`: connect, list (authoritative), re-list on every
    /// `list_changed`, reconnect with backoff when it ends or fails, until the gateway stops.
    async fn keep_catalog_connection(self: Arc<Self>, upstream: Arc<Upstream>, listed: Arc<Notify>) {
        loop {
            let changed = Arc::new(Notify::new());
            let header = match self
                .credentials
                .header(&upstream.settings.credentials, None, None)
                .await
            {
                Ok(header) => header,
                Err(error) => {
                    let wait = upstream.health.down(&error.to_string());
                    listed.notify_one();
                    if self.pause(wait).await {
                        return;
                    }
                    continue;
                }
            };
            let client = UpstreamClient::for_catalog(upstream.name(), changed.clone());
            let opened = tokio::select! {
                opened = connect(&upstream.settings, client, header.as_ref(), &self.locals) => opened,
                () = self.stop.cancelled() => return,
            };
            let mut connection = match opened {
                Ok(service) => Connection::new(service, Arc::default(), header.and_then(|h| h.expires_at)),
                Err(error) => {
                    let wait = upstream.health.down(&error.to_string());
                    listed.notify_one();
                    if self.pause(wait).await {
                        return;
                    }
                    continue;
                }
            };
            upstream.health.up();
            loop {
                let changes = changed.notified();
                match list_offer(&connection.peer, upstream.settings.call_timeout).await {
                    Ok(offer) => {
                        if self.catalog.observe(upstream.index, offer, true) {
                            self.sync.catalog_changed().await;
                        }
                        listed.notify_one();
                    }
                    Err(error) => {
                        upstream.health.down(&error.to_string());
                        listed.notify_one();
                        break;
                    }
                }
                let expiry = connection
                    .expires_at
                    .map(|at| Duration::from_secs(u64::try_from(at - self.clock.now_unix() - 60).unwrap_or(0)));
                tokio::select! {
                    () = changes => continue,
                    () = connection.closed() => {
                        upstream.health.down("the connection closed");
                        break;
                    }
                    () = sleep_or_never(expiry) => break,
                    () = self.stop.cancelled() => return,
                }
            }
            drop(connection);
            let wait = upstream.health.backing_off().unwrap_or_default();
            if self.pause(wait).await {
                return;
            }
        }
    }

    /// Sleeps `wait`; `true` if the gateway stopped meanwhile.
    async fn pause(&self, wait: Duration) -> bool {
        tokio::select! {
            () = tokio::time::sleep(wait) => false,
            () = self.stop.cancelled() => true,
        }
    }

    /// Each upstream's state, in configuration order.
    pub fn status(&self) -> Vec<UpstreamStatus> {
        self.upstreams.iter().map(|u| u.health.status()).collect()
    }

    /// Whether every upstream that toolgate reaches by itself is up.
    pub fn all_up(&self) -> bool {
        self.upstreams
            .iter()
            .filter(|u| !u.needs_user())
            .all(|u| u.health.state() == UpstreamState::Up)
    }

    /// Closes the catalog connections (sessions close their own links when they end).
    pub fn shutdown(&self) {
        self.stop.cancel();
        self.shared_links.clear();
    }
}

async fn sleep_or_never(wait: Option<Duration>) {
    match wait {
        Some(wait) => tokio::time::sleep(wait).await,
        None => std::future::pending().await,
    }
}

impl toolgate_core::CatalogSource for GatewayCore {
    fn catalog(&self) -> toolgate_core::Catalog {
        self.catalog.snapshot()
    }
}

impl toolgate_core::ReadinessSource for GatewayCore {
    /// The policy set (ready when the intended policies are in force) and each upstream with
    /// its state. An upstream that is down does not make the instance unready: every replica
    /// sees the same upstream, and taking them all out of the load balancer would only turn
    /// errors naming the upstream into connection failures. Readiness then says `degraded`.
    fn components(&self) -> Vec<toolgate_core::ComponentState> {
        let policy = self.sync.policy().map(|p| p.status());
        let mut components = vec![toolgate_core::ComponentState {
            name: "policy".into(),
            ready: policy.as_ref().is_some_and(|s| s.last_error.is_none()),
            state: match policy {
                Some(status) if status.last_error.is_some() => "previous_set_in_force".into(),
                // A refused reload: the set in force is the one intended before it, and serves.
                Some(status) if status.reload_error.is_some() => "reload_refused".into(),
                Some(_) => "in_force".into(),
                None => "not_built".into(),
            },
        }];
        for upstream in &self.upstreams {
            let state = upstream.health.state();
            components.push(toolgate_core::ComponentState {
                name: format!("upstream:{}", upstream.name()),
                ready: true,
                state: match state {
                    UpstreamState::Up => "up",
                    UpstreamState::Down => "down",
                    UpstreamState::Unknown => "unknown",
                }
                .into(),
            });
        }
        components
    }
}

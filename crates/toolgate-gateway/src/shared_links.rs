//! Upstream connections shared by requests that have no session of their own: requests of the
//! 2026-07-28 protocol (stateless: no `initialize`, no `Mcp-Session-Id`), every request under
//! `[mcp] stateful = false`, and REST calls. Without them each such request would open its own
//! upstream session (for a stdio upstream, start a process) and close it again.
//!
//! One connection per upstream reached with toolgate's own credentials (none, a static header,
//! client credentials), and one per user for an On-Behalf-Of upstream (the token is the user's).
//! Each is opened on first use, reopened when it is lost or its credentials near expiry, and
//! closed after [`SharedLinks::idle`] without use. At most [`SharedLinks::max_links`] are open;
//! opening one more closes the least recently used.
//!
//! They carry no server→client traffic: a stateless request has no stream to carry it (the
//! 2026-07-28 protocol replaces server→client requests with multi-round-trip results). They
//! declare no client capabilities upstream, so an upstream does not ask them for sampling,
//! elicitation or roots, and progress or log notifications are not relayed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer};
use tokio::sync::Notify;

use crate::core::GatewayCore;
use crate::session::{is_stale, open, principal_id};
use crate::upstream::client::{ProgressTokens, UpstreamClient};
use crate::upstream::{Connection, Upstream};

/// Whose connection: an upstream, and the user for per-user credentials.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    upstream: usize,
    user: Option<String>,
}

#[derive(Default)]
struct Entry {
    connection: tokio::sync::Mutex<Option<Arc<Connection>>>,
    last_used: Mutex<Option<Instant>>,
}

impl Entry {
    fn touch(&self) {
        *self.last_used.lock() = Some(Instant::now());
    }

    fn idle_for(&self) -> Duration {
        self.last_used.lock().map_or(Duration::ZERO, |at| at.elapsed())
    }
}

/// The shared connections of one gateway.
pub struct SharedLinks {
    entries: Mutex<HashMap<Key, Arc<Entry>>>,
    max_links: usize,
    idle: Duration,
}

impl Default for SharedLinks {
    fn default() -> Self {
        Self::new(256, Duration::from_secs(300))
    }
}

impl SharedLinks {
    /// At most `max_links` open connections, each closed after `idle` without use.
    pub fn new(max_links: usize, idle: Duration) -> Self {
        Self {
            entries: Mutex::default(),
            max_links: max_links.max(1),
            idle,
        }
    }

    /// The most connections kept open.
    pub fn max_links(&self) -> usize {
        self.max_links
    }

    /// How long an unused connection stays open.
    pub fn idle(&self) -> Duration {
        self.idle
    }

    /// How many connections are kept (tests, metrics).
    pub fn len(&self) -> usize {
        self.entries.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The shared connection to `upstream` for the caller of `cx`, opened if needed.
    pub async fn link(
        &self,
        upstream: &Arc<Upstream>,
        core: &GatewayCore,
        cx: &RequestContext<RoleServer>,
    ) -> Result<Arc<Connection>, McpError> {
        let key = Key {
            upstream: upstream.index,
            user: if upstream.needs_user() { principal_id(cx) } else { None },
        };
        let entry = self.entry(key);
        let mut held = entry.connection.lock().await;
        entry.touch();
        if let Some(connection) = held.as_ref()
            && !is_stale(connection, core)
        {
            return Ok(connection.clone());
        }
        *held = None;
        let progress = Arc::new(ProgressTokens::default());
        let client = UpstreamClient::for_catalog(upstream.name(), Arc::new(Notify::new()));
        let connection = Arc::new(open(upstream, core, cx, client, progress).await?);
        *held = Some(connection.clone());
        Ok(connection)
    }

    /// The entry for `key`, made room for: idle entries are dropped, and the least recently
    /// used one when the table is full. Dropping an entry closes its connection once the last
    /// request using it is done.
    fn entry(&self, key: Key) -> Arc<Entry> {
        let mut entries = self.entries.lock();
        if let Some(entry) = entries.get(&key) {
            return entry.clone();
        }
        if entries.len() >= self.max_links
            && let Some(oldest) = entries
                .iter()
                .max_by_key(|(_, entry)| entry.idle_for())
                .map(|(key, _)| key.clone())
        {
            entries.remove(&oldest);
        }
        entries.entry(key).or_default().clone()
    }

    /// Closes the connections unused for [`idle`](Self::idle) (run periodically by the core).
    pub fn sweep(&self) {
        self.entries.lock().retain(|_, entry| entry.idle_for() < self.idle);
    }

    /// Closes every shared connection (gateway shutdown).
    pub fn clear(&self) {
        self.entries.lock().clear();
    }
}

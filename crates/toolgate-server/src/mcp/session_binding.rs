//! Binds each MCP session to the principal that created it, and bounds how many sessions one
//! principal holds.
//!
//! rmcp does not bind sessions: another user's token presented with a known `Mcp-Session-Id`
//! would be served inside the first user's session. Authentication still runs on every request;
//! the binding adds "and it must be the same principal as the session's creator". A principal
//! at its session cap loses its least recently used session when it opens another (a client
//! that never says `DELETE` keeps working; nobody holds more than the cap).
//!
//! With [`SharedSessions`] (replicas sharing a state store), the table holds the sessions this
//! replica owns; the records in the store tell every replica who owns the others.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rmcp::model::InitializeRequestParams;
use tokio_util::sync::CancellationToken;

use super::shared_sessions::{SessionRecord, SharedSessions};

/// Session limits (`[mcp]` in configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// Open sessions per principal; opening one more closes that principal's least recently
    /// used session.
    pub max_per_principal: usize,
    /// A session unused this long is closed (rmcp's keep-alive) and its binding forgotten.
    pub idle_timeout: Duration,
}

impl Default for SessionLimits {
    fn default() -> Self {
        Self {
            max_per_principal: 64,
            idle_timeout: Duration::from_secs(30 * 60),
        }
    }
}

#[derive(Debug)]
struct Binding {
    principal_id: String,
    last_seen: Instant,
    /// Replicas sharing sessions: how the session was initialized (to rewrite its record) and
    /// when the record was last written.
    shared: Option<(Arc<InitializeRequestParams>, Instant)>,
}

#[derive(Debug, Default)]
struct Table {
    by_session: HashMap<String, Binding>,
    /// Sessions per principal, to enforce the cap without a scan.
    per_principal: HashMap<String, usize>,
}

impl Table {
    fn remove(&mut self, session_id: &str) -> Option<Binding> {
        let binding = self.by_session.remove(session_id)?;
        if let Some(count) = self.per_principal.get_mut(&binding.principal_id) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.per_principal.remove(&binding.principal_id);
            }
        }
        Some(binding)
    }
}

/// Session id → owning principal. Shared by every request of one server.
#[derive(Debug, Clone, Default)]
pub struct SessionBindings {
    table: Arc<Mutex<Table>>,
    limits: SessionLimits,
    shared: Option<SharedSessions>,
    /// Cancelled at shutdown: every session ends, and with it the upstream sessions it opened.
    closing: CancellationToken,
}

/// What a request with a session id may do.
#[derive(Debug, PartialEq, Eq)]
pub enum Check {
    Owner,
    Stranger,
    Unknown,
}

impl SessionBindings {
    /// Sessions held by this process only.
    pub fn new(limits: SessionLimits) -> Self {
        Self {
            table: Arc::default(),
            limits,
            shared: None,
            closing: CancellationToken::new(),
        }
    }

    /// Sessions shared with the other replicas through `shared` (see [`SharedSessions`]).
    pub fn shared(limits: SessionLimits, shared: SharedSessions) -> Self {
        Self {
            table: Arc::default(),
            limits,
            shared: Some(shared),
            closing: CancellationToken::new(),
        }
    }

    /// Ends every MCP session of this server (graceful shutdown, after in-flight requests).
    pub fn close_all(&self) {
        self.closing.cancel();
        // One lock: a bind between two clears would leave the maps disagreeing.
        *self.table.lock() = Table::default();
    }

    /// The token rmcp's session workers run under.
    pub(crate) fn closing(&self) -> &CancellationToken {
        &self.closing
    }

    pub fn limits(&self) -> SessionLimits {
        self.limits
    }

    /// The replicas' shared session records, when sessions are shared.
    pub fn replicas(&self) -> Option<&SharedSessions> {
        self.shared.as_ref()
    }

    /// The record of an owned session whose store entry is due for a rewrite (it expires a
    /// session idle timeout after the last write); marks it written. `None` when not due, not
    /// owned, or sessions are not shared.
    pub(crate) fn due_for_refresh(&self, session_id: &str) -> Option<SessionRecord> {
        let shared = self.shared.as_ref()?;
        let mut table = self.table.lock();
        let binding = table.by_session.get_mut(session_id)?;
        let (initialize, saved_at) = binding.shared.as_mut()?;
        if saved_at.elapsed() < shared.refresh_interval() {
            return None;
        }
        *saved_at = Instant::now();
        Some(SessionRecord {
            principal_id: binding.principal_id.clone(),
            owner: shared.this_replica().clone(),
            initialize: InitializeRequestParams::clone(initialize),
        })
    }

    pub(crate) fn check(&self, session_id: &str, principal_id: &str) -> Check {
        let mut table = self.table.lock();
        match table.by_session.get_mut(session_id) {
            Some(binding) if binding.principal_id == principal_id => {
                binding.last_seen = Instant::now();
                Check::Owner
            }
            Some(_) => Check::Stranger,
            None => Check::Unknown,
        }
    }

    /// Binds a new session (with its `initialize` parameters when sessions are shared); returns
    /// the sessions to close: the principal's least recently used ones beyond its cap, and any
    /// binding idle past the timeout.
    pub(crate) fn bind(
        &self,
        session_id: String,
        principal_id: String,
        initialize: Option<InitializeRequestParams>,
    ) -> Vec<String> {
        let mut table = self.table.lock();
        let mut closing = Vec::new();
        let idle = self.limits.idle_timeout;
        if table.by_session.len() % 256 == 255 {
            let expired: Vec<String> = table
                .by_session
                .iter()
                .filter(|(_, b)| b.last_seen.elapsed() > idle)
                .map(|(id, _)| id.clone())
                .collect();
            for id in expired {
                table.remove(&id);
                closing.push(id);
            }
        }
        while table.per_principal.get(&principal_id).copied().unwrap_or(0) >= self.limits.max_per_principal.max(1) {
            let oldest = table
                .by_session
                .iter()
                .filter(|(_, b)| b.principal_id == principal_id)
                .min_by_key(|(_, b)| b.last_seen)
                .map(|(id, _)| id.clone());
            let Some(oldest) = oldest else { break };
            table.remove(&oldest);
            closing.push(oldest);
        }
        *table.per_principal.entry(principal_id.clone()).or_insert(0) += 1;
        table.by_session.insert(
            session_id,
            Binding {
                principal_id,
                last_seen: Instant::now(),
                shared: initialize.map(|params| (Arc::new(params), Instant::now())),
            },
        );
        closing
    }

    pub(crate) fn forget(&self, session_id: &str) {
        self.table.lock().remove(session_id);
    }

    /// How many sessions are bound (tests, metrics).
    pub fn len(&self) -> usize {
        self.table.lock().by_session.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many sessions `principal_id` holds (tests, metrics).
    pub fn sessions_of(&self, principal_id: &str) -> usize {
        self.table.lock().per_principal.get(principal_id).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_principal_at_its_cap_loses_its_least_recently_used_session() {
        let bindings = SessionBindings::new(SessionLimits {
            max_per_principal: 2,
            idle_timeout: Duration::from_secs(60),
        });
        assert!(bindings.bind("s1".into(), "alice".into(), None).is_empty());
        assert!(bindings.bind("s2".into(), "alice".into(), None).is_empty());
        assert!(bindings.bind("b1".into(), "bob".into(), None).is_empty());
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(bindings.check("s1", "alice"), Check::Owner);
        assert_eq!(bindings.bind("s3".into(), "alice".into(), None), vec!["s2".to_owned()]);
        assert_eq!(bindings.sessions_of("alice"), 2);
        assert_eq!(bindings.check("s2", "alice"), Check::Unknown);
        assert_eq!(bindings.check("s1", "bob"), Check::Stranger);
        bindings.forget("s1");
        assert_eq!(bindings.sessions_of("alice"), 1);
        assert_eq!(bindings.sessions_of("bob"), 1);
    }
}

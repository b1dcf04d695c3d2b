//! MCP sessions shared by replicas: any replica behind a plain round-robin balancer serves any
//! session.
//!
//! **Design: one owner per session, found through the state store; other replicas forward.**
//! A session lives in the memory of the replica that created it (its *owner*): the rmcp session
//! worker, the upstream connections opened for it (gateway mode), its server→client streams and
//! the server→client requests it is waiting on. The state store (Redis) holds one
//! [`SessionRecord`] per session: the principal that created it, the owner's
//! [`ReplicaUrl`], and the `initialize` parameters. A replica that gets a request for a session
//! it does not hold reads the record and
//!
//! - refuses it (`403`) when the caller is not the session's principal — on every replica;
//! - forwards the HTTP request, streaming both ways, to the owner otherwise;
//! - takes the session over when the owner does not answer: it records itself as the owner and
//!   rmcp replays the stored `initialize` into a fresh session worker
//!   ([`rmcp::transport::streamable_http_server::session::SessionStore`]).
//!
//! Why not rmcp's restore alone (every replica re-creating the session on first sight)? A
//! session would then run in several workers at once: a server→client request (sampling,
//! elicitation) sent by one replica would be answered by a POST that lands on another, whose
//! worker never asked; both workers number their requests from 0, so answers could even reach
//! the wrong request; and each replica would open its own upstream sessions. Why not state
//! encrypted into `Mcp-Session-Id` (agentgateway's choice)? It carries no live state: pending
//! server→client requests, open streams and stdio upstream children cannot be encoded. Forwarding
//! keeps every session in one worker at the cost of one extra hop for requests that land on
//! another replica (a balancer with session affinity avoids the hop; it is not required).
//!
//! Limits: the per-principal session cap is counted per owner; a takeover starts new upstream
//! sessions (their server-side state, e.g. subscriptions, is not carried over).

use std::sync::Arc;
use std::time::Duration;

use rmcp::model::InitializeRequestParams;
use rmcp::transport::streamable_http_server::session::{SessionState, SessionStore, SessionStoreError};
use serde::{Deserialize, Serialize};
use toolgate_store::{Namespace, StateStore, StateStoreJson as _, StoreError};

/// State store namespace of session records (`{prefix}:mcp-session:{session id}`).
pub const SESSION_NAMESPACE: Namespace = match Namespace::new("mcp-session") {
    Some(ns) => ns,
    None => panic!("valid namespace"),
};

/// The base URL at which other replicas reach this one (`[server] advertise_url`), e.g.
/// `http://10.0.3.7:8080`: scheme, host and port, no path, no trailing slash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ReplicaUrl(String);

/// Why a replica URL was refused.
#[derive(Debug, thiserror::Error)]
#[error("`{value}` is not a replica URL: {reason}")]
pub struct InvalidReplicaUrl {
    value: String,
    reason: &'static str,
}

impl ReplicaUrl {
    /// Parses `http(s)://host[:port]`; a path other than `/`, a query, a fragment or user
    /// information are refused.
    pub fn parse(value: &str) -> Result<Self, InvalidReplicaUrl> {
        let invalid = |reason| InvalidReplicaUrl {
            value: value.to_owned(),
            reason,
        };
        let url = url::Url::parse(value).map_err(|_| invalid("not an absolute URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https"));
        }
        if url.host().is_none() {
            return Err(invalid("it has no host"));
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(invalid("it must not have a path, query or fragment"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("it must not carry credentials"));
        }
        Ok(Self(url.as_str().trim_end_matches('/').to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ReplicaUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What every replica knows of one session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionRecord {
    /// The principal that created the session; nobody else may use it.
    pub principal_id: String,
    /// The replica holding the session.
    pub owner: ReplicaUrl,
    /// The client's `initialize` parameters, replayed when another replica takes over.
    pub initialize: InitializeRequestParams,
}

/// Session records in the state store, and this replica's identity.
#[derive(Clone)]
pub struct SharedSessions {
    store: Arc<dyn StateStore>,
    this_replica: ReplicaUrl,
    /// How long a record lives without being refreshed (the session idle timeout).
    ttl: Duration,
    client: reqwest::Client,
}

impl std::fmt::Debug for SharedSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedSessions")
            .field("this_replica", &self.this_replica)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// How long forwarding waits for the owner to accept a connection before taking over.
const OWNER_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

impl SharedSessions {
    /// Records in `store` (shared by every replica), this replica reachable at `this_replica`.
    /// `ttl` is the session idle timeout: a record nobody refreshes for that long is gone.
    pub fn new(store: Arc<dyn StateStore>, this_replica: ReplicaUrl, ttl: Duration) -> Self {
        // Requests are forwarded as they came (no redirects followed, no proxy from the
        // environment); SSE streams may stay open, so only connecting is bounded.
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(OWNER_CONNECT_TIMEOUT)
            .build()
            .unwrap_or_default();
        Self {
            store,
            this_replica,
            ttl: ttl.max(Duration::from_secs(1)),
            client,
        }
    }

    pub fn this_replica(&self) -> &ReplicaUrl {
        &self.this_replica
    }

    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// How often the owner rewrites a record it keeps using (a quarter of its lifetime).
    pub(crate) fn refresh_interval(&self) -> Duration {
        self.ttl / 4
    }

    pub(crate) async fn load(&self, session_id: &str) -> Result<Option<SessionRecord>, StoreError> {
        self.store.get_json(SESSION_NAMESPACE, session_id).await
    }

    pub(crate) async fn save(&self, session_id: &str, record: &SessionRecord) -> Result<(), StoreError> {
        self.store
            .put_json(SESSION_NAMESPACE, session_id, record, self.ttl)
            .await
    }

    pub(crate) async fn remove(&self, session_id: &str) -> Result<(), StoreError> {
        self.store.delete(SESSION_NAMESPACE, session_id).await.map(drop)
    }

    /// rmcp's view of the records: where a taken-over session's `initialize` comes from.
    pub(crate) fn restore_source(&self) -> Arc<dyn SessionStore> {
        Arc::new(RestoreSource(self.clone()))
    }
}

/// rmcp's [`SessionStore`] over the session records. Only `load` does anything: the MCP edge
/// writes and removes records itself (it knows the principal and this replica, rmcp does not,
/// and it must fail the `initialize` when the store is down, where rmcp would only log).
struct RestoreSource(SharedSessions);

#[async_trait::async_trait]
impl SessionStore for RestoreSource {
    async fn load(&self, session_id: &str) -> Result<Option<SessionState>, SessionStoreError> {
        let record = self.0.load(session_id).await?;
        Ok(record.map(|r| SessionState::new(r.initialize)))
    }

    async fn store(&self, _session_id: &str, _state: &SessionState) -> Result<(), SessionStoreError> {
        Ok(())
    }

    async fn delete(&self, _session_id: &str) -> Result<(), SessionStoreError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replica_urls_are_bare_origins() {
        assert_eq!(
            ReplicaUrl::parse("http://10.0.3.7:8080").unwrap().as_str(),
            "http://10.0.3.7:8080"
        );
        assert_eq!(
            ReplicaUrl::parse("https://gw-1.internal/").unwrap().as_str(),
            "https://gw-1.internal"
        );
        for bad in [
            "10.0.3.7:8080",
            "ftp://gw-1",
            "http://gw-1/mcp",
            "http://gw-1?x=1",
            "http://u:p@gw-1",
            "",
        ] {
            assert!(ReplicaUrl::parse(bad).is_err(), "{bad}");
        }
    }
}

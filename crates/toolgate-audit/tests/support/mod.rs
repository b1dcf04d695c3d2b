//! Shared by the integration tests: event builders, a private PostgreSQL database per test, and
//! a loopback TCP proxy the tests can cut to simulate a database outage.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    dead_code,
    reason = "test support: a failed setup must fail the test loudly"
)]

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;
use toolgate_audit::argument_digest;
use toolgate_core::{AuditDecision, AuditEvent};

/// Where the test PostgreSQL server is (trust auth). Override with `TOOLGATE_TEST_POSTGRES`.
pub fn postgres_base() -> String {
    std::env::var("TOOLGATE_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

fn postgres_addr() -> SocketAddr {
    let base = postgres_base();
    let host = base
        .rsplit_once('@')
        .map_or(base.as_str(), |(_, host)| host)
        .trim_end_matches('/');
    let host = host.split('/').next().unwrap();
    let host = if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:5432")
    };
    host.parse()
        .unwrap_or_else(|e| panic!("TOOLGATE_TEST_POSTGRES host {host:?}: {e}"))
}

/// A database of its own for one test, dropped by [`PgDatabase::drop_database`].
pub struct PgDatabase {
    pub name: String,
    admin: DatabaseConnection,
}

impl PgDatabase {
    /// Creates `audit_<uuid>`. Fails the test (never skips it) when PostgreSQL is unreachable.
    pub async fn create() -> Self {
        let admin_url = format!("{}/test", postgres_base());
        let mut options = ConnectOptions::new(admin_url.clone());
        options.acquire_timeout(Duration::from_secs(5));
        let admin = Database::connect(options).await.unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is not reachable at {admin_url}: {e}. These tests need a real \
                 server (trust auth, database `test`); start it or set TOOLGATE_TEST_POSTGRES."
            )
        });
        let name = format!("audit_{}", uuid::Uuid::new_v4().simple());
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        Self { name, admin }
    }

    /// URL of this database on the real server.
    pub fn url(&self) -> String {
        format!("{}/{}", postgres_base(), self.name)
    }

    /// URL of this database through `proxy`.
    pub fn url_via(&self, proxy: &Proxy) -> String {
        let base = postgres_base();
        let user = base
            .split_once("://")
            .and_then(|(_, rest)| rest.rsplit_once('@'))
            .map_or(String::new(), |(user, _)| format!("{user}@"));
        format!("postgres://{user}{}/{}", proxy.addr, self.name)
    }

    pub async fn drop_database(self) {
        self.admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
            .await
            .unwrap_or_else(|e| panic!("DROP DATABASE {}: {e}", self.name));
    }
}

/// A TCP proxy from `127.0.0.1:0` to PostgreSQL that can be cut (every connection dropped, new
/// ones closed at once) and restored.
pub struct Proxy {
    pub addr: SocketAddr,
    cut: Arc<AtomicBool>,
    connections: Arc<parking_lot::Mutex<Vec<AbortHandle>>>,
    accept: AbortHandle,
}

impl Proxy {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let target = postgres_addr();
        let cut = Arc::new(AtomicBool::new(false));
        let connections: Arc<parking_lot::Mutex<Vec<AbortHandle>>> = Arc::default();
        let accept = {
            let cut = cut.clone();
            let connections = connections.clone();
            tokio::spawn(async move {
                loop {
                    let Ok((mut client, _)) = listener.accept().await else {
                        continue;
                    };
                    if cut.load(Ordering::SeqCst) {
                        drop(client);
                        continue;
                    }
                    let task = tokio::spawn(async move {
                        if let Ok(mut server) = TcpStream::connect(target).await {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    });
                    connections.lock().push(task.abort_handle());
                }
            })
            .abort_handle()
        };
        Self {
            addr,
            cut,
            connections,
            accept,
        }
    }

    /// Drops every open connection and refuses new ones until [`restore`](Self::restore).
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for connection in self.connections.lock().drain(..) {
            connection.abort();
        }
    }

    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}

/// A varied but deterministic event: every optional column is sometimes null, every decision
/// occurs, arguments hold nested JSON and non-ASCII text.
pub fn event(n: usize) -> AuditEvent {
    event_with_id(n, format!("00000000-0000-4000-8000-{n:012}"))
}

/// Like [`event`] with a random id, for tests that record many events.
pub fn random_event(n: usize) -> AuditEvent {
    event_with_id(n, uuid::Uuid::new_v4().to_string())
}

fn event_with_id(n: usize, event_id: String) -> AuditEvent {
    let decisions = [
        AuditDecision::Allow,
        AuditDecision::Deny,
        AuditDecision::ShadowDeny,
        AuditDecision::AuthFailed,
    ];
    let decision = decisions[n % decisions.len()];
    let arguments = json!({"query": format!("héllo ✓ {n}"), "nested": {"b": [1, 2.5, null, true], "a": n}});
    let auth_failed = decision == AuditDecision::AuthFailed;
    AuditEvent {
        event_id,
        occurred_at_ms: 1_750_000_000_000 + (n as i64) * 7,
        request_id: format!("req-{n}"),
        session_id: n.is_multiple_of(2).then(|| format!("session-{}", n / 2)),
        principal_id: (!auth_failed).then(|| format!("user-{}", n % 3)),
        tenant_id: (!auth_failed).then(|| "tenant-1".to_owned()),
        client_app_id: (!n.is_multiple_of(5)).then(|| "app-1".to_owned()),
        provider: if n.is_multiple_of(2) { "entra" } else { "entra-obo" }.to_owned(),
        method: if n.is_multiple_of(3) {
            "tools/list"
        } else {
            "tools/call"
        }
        .to_owned(),
        tool: (!n.is_multiple_of(3)).then(|| format!("tool-{}", n % 2)),
        decision,
        policy_ids: (0..n % 3).map(|i| format!("policy{i}")).collect(),
        policy_set_hash: (!auth_failed).then(|| "3f1a".to_owned()),
        argument_digest: (!n.is_multiple_of(3)).then(|| argument_digest(&arguments)),
        arguments: (n % 2 == 1).then_some(arguments),
        latency_us: (n as i64) * 13,
        outcome: if auth_failed {
            toolgate_core::AuditOutcome::AuthFailed
        } else {
            toolgate_core::AuditOutcome::Ok
        },
        reason_code: auth_failed.then(|| "expired".to_owned()),
        upstream: None,
        upstream_item: None,
        write: Default::default(),
    }
}

/// Polls `check` every 50 ms until it holds; fails the test after `timeout`.
pub async fn eventually<F, Fut>(what: &str, timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

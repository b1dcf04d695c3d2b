//! The writer against real databases: SQLite in a temporary directory and the PostgreSQL server
//! on 127.0.0.1:5432 (each test in a database of its own). PostgreSQL tests fail, never skip,
//! when the server is unreachable.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod support;

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use support::{PgDatabase, Proxy, event, eventually, random_event};
use toolgate_audit::{AuditConfig, AuditError, AuditFilter, AuditStore, AuditWriter, SpoolFullPolicy};
use toolgate_core::{AuditDecision, AuditEvent, AuditSink};

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", dir.join("audit.db").display())
}

fn config(url: &str, dir: &Path) -> AuditConfig {
    let mut config = AuditConfig::new(url, dir.join("spool.jsonl"));
    config.flush_interval = Duration::from_millis(20);
    config.replay_interval = Duration::from_millis(100);
    config.connect_timeout = Duration::from_millis(500);
    config
}

async fn all_events(store: &AuditStore) -> Vec<AuditEvent> {
    store.query(&AuditFilter::default()).await.unwrap()
}

fn assert_unique(events: &[AuditEvent]) {
    let ids: HashSet<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
    assert_eq!(ids.len(), events.len(), "an event_id occurs twice");
}

/// Records the scenario, reads it back, and checks the filters. Returns every stored event.
async fn scenario(url: &str, dir: &Path) -> Vec<AuditEvent> {
    let writer = AuditWriter::start(config(url, dir)).await.unwrap();
    // Out of order on purpose: the store orders by time.
    let events: Vec<AuditEvent> = (0..40).rev().map(event).collect();
    for e in &events {
        writer.record(e.clone()).await.unwrap();
    }
    // Recording an event again (a retried request) stores it once.
    writer.record(event(3)).await.unwrap();
    writer.flush().await;
    let health = writer.health();
    assert_eq!(health.spooled_events, 0, "{health:?}");
    assert!(health.database_available, "{health:?}");
    writer.shutdown().await;

    let store = AuditStore::connect(url).await.unwrap();
    let stored = all_events(&store).await;
    let mut expected = events.clone();
    expected.sort_by_key(|e| e.occurred_at_ms);
    assert_eq!(stored, expected);

    let count = |filter: AuditFilter| {
        let store = store.clone();
        async move { store.count(&filter).await.unwrap() }
    };
    let matching = |f: &dyn Fn(&AuditEvent) -> bool| events.iter().filter(|e| f(e)).count() as u64;
    assert_eq!(
        count(AuditFilter {
            principal_id: Some("user-1".into()),
            ..Default::default()
        })
        .await,
        matching(&|e| e.principal_id.as_deref() == Some("user-1"))
    );
    assert_eq!(
        count(AuditFilter {
            tool: Some("tool-1".into()),
            decision: Some(AuditDecision::Deny),
            ..Default::default()
        })
        .await,
        matching(&|e| e.tool.as_deref() == Some("tool-1") && e.decision == AuditDecision::Deny)
    );
    assert_eq!(
        count(AuditFilter {
            method: Some("tools/list".into()),
            ..Default::default()
        })
        .await,
        matching(&|e| e.method == "tools/list")
    );
    let since = event(10).occurred_at_ms;
    let until = event(20).occurred_at_ms;
    let window = AuditFilter {
        since_ms: Some(since),
        until_ms: Some(until),
        ..Default::default()
    };
    assert_eq!(count(window.clone()).await, 10, "since is inclusive, until exclusive");
    let page = store
        .query(&AuditFilter {
            limit: Some(3),
            offset: Some(2),
            ..window
        })
        .await
        .unwrap();
    let ids: Vec<&str> = page.iter().map(|e| e.request_id.as_str()).collect();
    assert_eq!(ids, ["req-12", "req-13", "req-14"]);
    stored
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_and_postgres_store_identical_rows() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = scenario(&sqlite_url(dir.path()), dir.path()).await;

    let pg = PgDatabase::create().await;
    let pg_dir = tempfile::tempdir().unwrap();
    let postgres = scenario(&pg.url(), pg_dir.path()).await;
    pg.drop_database().await;

    // AuditEvent is every column but the surrogate id.
    assert_eq!(sqlite, postgres);
}

async fn many_tasks(url: &str, dir: &Path) {
    let mut config = config(url, dir);
    config.batch_size = 32;
    let writer = AuditWriter::start(config).await.unwrap();
    let mut tasks = Vec::new();
    for t in 0..20 {
        let writer = writer.clone();
        tasks.push(tokio::spawn(async move {
            let mut sent = Vec::new();
            for n in 0..100 {
                let e = random_event(t * 100 + n);
                writer.record(e.clone()).await.unwrap();
                sent.push(e);
            }
            // A few retried requests record their event again.
            for e in sent.iter().take(5) {
                writer.record(e.clone()).await.unwrap();
            }
            sent
        }));
    }
    let mut sent = HashSet::new();
    for task in tasks {
        sent.extend(task.await.unwrap().into_iter().map(|e| e.event_id));
    }
    writer.flush().await;
    writer.shutdown().await;

    let store = AuditStore::connect(url).await.unwrap();
    assert_eq!(store.count(&AuditFilter::default()).await.unwrap(), 2_000);
    let stored = all_events(&store).await;
    assert_unique(&stored);
    let stored: HashSet<String> = stored.into_iter().map(|e| e.event_id).collect();
    assert_eq!(stored, sent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_batches_events_from_many_tasks() {
    let dir = tempfile::tempdir().unwrap();
    many_tasks(&sqlite_url(dir.path()), dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_batches_events_from_many_tasks() {
    let pg = PgDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    many_tasks(&pg.url(), dir.path()).await;
    pg.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_loses_nothing() {
    let pg = PgDatabase::create().await;
    let proxy = Proxy::start().await;
    let dir = tempfile::tempdir().unwrap();
    let spool_path = dir.path().join("spool.jsonl");
    let writer = AuditWriter::start(config(&pg.url_via(&proxy), dir.path()))
        .await
        .unwrap();
    let mut n = 0;
    let mut record = async |count: usize| {
        for _ in 0..count {
            writer.record(random_event(n)).await.unwrap();
            n += 1;
        }
    };

    record(50).await;
    writer.flush().await;
    assert_eq!(writer.health().committed_events, 50);

    proxy.cut();
    record(50).await;
    writer.flush().await;
    let during = writer.health();
    assert_eq!(during.spooled_events, 50, "{during:?}");
    assert!(!during.database_available, "{during:?}");
    assert!(during.last_db_error.is_some(), "{during:?}");
    assert!(std::fs::metadata(&spool_path).unwrap().len() > 0);
    // Still down: more events join the spool behind the first ones.
    record(25).await;
    writer.flush().await;
    assert_eq!(writer.health().spooled_events, 75);

    proxy.restore();
    // The timer replays the spool without any new event or flush.
    eventually("the spool replayed", Duration::from_secs(10), || async {
        writer.health().spooled_events == 0
    })
    .await;
    record(25).await;
    writer.flush().await;
    let after = writer.health();
    assert!(after.database_available, "{after:?}");
    assert_eq!(after.spooled_events, 0);
    writer.shutdown().await;
    assert_eq!(std::fs::metadata(&spool_path).unwrap().len(), 0);

    let store = AuditStore::connect(&pg.url()).await.unwrap();
    let stored = all_events(&store).await;
    assert_eq!(stored.len(), 150);
    assert_unique(&stored);
    // Replayed in order: ids grow with time, and the spooled events sit between the others.
    let request_ids: Vec<String> = stored.iter().map(|e| e.request_id.clone()).collect();
    let expected: Vec<String> = (0..150).map(|n| format!("req-{n}")).collect();
    assert_eq!(request_ids, expected);
    drop(proxy);
    pg.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_down_at_start_then_restart_replays_the_spool() {
    let pg = PgDatabase::create().await;
    let proxy = Proxy::start().await;
    let dir = tempfile::tempdir().unwrap();
    proxy.cut();

    // The database is unreachable at start: start anyway and spool.
    let writer = AuditWriter::start(config(&pg.url_via(&proxy), dir.path()))
        .await
        .unwrap();
    for n in 0..30 {
        writer.record(random_event(n)).await.unwrap();
    }
    writer.flush().await;
    assert_eq!(writer.health().spooled_events, 30);
    writer.shutdown().await;
    assert!(writer.record(random_event(99)).await.is_err(), "shut down");

    // A new process with the database back replays the spool while starting.
    proxy.restore();
    let writer = AuditWriter::start(config(&pg.url_via(&proxy), dir.path()))
        .await
        .unwrap();
    assert_eq!(writer.health().spooled_events, 0);
    let store = AuditStore::connect(&pg.url()).await.unwrap();
    assert_eq!(store.count(&AuditFilter::default()).await.unwrap(), 30);
    writer.shutdown().await;
    drop(proxy);
    pg.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_restart_replays_a_spool_left_behind() {
    let dir = tempfile::tempdir().unwrap();
    // A database that cannot be opened (no such directory, no mode=rwc) stands in for an outage.
    let missing = format!("sqlite://{}", dir.path().join("nope/audit.db").display());
    let writer = AuditWriter::start(config(&missing, dir.path())).await.unwrap();
    for n in 0..10 {
        writer.record(event(n)).await.unwrap();
    }
    writer.flush().await;
    assert_eq!(writer.health().spooled_events, 10);
    writer.shutdown().await;

    let url = sqlite_url(dir.path());
    let writer = AuditWriter::start(config(&url, dir.path())).await.unwrap();
    assert_eq!(writer.health().spooled_events, 0);
    writer.shutdown().await;
    let store = AuditStore::connect(&url).await.unwrap();
    let stored = all_events(&store).await;
    assert_eq!(stored, (0..10).map(event).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_url_fails_start_up() {
    let dir = tempfile::tempdir().unwrap();
    for url in ["not a url", "mysqlx://x/y", "postgres://u@host:notaport/db"] {
        let result = AuditWriter::start(config(url, dir.path())).await;
        assert!(
            matches!(result, Err(AuditError::InvalidUrl { .. })),
            "{url}: {result:?}"
        );
    }
}

/// A spool that holds about three events.
fn tiny_spool(url: &str, dir: &Path, policy: SpoolFullPolicy) -> AuditConfig {
    let mut config = config(url, dir);
    let line = serde_json::to_vec(&random_event(1)).unwrap().len() as u64 + 1;
    config.spool_max_bytes = line * 3 + line / 2;
    config.batch_size = 1;
    config.on_spool_full = policy;
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spool_full_fails_closed_then_recovers() {
    let pg = PgDatabase::create().await;
    let proxy = Proxy::start().await;
    let dir = tempfile::tempdir().unwrap();
    let writer = AuditWriter::start(tiny_spool(&pg.url_via(&proxy), dir.path(), SpoolFullPolicy::FailClosed))
        .await
        .unwrap();
    proxy.cut();

    let mut accepted = 0;
    let mut refused = None;
    for n in 0..200 {
        match writer.record(random_event(n)).await {
            Ok(()) => accepted += 1,
            Err(error) => {
                refused = Some(error);
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let refused = refused.expect("record() must refuse once the spool is full");
    assert!(refused.0.contains("spool full"), "{refused}");
    let health = writer.health();
    assert!(health.spool_full, "{health:?}");
    assert_eq!(health.spooled_events, 3, "{health:?}");

    proxy.restore();
    eventually("room in the spool again", Duration::from_secs(10), || async {
        !writer.health().spool_full
    })
    .await;
    writer.record(random_event(1_000)).await.unwrap();
    accepted += 1;
    writer.flush().await;
    writer.shutdown().await;

    let store = AuditStore::connect(&pg.url()).await.unwrap();
    let stored = all_events(&store).await;
    // Every accepted event is stored, including those held in memory while the spool was full.
    assert_eq!(stored.len(), accepted);
    assert_unique(&stored);
    drop(proxy);
    pg.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spool_full_blocks_then_completes() {
    let pg = PgDatabase::create().await;
    let proxy = Proxy::start().await;
    let dir = tempfile::tempdir().unwrap();
    let writer = AuditWriter::start(tiny_spool(&pg.url_via(&proxy), dir.path(), SpoolFullPolicy::Block))
        .await
        .unwrap();
    proxy.cut();

    let producer = {
        let writer = writer.clone();
        tokio::spawn(async move {
            for n in 0..20 {
                writer.record(random_event(n)).await.unwrap();
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    eventually("the spool to fill", Duration::from_secs(10), || async {
        writer.health().spool_full
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!producer.is_finished(), "record() must wait while the spool is full");

    proxy.restore();
    tokio::time::timeout(Duration::from_secs(15), producer)
        .await
        .expect("record() completes once the database is back")
        .unwrap();
    writer.flush().await;
    writer.shutdown().await;

    let store = AuditStore::connect(&pg.url()).await.unwrap();
    let stored = all_events(&store).await;
    assert_eq!(stored.len(), 20);
    assert_unique(&stored);
    drop(proxy);
    pg.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_full_fails_closed() {
    let dir = tempfile::tempdir().unwrap();
    let missing = format!("sqlite://{}", dir.path().join("nope/audit.db").display());
    let mut config = tiny_spool(&missing, dir.path(), SpoolFullPolicy::FailClosed);
    config.queue_capacity = 2;
    let writer = AuditWriter::start(config).await.unwrap();
    let mut refused = false;
    for n in 0..50 {
        if writer.record(random_event(n)).await.is_err() {
            refused = true;
            break;
        }
    }
    assert!(refused, "a full queue must refuse under FailClosed");
    writer.shutdown().await;
}

/// A durable record is in the database when `record_durable` returns — without a flush, with a
/// long flush interval — and its completion replaces the outcome of the same row.
async fn durable_then_completed(url: &str, dir: &Path) -> AuditEvent {
    let mut config = config(url, dir);
    config.flush_interval = Duration::from_secs(30);
    let writer = AuditWriter::start(config).await.unwrap();
    let store = AuditStore::connect(url).await.unwrap();
    let mut decision = event(7);
    decision.outcome = toolgate_core::AuditOutcome::Pending;
    writer.record_durable(decision.clone()).await.unwrap();
    let stored = all_events(&store).await;
    assert_eq!(stored.len(), 1, "the decision is stored before record_durable returns");
    assert_eq!(stored[0].outcome, "pending");

    let started = std::time::Instant::now();
    let done = decision.completed(
        toolgate_core::AuditOutcome::ToolError,
        Some("mcp_error_-32603"),
        started,
    );
    writer.record(done).await.unwrap();
    writer.flush().await;
    let stored = all_events(&store).await;
    assert_eq!(stored.len(), 1, "the completion updates the row, it adds none");
    assert_eq!(stored[0].outcome, "tool_error");
    assert_eq!(stored[0].reason_code.as_deref(), Some("mcp_error_-32603"));
    assert_eq!(stored[0].event_id, decision.event_id);
    // Replaying both (a spool replayed twice) changes nothing.
    writer.record(decision.clone()).await.unwrap();
    writer
        .record(decision.completed(
            toolgate_core::AuditOutcome::ToolError,
            Some("mcp_error_-32603"),
            started,
        ))
        .await
        .unwrap();
    writer.flush().await;
    let again = all_events(&store).await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].outcome, "tool_error");
    writer.shutdown().await;
    again.into_iter().next().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn durable_decisions_and_their_outcomes_on_sqlite_and_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = durable_then_completed(&sqlite_url(dir.path()), dir.path()).await;
    let pg = PgDatabase::create().await;
    let pg_dir = tempfile::tempdir().unwrap();
    let postgres = durable_then_completed(&pg.url(), pg_dir.path()).await;
    pg.drop_database().await;
    assert_eq!(
        AuditEvent {
            latency_us: 0,
            ..sqlite
        },
        AuditEvent {
            latency_us: 0,
            ..postgres
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_durable_record_is_refused_when_neither_database_nor_spool_can_take_it() {
    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::start().await;
    let pg = PgDatabase::create().await;
    proxy.cut();
    let mut config = config(&pg.url_via(&proxy), dir.path());
    config.spool_max_bytes = 1;
    config.on_spool_full = SpoolFullPolicy::FailClosed;
    let writer = AuditWriter::start(config).await.unwrap();
    let refused = writer.record_durable(event(1)).await;
    assert!(refused.is_err(), "neither the database nor the spool took it");
    // Once the database answers again, durable records are accepted again.
    proxy.restore();
    eventually("durable records accepted again", Duration::from_secs(10), || {
        let writer = writer.clone();
        async move { writer.record_durable(random_event(2)).await.is_ok() }
    })
    .await;
    writer.shutdown().await;
    pg.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unprivileged_events_never_take_more_than_half_the_queue() {
    // A database that accepts connections and never answers keeps the writer busy.
    let tarpit = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("postgres://toolgate@{}/audit", tarpit.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((connection, _)) = tarpit.accept().await {
            open.push(connection);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(&url, dir.path());
    config.queue_capacity = 10;
    config.connect_timeout = Duration::from_secs(1);
    let writer = AuditWriter::start(config).await.unwrap();
    let busy = {
        let writer = writer.clone();
        tokio::spawn(async move { writer.record_durable(event(0)).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let taken = (1..31).filter(|n| writer.try_record_unprivileged(event(*n))).count();
    assert_eq!(taken, 5, "unprivileged events took {taken} places of a queue of 10");
    // Authorized events still find room.
    writer.record(event(100)).await.unwrap();
    let _ = busy.await;
    writer.shutdown().await;
    held.abort();
}

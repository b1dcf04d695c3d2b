//! Readiness against real databases: one statement that reads no row, at most once per ttl, and
//! "not ready" while PostgreSQL is cut off. Time is passed in (`is_ready_at`), never slept on.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use sea_orm::{ConnectionTrait as _, Database};
use support::{PgDatabase, Proxy, random_event};
use toolgate_audit::{AuditConfig, AuditStore, AuditWriter, READINESS_STATEMENT, ReadinessProbe};
use toolgate_core::AuditSink;

const TTL: Duration = Duration::from_secs(2);

/// A trail with `events` rows at `url` (migrated by the writer).
async fn trail(url: &str, dir: &std::path::Path, events: usize) {
    let mut config = AuditConfig::new(url, dir.join("spool.jsonl"));
    config.flush_interval = Duration::from_millis(20);
    let writer = AuditWriter::start(config).await.unwrap();
    for n in 0..events {
        writer.record(random_event(n)).await.unwrap();
    }
    writer.flush().await;
    writer.shutdown().await;
}

#[tokio::test]
async fn readiness_runs_one_rowless_statement_per_ttl_whatever_the_trail_holds() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("audit.db").display());
    trail(&url, dir.path(), 300).await;
    // Every statement the store's connection runs, as sea-orm reports it.
    let statements: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut db = Database::connect(&url).await.unwrap();
    let seen = statements.clone();
    db.set_metric_callback(move |info| seen.lock().push(info.statement.sql.clone()));
    let store = AuditStore::from_connection(db);
    let probe = Arc::new(ReadinessProbe::with_timing(
        store.clone(),
        TTL,
        ReadinessProbe::DEFAULT_TIMEOUT,
    ));

    let start = Instant::now();
    for _ in 0..25 {
        assert!(probe.is_ready_at(start).await);
    }
    assert!(probe.is_ready_at(start + TTL - Duration::from_millis(1)).await);
    assert_eq!(
        *statements.lock(),
        [READINESS_STATEMENT],
        "one statement for every ask within the ttl"
    );
    // Concurrent asks after the ttl share one new probe.
    let later = start + TTL;
    let asks: Vec<_> = (0..10)
        .map(|_| {
            let probe = probe.clone();
            tokio::spawn(async move { probe.is_ready_at(later).await })
        })
        .collect();
    for ask in asks {
        assert!(ask.await.unwrap());
    }
    assert_eq!(statements.lock().len(), 2);
    // The statement reads no row: it returns none from a trail of 300, where a count reads all.
    let rows = store
        .connection()
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Sqlite,
            READINESS_STATEMENT,
        ))
        .await
        .unwrap();
    assert!(rows.is_empty());
    let statements = statements.lock().clone();
    assert!(
        statements.iter().all(|sql| !sql.to_ascii_uppercase().contains("COUNT")),
        "{statements:?}"
    );
}

#[tokio::test]
async fn readiness_needs_the_migrated_table() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("empty.db").display());
    let store = AuditStore::connect(&url).await.unwrap();
    let probe = ReadinessProbe::new(store);
    assert!(!probe.is_ready().await, "no audit_events table: not ready");
}

#[tokio::test]
async fn readiness_follows_a_postgres_outage() {
    let pg = PgDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    trail(&pg.url(), dir.path(), 50).await;
    let proxy = Proxy::start().await;
    let store = AuditStore::connect(&pg.url_via(&proxy)).await.unwrap();
    let probe = ReadinessProbe::with_timing(store, TTL, Duration::from_millis(500));
    let start = Instant::now();
    assert!(probe.is_ready_at(start).await);
    proxy.cut();
    assert!(!probe.is_ready_at(start + TTL).await, "cut off: not ready");
    proxy.restore();
    assert!(probe.is_ready_at(start + TTL * 2).await, "back: ready again");
    drop(proxy);
    pg.drop_database().await;
}

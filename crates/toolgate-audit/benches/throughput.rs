//! Sustained audit throughput, SQLite and PostgreSQL, with zero loss checked by counting rows.
//!
//! `cargo bench -p toolgate-audit --bench throughput` (release). For each database:
//! - **enqueue**: `AUDIT_PRODUCERS` tasks `record()` `AUDIT_EVENTS` events in total (`block`
//!   policy, so a full queue waits instead of refusing), then `flush()`; the time runs until the
//!   last event is committed. This is what the request path of a denied call or a `tools/list`
//!   pays: an enqueue; the writer's batching decides the sustained rate.
//! - **durable**: `AUDIT_WAITERS` concurrent `record_durable()` calls (an allowed `tools/call`
//!   waits for its decision row to be committed before the tool runs), `AUDIT_EVENTS / 4` events.
//!
//! Each run counts the rows afterwards: a lost event fails the benchmark.
//! PostgreSQL is the test server (`TOOLGATE_TEST_POSTGRES`, default `postgres://postgres@127.0.0.1:5432`),
//! one fresh database per run, dropped at the end.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    reason = "a benchmark binary: a failed setup must stop it loudly"
)]

/// The same allocator as the `toolgate` binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database, Statement};
use tokio::sync::Semaphore;
use toolgate_audit::{AuditConfig, AuditWriter, SpoolFullPolicy};
use toolgate_core::AuditSink;

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

struct Run {
    database: &'static str,
    mode: &'static str,
    events: usize,
    elapsed: Duration,
}

async fn writer(url: &str, spool: &std::path::Path) -> AuditWriter {
    let mut config = AuditConfig::new(url, spool);
    config.on_spool_full = SpoolFullPolicy::Block;
    config.batch_size = setting("AUDIT_BATCH", config.batch_size);
    AuditWriter::start(config).await.unwrap()
}

async fn rows(url: &str) -> usize {
    let db = Database::connect(url).await.unwrap();
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM audit_events",
        ))
        .await
        .unwrap()
        .unwrap();
    let n: i64 = row.try_get("", "n").unwrap();
    usize::try_from(n).unwrap()
}

async fn enqueue(url: &str, spool: &std::path::Path, events: usize, producers: usize) -> Duration {
    let writer = writer(url, spool).await;
    // Events are built before the clock starts: what is measured is the audit trail, not the
    // canonical JSON and digests the gate computes anyway.
    let batches: Vec<Vec<_>> = (0..producers)
        .map(|p| (p..events).step_by(producers).map(support::random_event).collect())
        .collect();
    let start = Instant::now();
    let tasks: Vec<_> = batches
        .into_iter()
        .map(|batch| {
            let writer = writer.clone();
            tokio::spawn(async move {
                for event in batch {
                    writer.record(event).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    writer.flush().await;
    let elapsed = start.elapsed();
    writer.shutdown().await;
    elapsed
}

async fn durable(url: &str, spool: &std::path::Path, events: usize, waiters: usize) -> Duration {
    let writer = writer(url, spool).await;
    let permits = Arc::new(Semaphore::new(waiters));
    let prepared: Vec<_> = (0..events).map(support::random_event).collect();
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(events);
    for event in prepared {
        let permit = permits.clone().acquire_owned().await.unwrap();
        let writer = writer.clone();
        tasks.push(tokio::spawn(async move {
            writer.record_durable(event).await.unwrap();
            drop(permit);
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = start.elapsed();
    writer.shutdown().await;
    elapsed
}

async fn measure(database: &'static str, url: &str, events: usize, producers: usize, waiters: usize) -> Vec<Run> {
    let dir = tempfile::tempdir().unwrap();
    let spool = dir.path().join("spool.jsonl");
    // Warm-up (migrations, connections) on a few events; counted in the row check.
    enqueue(url, &spool, 100, 1).await;
    let elapsed = enqueue(url, &spool, events, producers).await;
    let mut runs = vec![Run {
        database,
        mode: "enqueue",
        events,
        elapsed,
    }];
    assert_eq!(
        rows(url).await,
        100 + events,
        "{database}: events lost in the enqueue run"
    );
    let durable_events = events / 4;
    let elapsed = durable(url, &spool, durable_events, waiters).await;
    runs.push(Run {
        database,
        mode: "durable",
        events: durable_events,
        elapsed,
    });
    assert_eq!(
        rows(url).await,
        100 + events + durable_events,
        "{database}: events lost in the durable run"
    );
    runs
}

fn main() {
    let events = setting("AUDIT_EVENTS", 200_000);
    let producers = setting("AUDIT_PRODUCERS", 8);
    let waiters = setting("AUDIT_WAITERS", 64);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let runs = runtime.block_on(async {
        // `AUDIT_ONLY=sqlite` or `postgres` runs one database, for profiling.
        let only = std::env::var("AUDIT_ONLY").unwrap_or_default();
        let mut runs = Vec::new();
        let dir = tempfile::tempdir().unwrap();
        if only.is_empty() || only == "sqlite" {
            let sqlite = format!("sqlite://{}?mode=rwc", dir.path().join("audit.db").display());
            runs.extend(measure("SQLite", &sqlite, events, producers, waiters).await);
        }
        if only.is_empty() || only == "postgres" {
            let pg = support::PgDatabase::create().await;
            runs.extend(measure("PostgreSQL", &pg.url(), events, producers, waiters).await);
            pg.drop_database().await;
        }
        runs
    });
    println!("| Database | Mode | Events | Seconds | Events/s | Lost |");
    println!("| --- | --- | ---: | ---: | ---: | ---: |");
    for run in runs {
        let secs = run.elapsed.as_secs_f64();
        println!(
            "| {} | {} ({} {}) | {} | {:.2} | {:.0} | 0 |",
            run.database,
            run.mode,
            if run.mode == "enqueue" { producers } else { waiters },
            if run.mode == "enqueue" { "producers" } else { "waiters" },
            run.events,
            secs,
            run.events as f64 / secs
        );
    }
}

//! The migrations against real databases: they apply, create what the audit writer needs, and
//! apply again without error. The PostgreSQL test fails (never skips) when the server at
//! 127.0.0.1:5432 (or `TOOLGATE_TEST_POSTGRES`) is unreachable.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use sea_orm_migration::MigratorTrait;
use sea_orm_migration::sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, Statement};
use toolgate_migrations::{Migrator, migrate};

/// Applies twice, then checks the table, its unique event_id and the recorded migration.
async fn apply_twice(db: &DatabaseConnection) {
    migrate(db).await.unwrap();
    migrate(db).await.unwrap();
    let backend = db.get_database_backend();
    let count = |sql: &str| {
        let sql = sql.to_owned();
        async move {
            let row = db
                .query_one_raw(Statement::from_string(backend, sql.clone()))
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
                .unwrap();
            row.try_get_by_index::<i64>(0).unwrap()
        }
    };
    assert_eq!(
        count("SELECT COUNT(*) FROM seaql_migrations").await,
        Migrator::migrations().len() as i64
    );
    // The gateway's columns exist (a select naming them fails otherwise).
    assert_eq!(
        count("SELECT COUNT(*) FROM audit_events WHERE upstream IS NULL AND upstream_item IS NULL").await,
        0
    );
    assert_eq!(count("SELECT COUNT(*) FROM audit_events").await, 0);
    assert!(Migrator::get_pending_migrations(db).await.unwrap().is_empty());

    let insert = "INSERT INTO audit_events (event_id, occurred_at, request_id, provider, method, \
                  decision, policy_ids, latency_us, outcome) VALUES ('e1', '2025-01-01 00:00:00+00', \
                  'r1', 'entra', 'tools/call', 'allow', '[]', 1, 'ok')";
    db.execute_unprepared(insert).await.unwrap();
    assert!(db.execute_unprepared(insert).await.is_err(), "event_id must be unique");
}

#[tokio::test]
async fn sqlite_migrations_are_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("m.db").display());
    let db = Database::connect(url.as_str()).await.unwrap();
    apply_twice(&db).await;
}

#[tokio::test]
async fn postgres_migrations_are_idempotent() {
    let base =
        std::env::var("TOOLGATE_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned());
    let mut options = ConnectOptions::new(format!("{base}/test"));
    options.acquire_timeout(std::time::Duration::from_secs(5));
    let admin = Database::connect(options).await.unwrap_or_else(|e| {
        panic!(
            "PostgreSQL is not reachable at {base}/test: {e}. This test needs a real server \
             (trust auth, database `test`); start it or set TOOLGATE_TEST_POSTGRES."
        )
    });
    let name = format!("migrate_{}", uuid::Uuid::new_v4().simple());
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let db = Database::connect(format!("{base}/{name}")).await.unwrap();
    apply_twice(&db).await;
    db.close().await.unwrap();
    admin
        .execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .await
        .unwrap();
}

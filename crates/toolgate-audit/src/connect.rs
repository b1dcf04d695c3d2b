//! Opening the database. The pool is lazy so that an unreachable database does not stop
//! toolgate from starting (events are spooled), while a malformed URL still fails at once.

use std::str::FromStr;
use std::time::Duration;

use sea_orm::sqlx::ConnectOptions as _;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr, SqlxSqliteConnector};

use crate::config::{SqliteSync, redact_url};
use crate::error::AuditError;

/// A lazily connecting pool for `url`; fails only when the URL itself is unusable.
pub(crate) async fn open(url: &str, timeout: Duration, sync: SqliteSync) -> Result<DatabaseConnection, AuditError> {
    let invalid = |source| AuditError::InvalidUrl {
        url: redact_url(url),
        source,
    };
    if url.starts_with("sqlite:") {
        // sea-orm's own SQLite connector queries the version even when lazy (a feature that
        // sea-orm-migration turns on), so an unopenable file would fail start-up: build the
        // pool here instead.
        // WAL: a commit appends to the log instead of rewriting pages through a rollback journal,
        // and readers (the REST audit query, readiness) never block the writer. `synchronous` as
        // configured ([`SqliteSync`]).
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| invalid(DbErr::Conn(sea_orm::RuntimeErr::Internal(e.to_string()))))?
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match sync {
                SqliteSync::Normal => SqliteSynchronous::Normal,
                SqliteSync::Full => SqliteSynchronous::Full,
            })
            .disable_statement_logging();
        let pool = SqlitePoolOptions::new()
            // One writer at a time is all SQLite does; a second connection would only wait.
            .max_connections(1)
            .acquire_timeout(timeout)
            .connect_lazy_with(options);
        return Ok(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool));
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .connect_lazy(true)
        .connect_timeout(timeout)
        .acquire_timeout(timeout)
        // Every batch would otherwise be logged as a statement at info level.
        .sqlx_logging(false);
    Database::connect(options).await.map_err(invalid)
}

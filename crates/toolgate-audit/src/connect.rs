//! Opening the database. The pool is lazy so that an unreachable database does not stop
//! toolgate from starting (events are spooled), while a malformed URL still fails at once.

use std::time::Duration;

use sea_orm::{ConnectOptions, Database, DatabaseConnection};

use crate::config::redact_url;
use crate::error::AuditError;

/// A lazily connecting pool for `url`; fails only when the URL itself is unusable.
pub(crate) async fn open(url: &str, timeout: Duration) -> Result<DatabaseConnection, AuditError> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .connect_lazy(true)
        .connect_timeout(timeout)
        .acquire_timeout(timeout)
        // Every batch would otherwise be logged as a statement at info level.
        .sqlx_logging(false);
    Database::connect(options)
        .await
        .map_err(|source| AuditError::InvalidUrl {
            url: redact_url(url),
            source,
        })
}

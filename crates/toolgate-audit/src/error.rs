//! Errors of the audit crate. The request path never sees these: it gets
//! [`toolgate_core::AuditUnavailable`] from `record()`; these are for start-up and queries.

use std::path::PathBuf;

use sea_orm::DbErr;

/// Why starting the writer or querying the trail failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// The URL cannot name a database (bad syntax or unsupported scheme). Unlike an unreachable
    /// database, this never fixes itself, so start-up fails.
    #[error("invalid audit database URL {url}: {source}")]
    InvalidUrl {
        /// The URL with any password removed.
        url: String,
        #[source]
        source: DbErr,
    },
    /// The configuration is inconsistent (zero batch size, zero queue …).
    #[error("invalid audit configuration: {0}")]
    InvalidConfig(String),
    /// The spool file cannot be opened, read or written.
    #[error("audit spool {path}: {source}")]
    Spool {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A query against the audit table failed.
    #[error("audit database {action}: {source}")]
    Database {
        /// What was being done (`query`, `count`, `connect` …).
        action: &'static str,
        #[source]
        source: DbErr,
    },
    /// A stored row cannot be turned back into an event (unknown decision, bad JSON).
    #[error("audit row {event_id} is malformed: {detail}")]
    MalformedRow { event_id: String, detail: String },
}

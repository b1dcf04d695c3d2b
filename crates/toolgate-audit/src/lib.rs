//! toolgate's audit trail: every authorization decision and every authentication failure becomes
//! one row in `audit_events`, on SQLite or PostgreSQL.
//!
//! The request path only enqueues ([`AuditWriter`] implements [`toolgate_core::AuditSink`]); a
//! background task writes batches. When the database is unreachable, batches go to an
//! append-only spool file and are replayed, in order, once it answers again — so an outage loses
//! nothing. When the spool is full too, [`SpoolFullPolicy`] decides between waiting and refusing
//! the request (fail closed). See `docs/audit.md`.

#![cfg_attr(not(test), deny(clippy::string_slice, clippy::indexing_slicing))]

mod config;
mod connect;
mod entity;
mod error;
mod health;
mod insert;
mod readiness;
mod spool;
mod store;
mod task;
mod writer;

// Argument capture and digests are core vocabulary; re-exported where they were first defined.
pub use config::{AuditConfig, SpoolFullPolicy, SqliteSync};
pub use error::AuditError;
pub use health::AuditHealth;
pub use readiness::{READINESS_STATEMENT, ReadinessProbe};
pub use store::{AuditFilter, AuditStore};
pub use toolgate_core::{ArgumentCapture, argument_digest, canonical_json, capture};
pub use writer::AuditWriter;

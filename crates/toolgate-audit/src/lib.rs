//! toolgate's audit trail: every authorization decision and every authentication failure becomes
//! one row in `audit_events`, on SQLite or PostgreSQL.
//!
//! The request path only enqueues ([`AuditWriter`] implements [`toolgate_core::AuditSink`]); a
//! background task writes batches. When the database is unreachable, batches go to an
//! append-only spool file and are replayed, in order, once it answers again — so an outage loses
//! nothing. When the spool is full too, [`SpoolFullPolicy`] decides between waiting and refusing
//! the request (fail closed). See `docs/audit.md`.

mod capture;
mod config;
mod connect;
mod digest;
mod entity;
mod error;
mod health;
mod insert;
mod readiness;
mod spool;
mod store;
mod task;
mod writer;

pub use capture::{ArgumentCapture, capture};
pub use config::{AuditConfig, SpoolFullPolicy};
pub use digest::{argument_digest, canonical_json};
pub use error::AuditError;
pub use health::AuditHealth;
pub use readiness::{READINESS_STATEMENT, ReadinessProbe};
pub use store::{AuditFilter, AuditStore};
pub use writer::AuditWriter;

//! Where audit events go.

use async_trait::async_trait;

use super::event::AuditEvent;

/// The audit trail could not take an event and is configured to fail closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit trail unavailable: {0}")]
pub struct AuditUnavailable(pub String);

/// Where events go.
///
/// Two promises, for two kinds of event:
/// - [`record`](AuditSink::record) *queues*: it returns once the event is in the sink's bounded
///   buffer (refusing, or waiting, when that is full — the sink's configuration decides). For
///   outcomes, lists and refusals, where nothing happens after the event whatever becomes of it.
/// - [`record_durable`](AuditSink::record_durable) returns only once the event is *durable*
///   (committed to the database, or written and fsynced to the sink's spool). The gate records
///   an allowed call's decision this way **before** forwarding the call: a call that runs always
///   has its row, and a call whose row cannot be written does not run.
#[async_trait]
pub trait AuditSink: Send + Sync + 'static {
    async fn record(&self, event: AuditEvent) -> Result<(), AuditUnavailable>;

    /// Waits until `event` is durable. The default suits sinks whose `record` is already
    /// synchronous (tests, [`NoAudit`]).
    async fn record_durable(&self, event: AuditEvent) -> Result<(), AuditUnavailable> {
        self.record(event).await
    }

    /// Queues `event` only if that cannot wait and leaves room for authorized traffic: for
    /// events an unauthenticated caller can cause at will (authentication failures). `false`
    /// when the event was not taken; the caller counts it instead.
    fn try_record_unprivileged(&self, event: AuditEvent) -> bool {
        let _ = event;
        false
    }
}

/// Discards events (tests, and the "gate without audit" benchmark).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAudit;

#[async_trait]
impl AuditSink for NoAudit {
    async fn record(&self, _event: AuditEvent) -> Result<(), AuditUnavailable> {
        Ok(())
    }

    fn try_record_unprivileged(&self, _event: AuditEvent) -> bool {
        true
    }
}

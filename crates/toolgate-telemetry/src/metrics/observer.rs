//! [`MeteredAudit`]: an [`AuditSink`] in front of another, counting every event it passes on.

use std::sync::Arc;

use async_trait::async_trait;
use toolgate_core::{AuditEvent, AuditSink, AuditUnavailable};

use super::Metrics;

/// Counts each event ([`Metrics::observe`]), then hands it to the audit trail. Events are
/// counted whether or not the trail takes them: a request the gate refused because the trail
/// was down still happened.
pub struct MeteredAudit {
    inner: Arc<dyn AuditSink>,
    metrics: Arc<Metrics>,
}

impl MeteredAudit {
    pub fn new(inner: Arc<dyn AuditSink>, metrics: Arc<Metrics>) -> Self {
        Self { inner, metrics }
    }
}

#[async_trait]
impl AuditSink for MeteredAudit {
    async fn record(&self, event: AuditEvent) -> Result<(), AuditUnavailable> {
        self.metrics.observe(&event);
        self.inner.record(event).await
    }

    async fn record_durable(&self, event: AuditEvent) -> Result<(), AuditUnavailable> {
        self.metrics.observe(&event);
        self.inner.record_durable(event).await
    }

    fn try_record_unprivileged(&self, event: AuditEvent) -> bool {
        self.metrics.observe(&event);
        self.inner.try_record_unprivileged(event)
    }
}

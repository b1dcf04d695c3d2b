//! Readiness of the audit trail for `/ready`: cheap whatever the table holds. One statement that
//! reads no row ([`READINESS_STATEMENT`]), at most once per `ttl` however often readiness is
//! asked (concurrent askers share the one probe in flight), bounded by a timeout.

use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Statement};
use tokio::sync::Mutex;

use crate::store::AuditStore;

/// What readiness runs. The table must exist (the schema is migrated) and the database must
/// answer, but `LIMIT 0` reads no row — PostgreSQL and SQLite both stop before the first — so its
/// cost does not grow with the trail (the probe it replaces counted every row).
pub const READINESS_STATEMENT: &str = "SELECT 1 FROM audit_events LIMIT 0";

/// Whether the audit trail answers, asked at most once per `ttl`.
#[derive(Debug)]
pub struct ReadinessProbe {
    store: AuditStore,
    ttl: Duration,
    timeout: Duration,
    /// When the database was last asked, and what it said.
    last: Mutex<Option<(Instant, bool)>>,
}

impl ReadinessProbe {
    /// How long an answer is reused: two seconds.
    pub const DEFAULT_TTL: Duration = Duration::from_secs(2);
    /// How long the statement may take before the trail counts as not ready: one second.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

    pub fn new(store: AuditStore) -> Self {
        Self::with_timing(store, Self::DEFAULT_TTL, Self::DEFAULT_TIMEOUT)
    }

    pub fn with_timing(store: AuditStore, ttl: Duration, timeout: Duration) -> Self {
        Self {
            store,
            ttl,
            timeout,
            last: Mutex::new(None),
        }
    }

    /// Whether the audit trail is ready now.
    pub async fn is_ready(&self) -> bool {
        self.is_ready_at(Instant::now()).await
    }

    /// Whether the audit trail is ready at `now`: the answer of the last probe when it is younger
    /// than the ttl, else a new probe's (a failure or a timeout is "not ready").
    pub async fn is_ready_at(&self, now: Instant) -> bool {
        let mut last = self.last.lock().await;
        if let Some((at, ready)) = *last
            && now.saturating_duration_since(at) < self.ttl
        {
            return ready;
        }
        let ready = matches!(tokio::time::timeout(self.timeout, self.probe()).await, Ok(Ok(())));
        *last = Some((now, ready));
        ready
    }

    async fn probe(&self) -> Result<(), sea_orm::DbErr> {
        let db = self.store.connection();
        let statement = Statement::from_string(db.get_database_backend(), READINESS_STATEMENT);
        db.query_all_raw(statement).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::EntityName as _;

    use super::READINESS_STATEMENT;
    use crate::entity::Entity;

    #[test]
    fn the_statement_names_the_audit_table() {
        assert_eq!(
            READINESS_STATEMENT,
            format!("SELECT 1 FROM {} LIMIT 0", Entity.table_name())
        );
    }
}

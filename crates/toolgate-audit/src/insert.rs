//! Writing events: multi-row INSERTs that skip event ids already stored, so a batch that was
//! committed but whose acknowledgement was lost can be replayed without duplicates.

use sea_orm::{DatabaseConnection, DbErr, EntityTrait};
use toolgate_core::AuditEvent;

use crate::entity::{self, Column, Entity};

/// Rows per statement: 19 bound values each stays below SQLite's 32 766-parameter limit and
/// PostgreSQL's 65 535 whatever `batch_size` is configured.
const ROWS_PER_STATEMENT: usize = 1_000;

/// Inserts `events`; rows whose `event_id` exists already are skipped. Returns the rows written.
pub(crate) async fn insert_events(db: &DatabaseConnection, events: &[AuditEvent]) -> Result<u64, DbErr> {
    let mut written = 0;
    for chunk in events.chunks(ROWS_PER_STATEMENT) {
        let result = Entity::insert_many(chunk.iter().map(entity::active_model))
            .on_conflict_do_nothing_on([Column::EventId])
            .exec_without_returning(db)
            .await?;
        if let sea_orm::TryInsertResult::Inserted(rows) = result {
            written += rows;
        }
    }
    Ok(written)
}

//! Writing events: multi-row INSERTs that skip event ids already stored, so a batch that was
//! committed but whose acknowledgement was lost can be replayed without duplicates; and the
//! completions of rows written before a call ran ([`AuditWrite::CompleteOutcome`]), which
//! replace the row's outcome, latency and reason.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, TransactionTrait};
use toolgate_core::{AuditEvent, AuditWrite};

use crate::entity::{self, Column, Entity};

/// Rows per statement: 22 bound values each stays below SQLite's 32 766-parameter limit and
/// PostgreSQL's 65 535 whatever `batch_size` is configured.
const ROWS_PER_STATEMENT: usize = 1_000;

/// Inserts `events` (rows whose `event_id` exists already are skipped), then applies the
/// outcome completions among them, all in one transaction: a batch costs one commit (one WAL
/// flush) however many statements it takes, and is stored whole or not at all. A completion
/// always follows its own insert in the queue, so inserting first keeps every row's history in
/// order. Returns the rows written.
pub(crate) async fn insert_events(db: &DatabaseConnection, events: &[AuditEvent]) -> Result<u64, DbErr> {
    let (completions, inserts): (Vec<&AuditEvent>, Vec<&AuditEvent>) = events
        .iter()
        .partition(|event| event.write == AuditWrite::CompleteOutcome);
    let statements = inserts.len().div_ceil(ROWS_PER_STATEMENT) + completions.len().div_ceil(ROWS_PER_STATEMENT);
    if statements <= 1 {
        // One statement is atomic on its own: no BEGIN/COMMIT round trips (the common case of a
        // call's decision row, which the call waits for).
        return write(db, &inserts, &completions).await;
    }
    let transaction = db.begin().await?;
    let written = write(&transaction, &inserts, &completions).await?;
    transaction.commit().await?;
    Ok(written)
}

async fn write<C: ConnectionTrait>(db: &C, inserts: &[&AuditEvent], completions: &[&AuditEvent]) -> Result<u64, DbErr> {
    let mut written = 0;
    for chunk in inserts.chunks(ROWS_PER_STATEMENT) {
        let result = Entity::insert_many(chunk.iter().map(|event| entity::active_model(event)))
            .on_conflict_do_nothing_on([Column::EventId])
            .exec_without_returning(db)
            .await?;
        if let sea_orm::TryInsertResult::Inserted(rows) = result {
            written += rows;
        }
    }
    for chunk in completions.chunks(ROWS_PER_STATEMENT) {
        let complete = OnConflict::column(Column::EventId)
            .update_columns([Column::Outcome, Column::LatencyUs, Column::ReasonCode])
            .to_owned();
        written += Entity::insert_many(chunk.iter().map(|event| entity::active_model(event)))
            .on_conflict(complete)
            .exec_without_returning(db)
            .await?;
    }
    Ok(written)
}

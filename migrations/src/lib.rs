//! toolgate's database schema as sea-orm migrations. The audit writer applies them when it starts
//! and `toolgate migrate` applies them on demand; both go through [`migrate`], which is
//! idempotent (applied migrations are recorded in `seaql_migrations` and skipped).
//!
//! Each migration is one file named `mYYYYMMDD_NNNNNN_name.rs`: sea-orm takes the migration's
//! name from the file name, so renaming a file that has shipped re-runs it.

mod m20250601_000001_create_audit_events;
mod m20261129_000002_add_upstream_columns;

use sea_orm_migration::prelude::*;
pub use sea_orm_migration::sea_orm::{DatabaseConnection, DbErr};

/// Every migration toolgate knows, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20250601_000001_create_audit_events::Migration),
            Box::new(m20261129_000002_add_upstream_columns::Migration),
        ]
    }
}

/// Applies every pending migration; a no-op when the schema is current.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

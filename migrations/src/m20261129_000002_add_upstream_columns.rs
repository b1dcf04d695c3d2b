//! Gateway mode: which upstream served a request, and the item's own name there (tools and
//! prompts are offered to clients under namespaced names such as `github__create_issue`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(AuditEvents::Table)
                    .add_column_if_not_exists(ColumnDef::new(AuditEvents::Upstream).text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AuditEvents::Table)
                    .add_column_if_not_exists(ColumnDef::new(AuditEvents::UpstreamItem).text().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [AuditEvents::UpstreamItem, AuditEvents::Upstream] {
            manager
                .alter_table(Table::alter().table(AuditEvents::Table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Upstream,
    UpstreamItem,
}

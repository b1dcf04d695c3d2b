//! The audit trail: one row per authorization decision and per authentication failure.
//!
//! Only portable column types are used so the same migration gives equivalent tables on SQLite
//! and PostgreSQL: JSON is `jsonb` on PostgreSQL and text on SQLite, the timestamp is
//! `timestamp with time zone` on PostgreSQL and RFC 3339 text (UTC, so it sorts) on SQLite.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(AuditEvents::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    // Unique so that replaying the spool twice inserts nothing the second time.
                    .col(
                        ColumnDef::new(AuditEvents::EventId)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(AuditEvents::OccurredAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AuditEvents::RequestId).text().not_null())
                    .col(ColumnDef::new(AuditEvents::SessionId).text().null())
                    .col(ColumnDef::new(AuditEvents::PrincipalId).text().null())
                    .col(ColumnDef::new(AuditEvents::TenantId).text().null())
                    .col(ColumnDef::new(AuditEvents::ClientAppId).text().null())
                    .col(ColumnDef::new(AuditEvents::Provider).text().not_null())
                    .col(ColumnDef::new(AuditEvents::Method).text().not_null())
                    .col(ColumnDef::new(AuditEvents::Tool).text().null())
                    .col(ColumnDef::new(AuditEvents::Decision).string_len(16).not_null())
                    .col(ColumnDef::new(AuditEvents::PolicyIds).json_binary().not_null())
                    .col(ColumnDef::new(AuditEvents::PolicySetHash).text().null())
                    .col(ColumnDef::new(AuditEvents::ArgumentDigest).string_len(64).null())
                    .col(ColumnDef::new(AuditEvents::Arguments).json_binary().null())
                    .col(ColumnDef::new(AuditEvents::LatencyUs).big_integer().not_null())
                    .col(ColumnDef::new(AuditEvents::Outcome).text().not_null())
                    .col(ColumnDef::new(AuditEvents::ReasonCode).text().null())
                    .to_owned(),
            )
            .await?;

        // Time-range scans ("what happened yesterday") and retention deletes.
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_audit_events_occurred_at")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::OccurredAt)
                    .to_owned(),
            )
            .await?;
        // "Everything this user did."
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_audit_events_principal_id")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::PrincipalId)
                    .to_owned(),
            )
            .await?;
        // "Who was denied this tool."
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_audit_events_tool_decision")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::Tool)
                    .col(AuditEvents::Decision)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditEvents::Table).if_exists().to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    EventId,
    OccurredAt,
    RequestId,
    SessionId,
    PrincipalId,
    TenantId,
    ClientAppId,
    Provider,
    Method,
    Tool,
    Decision,
    PolicyIds,
    PolicySetHash,
    ArgumentDigest,
    Arguments,
    LatencyUs,
    Outcome,
    ReasonCode,
}

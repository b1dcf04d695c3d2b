//! The `audit_events` row as sea-orm sees it (the table itself is created by
//! `toolgate-migrations`), and the conversions to and from [`AuditEvent`].

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::entity::prelude::*;
use toolgate_core::{AuditDecision, AuditEvent};

use crate::error::AuditError;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub event_id: String,
    pub occurred_at: DateTimeUtc,
    pub request_id: String,
    pub session_id: Option<String>,
    pub principal_id: Option<String>,
    pub tenant_id: Option<String>,
    pub client_app_id: Option<String>,
    pub provider: String,
    pub method: String,
    pub tool: Option<String>,
    pub decision: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub policy_ids: Json,
    pub policy_set_hash: Option<String>,
    pub argument_digest: Option<String>,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub arguments: Option<Json>,
    pub latency_us: i64,
    pub outcome: String,
    pub reason_code: Option<String>,
    pub upstream: Option<String>,
    pub upstream_item: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// A new row for `event`; the id is left to the database.
pub(crate) fn active_model(event: &AuditEvent) -> ActiveModel {
    ActiveModel {
        id: NotSet,
        event_id: Set(event.event_id.clone()),
        occurred_at: Set(timestamp(event.occurred_at_ms)),
        request_id: Set(event.request_id.clone()),
        session_id: Set(event.session_id.clone()),
        principal_id: Set(event.principal_id.clone()),
        tenant_id: Set(event.tenant_id.clone()),
        client_app_id: Set(event.client_app_id.clone()),
        provider: Set(event.provider.clone()),
        method: Set(event.method.clone()),
        tool: Set(event.tool.clone()),
        decision: Set(event.decision.as_str().to_owned()),
        policy_ids: Set(Json::Array(
            event.policy_ids.iter().map(|id| Json::String(id.clone())).collect(),
        )),
        policy_set_hash: Set(event.policy_set_hash.clone()),
        argument_digest: Set(event.argument_digest.clone()),
        arguments: Set(event.arguments.clone()),
        latency_us: Set(event.latency_us),
        outcome: Set(event.outcome.as_str().to_owned()),
        reason_code: Set(event.reason_code.clone()),
        upstream: Set(event.upstream.clone()),
        upstream_item: Set(event.upstream_item.clone()),
    }
}

/// Milliseconds since the epoch as a UTC timestamp. Out-of-range values (beyond ±262 000
/// years, never produced by a clock) are stored as the epoch rather than dropping the event.
pub(crate) fn timestamp(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_else(|| {
        tracing::warn!(occurred_at_ms = ms, "audit timestamp out of range, stored as epoch");
        DateTime::UNIX_EPOCH
    })
}

pub(crate) fn parse_decision(text: &str) -> Option<AuditDecision> {
    [
        AuditDecision::Allow,
        AuditDecision::Deny,
        AuditDecision::ShadowDeny,
        AuditDecision::AuthFailed,
    ]
    .into_iter()
    .find(|d| d.as_str() == text)
}

impl TryFrom<Model> for AuditEvent {
    type Error = AuditError;

    fn try_from(row: Model) -> Result<Self, Self::Error> {
        let malformed = |detail: String| AuditError::MalformedRow {
            event_id: row.event_id.clone(),
            detail,
        };
        let decision =
            parse_decision(&row.decision).ok_or_else(|| malformed(format!("unknown decision {:?}", row.decision)))?;
        let outcome = toolgate_core::AuditOutcome::parse(&row.outcome)
            .ok_or_else(|| malformed(format!("unknown outcome {:?}", row.outcome)))?;
        let policy_ids: Vec<String> =
            serde_json::from_value(row.policy_ids.clone()).map_err(|e| malformed(format!("policy_ids: {e}")))?;
        Ok(AuditEvent {
            occurred_at_ms: row.occurred_at.timestamp_millis(),
            request_id: row.request_id,
            session_id: row.session_id,
            principal_id: row.principal_id,
            tenant_id: row.tenant_id,
            client_app_id: row.client_app_id,
            provider: row.provider,
            method: row.method,
            tool: row.tool,
            decision,
            policy_ids,
            policy_set_hash: row.policy_set_hash,
            argument_digest: row.argument_digest,
            arguments: row.arguments,
            latency_us: row.latency_us,
            outcome,
            reason_code: row.reason_code,
            event_id: row.event_id,
            upstream: row.upstream,
            upstream_item: row.upstream_item,
            write: toolgate_core::AuditWrite::Insert,
        })
    }
}

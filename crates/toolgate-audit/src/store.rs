//! Reading the trail back: for tests, `toolgate audit` and the REST API.

use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Select,
};
use serde::Deserialize;
use toolgate_core::{AuditDecision, AuditEvent};

use crate::config::SqliteSync;
use crate::connect;
use crate::entity::{Column, Entity, timestamp};
use crate::error::AuditError;

/// Which events to return. Every field narrows; the default matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditFilter {
    pub principal_id: Option<String>,
    pub tool: Option<String>,
    pub decision: Option<AuditDecision>,
    pub method: Option<String>,
    /// Inclusive lower bound, milliseconds since the epoch.
    pub since_ms: Option<i64>,
    /// Exclusive upper bound, milliseconds since the epoch.
    pub until_ms: Option<i64>,
    /// At most this many events (`query` only).
    pub limit: Option<u64>,
    /// Skip this many events (`query` only).
    pub offset: Option<u64>,
}

/// Read access to the audit table. Does not migrate: the writer or `toolgate migrate` does.
#[derive(Debug, Clone)]
pub struct AuditStore {
    db: DatabaseConnection,
}

impl AuditStore {
    /// Connects to `url` and checks that the database answers.
    pub async fn connect(url: &str) -> Result<Self, AuditError> {
        let db = connect::open(url, std::time::Duration::from_secs(5), SqliteSync::default()).await?;
        db.ping().await.map_err(|source| AuditError::Database {
            action: "connect",
            source,
        })?;
        Ok(Self { db })
    }

    /// A store for `url` that connects when first queried: a database that is down at start
    /// does not stop the server (queries fail until it answers). Fails only on a malformed URL.
    pub async fn open_lazy(url: &str) -> Result<Self, AuditError> {
        Ok(Self {
            db: connect::open(url, std::time::Duration::from_secs(5), SqliteSync::default()).await?,
        })
    }

    /// Uses an existing connection (an application sharing its pool).
    pub fn from_connection(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// The underlying connection, for queries this API does not offer.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Matching events, oldest first (ties in time by insertion order).
    pub async fn query(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>, AuditError> {
        let rows = select(filter)
            .order_by_asc(Column::OccurredAt)
            .order_by_asc(Column::Id)
            .limit(filter.limit)
            .offset(filter.offset)
            .all(&self.db)
            .await
            .map_err(|source| AuditError::Database {
                action: "query",
                source,
            })?;
        rows.into_iter().map(AuditEvent::try_from).collect()
    }

    /// How many events match (`limit` and `offset` are ignored).
    pub async fn count(&self, filter: &AuditFilter) -> Result<u64, AuditError> {
        select(filter)
            .count(&self.db)
            .await
            .map_err(|source| AuditError::Database {
                action: "count",
                source,
            })
    }
}

fn select(filter: &AuditFilter) -> Select<Entity> {
    let mut condition = Condition::all();
    if let Some(principal) = &filter.principal_id {
        condition = condition.add(Column::PrincipalId.eq(principal.as_str()));
    }
    if let Some(tool) = &filter.tool {
        condition = condition.add(Column::Tool.eq(tool.as_str()));
    }
    if let Some(decision) = filter.decision {
        condition = condition.add(Column::Decision.eq(decision.as_str()));
    }
    if let Some(method) = &filter.method {
        condition = condition.add(Column::Method.eq(method.as_str()));
    }
    if let Some(since) = filter.since_ms {
        condition = condition.add(Column::OccurredAt.gte(timestamp(since)));
    }
    if let Some(until) = filter.until_ms {
        condition = condition.add(Column::OccurredAt.lt(timestamp(until)));
    }
    Entity::find().filter(condition)
}

//! `GET /audit` (admin): the audit trail, filtered and paged.

use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use toolgate_audit::AuditFilter;
use toolgate_core::{AuditDecision, AuditEvent};

use super::ApiTags;
use super::admin::{ApiError, is_admin, parse_error_message};

fn audit_bad_request(error: poem::Error) -> AuditResult {
    AuditResult::BadRequest(ApiError::new("invalid_request", parse_error_message(&error)))
}

/// Decisions to filter on.
#[derive(Debug, Clone, Copy, poem_openapi::Enum)]
#[oai(rename_all = "snake_case")]
pub enum DecisionFilter {
    Allow,
    Deny,
    ShadowDeny,
    AuthFailed,
}

impl From<DecisionFilter> for AuditDecision {
    fn from(d: DecisionFilter) -> Self {
        match d {
            DecisionFilter::Allow => Self::Allow,
            DecisionFilter::Deny => Self::Deny,
            DecisionFilter::ShadowDeny => Self::ShadowDeny,
            DecisionFilter::AuthFailed => Self::AuthFailed,
        }
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}
use crate::context::ApiContext;
use crate::docs::authenticated;
use crate::security::Caller;

const MAX_PAGE: u64 = 500;

#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct AuditRow {
    pub event_id: String,
    pub occurred_at_ms: i64,
    pub request_id: String,
    pub session_id: Option<String>,
    pub principal_id: Option<String>,
    pub tenant_id: Option<String>,
    pub client_app_id: Option<String>,
    pub provider: String,
    pub method: String,
    pub tool: Option<String>,
    /// `allow`, `deny`, `shadow_deny` or `auth_failed`.
    pub decision: String,
    pub policy_ids: Vec<String>,
    pub policy_set_hash: Option<String>,
    pub argument_digest: Option<String>,
    pub latency_us: i64,
    pub outcome: String,
    pub reason_code: Option<String>,
}

impl From<AuditEvent> for AuditRow {
    fn from(e: AuditEvent) -> Self {
        Self {
            event_id: e.event_id,
            occurred_at_ms: e.occurred_at_ms,
            request_id: e.request_id,
            session_id: e.session_id,
            principal_id: e.principal_id,
            tenant_id: e.tenant_id,
            client_app_id: e.client_app_id,
            provider: e.provider,
            method: e.method,
            tool: e.tool,
            decision: e.decision.as_str().into(),
            policy_ids: e.policy_ids,
            policy_set_hash: e.policy_set_hash,
            argument_digest: e.argument_digest,
            latency_us: e.latency_us,
            outcome: e.outcome.to_string(),
            reason_code: e.reason_code,
        }
    }
}

#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct AuditPage {
    pub total: u64,
    pub offset: u64,
    pub rows: Vec<AuditRow>,
}

#[derive(ApiResponse)]
#[oai(bad_request_handler = "audit_bad_request")]
pub enum AuditResult {
    #[oai(status = 200)]
    Ok(Json<AuditPage>),
    #[oai(status = 400)]
    BadRequest(Json<ApiError>),
    /// The caller lacks the admin role.
    #[oai(status = 403)]
    Forbidden(Json<ApiError>),
    /// No audit trail is configured, or it cannot be read now.
    #[oai(status = 503)]
    Unavailable(Json<ApiError>),
}

pub struct AuditApi;

#[OpenApi]
impl AuditApi {
    /// Query the audit trail, newest last. Admin only.
    #[allow(
        clippy::too_many_arguments,
        reason = "one parameter per filter, as OpenAPI shows them"
    )]
    #[oai(
        path = "/audit",
        method = "get",
        operation_id = "queryAudit",
        tag = "ApiTags::Admin",
        transform = "authenticated"
    )]
    async fn audit(
        &self,
        auth: Caller,
        context: Data<&ApiContext>,
        principal_id: Query<Option<String>>,
        tool: Query<Option<String>>,
        decision: Query<Option<DecisionFilter>>,
        method: Query<Option<String>>,
        /// Inclusive lower bound, milliseconds since the Unix epoch.
        #[oai(validator(minimum(value = "0"), maximum(value = "253402300799999")))]
        since_ms: Query<Option<i64>>,
        /// Exclusive upper bound, milliseconds since the Unix epoch.
        #[oai(validator(minimum(value = "0"), maximum(value = "253402300799999")))]
        until_ms: Query<Option<i64>>,
        #[oai(default = "default_limit", validator(minimum(value = "1"), maximum(value = "500")))] limit: Query<u64>,
        #[oai(default, validator(minimum(value = "0"), maximum(value = "1000000000")))] offset: Query<u64>,
    ) -> AuditResult {
        if !is_admin(auth.principal(), &context.admin_role) {
            return AuditResult::Forbidden(ApiError::new("forbidden", "the admin role is required"));
        }
        let Some(store) = &context.audit else {
            return AuditResult::Unavailable(ApiError::new("unavailable", "no audit trail is configured"));
        };
        let filter = AuditFilter {
            principal_id: non_empty(principal_id.0),
            tool: non_empty(tool.0),
            decision: decision.0.map(AuditDecision::from),
            method: non_empty(method.0),
            since_ms: since_ms.0,
            until_ms: until_ms.0,
            limit: Some(limit.0.min(MAX_PAGE)),
            offset: Some(offset.0),
        };
        let (rows, total) = match (store.query(&filter).await, store.count(&filter).await) {
            (Ok(rows), Ok(total)) => (rows, total),
            (Err(error), _) | (_, Err(error)) => {
                tracing::warn!(%error, "audit query failed");
                return AuditResult::Unavailable(ApiError::new("unavailable", "the audit trail cannot be read now"));
            }
        };
        AuditResult::Ok(Json(AuditPage {
            total,
            offset: offset.0,
            rows: rows.into_iter().map(AuditRow::from).collect(),
        }))
    }
}

fn default_limit() -> u64 {
    100
}

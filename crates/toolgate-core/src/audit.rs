//! The audit trail's vocabulary: one event per decision and per authentication failure, and the
//! sink every stage hands events to. Storage lives in `toolgate-audit`.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How a request ended, as the audit trail records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditDecision {
    Allow,
    Deny,
    /// Shadow mode: the policies deny, the call was allowed.
    ShadowDeny,
    /// The request never reached a policy: authentication failed.
    AuthFailed,
}

impl AuditDecision {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Deny => "deny",
            Self::ShadowDeny => "shadow_deny",
            Self::AuthFailed => "auth_failed",
        }
    }
}

/// One audit row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Unique id of the event (UUID), so replays from the spool are idempotent.
    pub event_id: String,
    /// Milliseconds since the Unix epoch.
    pub occurred_at_ms: i64,
    pub request_id: String,
    pub session_id: Option<String>,
    pub principal_id: Option<String>,
    pub tenant_id: Option<String>,
    pub client_app_id: Option<String>,
    pub provider: String,
    /// `tools/call`, `tools/list`, `prompts/get` …, or the HTTP route for REST and auth failures.
    pub method: String,
    pub tool: Option<String>,
    pub decision: AuditDecision,
    pub policy_ids: Vec<String>,
    pub policy_set_hash: Option<String>,
    /// SHA-256 of the canonical JSON of the arguments.
    pub argument_digest: Option<String>,
    /// Arguments as captured under the configured redaction (none by default).
    pub arguments: Option<Value>,
    pub latency_us: i64,
    /// `ok`, `tool_error`, `denied`, `auth_failed` …
    pub outcome: String,
    /// Machine-readable reason (`expired`, `policy_deny`, …).
    pub reason_code: Option<String>,
}

/// The audit trail could not take an event and is configured to fail closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit trail unavailable: {0}")]
pub struct AuditUnavailable(pub String);

/// Where events go. Implementations must not block the request path for long: they queue, and
/// only wait (or refuse) when their bounded buffer and spool are full.
#[async_trait]
pub trait AuditSink: Send + Sync + 'static {
    async fn record(&self, event: AuditEvent) -> Result<(), AuditUnavailable>;
}

/// Discards events (tests, and the "gate without audit" benchmark).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAudit;

#[async_trait]
impl AuditSink for NoAudit {
    async fn record(&self, _event: AuditEvent) -> Result<(), AuditUnavailable> {
        Ok(())
    }
}

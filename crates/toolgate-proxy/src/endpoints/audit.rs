//! The authorization server's decisions in the audit trail, next to the gate's: who consented to
//! which client, who got tokens, which replays and forged submissions were refused. Method names
//! are `oauth/{step}`; the row's `tool` column holds nothing.

use std::time::SystemTime;

use toolgate_core::{AuditDecision, AuditEvent, HttpRequest};

use crate::flow::UserClaims;
use crate::proxy::ProxyState;

/// One authorization-server decision.
pub(crate) struct ProxyEvent<'a> {
    /// `oauth/consent`, `oauth/token`, …
    pub method: &'static str,
    pub user: Option<&'a UserClaims>,
    pub client_id: Option<&'a str>,
    pub decision: AuditDecision,
    /// `consent_given`, `tokens_issued`, `replay_revoked`, …
    pub outcome: &'static str,
    pub reason: Option<&'a str>,
}

/// Records `event` if an audit sink is attached. A sink refusing (fail-closed audit) is logged:
/// the security decision itself has already been taken and answered.
pub(crate) async fn record(state: &ProxyState, request: &HttpRequest, event: ProxyEvent<'_>) {
    let Some(sink) = state.audit.get() else {
        return;
    };
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let occurred_at_ms = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default();
    let row = AuditEvent {
        event_id: uuid::Uuid::new_v4().to_string(),
        occurred_at_ms,
        request_id,
        session_id: None,
        principal_id: event.user.map(|u| u.sub.clone()),
        tenant_id: event.user.map(|u| u.tid.clone()),
        client_app_id: event.client_id.map(str::to_owned),
        provider: crate::EntraProxy::NAME.to_owned(),
        method: event.method.to_owned(),
        tool: None,
        decision: event.decision,
        policy_ids: Vec::new(),
        policy_set_hash: None,
        argument_digest: None,
        arguments: None,
        latency_us: 0,
        outcome: event.outcome.to_owned(),
        reason_code: event.reason.map(str::to_owned),
        upstream: None,
        upstream_item: None,
        write: Default::default(),
    };
    if let Err(error) = sink.record(row).await {
        tracing::error!(error = %error, outcome = event.outcome, "audit trail refused an authorization-server event");
    }
}

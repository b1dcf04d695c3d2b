//! The authorization server's decisions in the audit trail, next to the gate's: who consented to
//! which client, who got tokens, which replays and forged submissions were refused. Method names
//! are `oauth/{step}`; the row's `tool` column holds nothing.

use toolgate_core::{AuditDecision, AuditEvent, AuditOutcome, HttpRequest};

use crate::flow::UserClaims;
use crate::proxy::ProxyState;

/// One authorization-server decision.
pub(crate) struct ProxyEvent<'a> {
    /// `oauth/consent`, `oauth/token`, …
    pub method: &'static str,
    pub user: Option<&'a UserClaims>,
    pub client_id: Option<&'a str>,
    pub decision: AuditDecision,
    pub outcome: AuditOutcome,
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
        .unwrap_or_default();
    let row = AuditEvent::new(
        state.clock.as_ref(),
        request_id,
        crate::EntraProxy::NAME,
        event.method,
        event.decision,
        event.outcome,
    )
    .subject(
        event.user.map(|u| u.sub.as_str()),
        event.user.map(|u| u.tid.as_str()),
        event.client_id,
    )
    .reason(event.reason);
    if let Err(error) = sink.record(row).await {
        tracing::error!(error = %error, outcome = %event.outcome, "audit trail refused an authorization-server event");
    }
}

//! Building the audit event of one gated MCP request.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use toolgate_audit::{ArgumentCapture, argument_digest, capture};
use toolgate_core::{AuditDecision, AuditEvent, Decision, Principal};

use crate::caller::Caller;

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The facts of one request, turned into an audit row when its outcome is known.
pub struct Record<'a> {
    pub caller: &'a Caller,
    pub principal: &'a Principal,
    pub method: &'static str,
    pub tool: Option<&'a str>,
    pub started: Instant,
}

impl Record<'_> {
    pub fn event(
        &self,
        decision: Option<&Decision>,
        arguments: Option<(&Value, &ArgumentCapture)>,
        outcome: &str,
        reason_code: Option<String>,
    ) -> AuditEvent {
        let audit_decision = match decision {
            None => AuditDecision::Allow,
            Some(d) if d.is_shadow_deny() => AuditDecision::ShadowDeny,
            Some(d) if d.is_allowed() => AuditDecision::Allow,
            Some(_) => AuditDecision::Deny,
        };
        AuditEvent {
            event_id: uuid::Uuid::new_v4().to_string(),
            occurred_at_ms: now_ms(),
            request_id: self.caller.request_id.clone(),
            session_id: self.caller.session_id.clone(),
            principal_id: Some(self.principal.id.clone()),
            tenant_id: Some(self.principal.tenant_id.clone()),
            client_app_id: self.principal.client_app_id.clone(),
            provider: self.principal.provider.clone(),
            method: self.method.to_owned(),
            tool: self.tool.map(str::to_owned),
            decision: audit_decision,
            policy_ids: decision.map(|d| d.determining_policies.clone()).unwrap_or_default(),
            policy_set_hash: decision.map(|d| d.policy_set_hash.clone()),
            argument_digest: arguments.map(|(args, _)| argument_digest(args)),
            arguments: arguments.and_then(|(args, mode)| capture(args, mode)),
            latency_us: i64::try_from(self.started.elapsed().as_micros()).unwrap_or(i64::MAX),
            outcome: outcome.to_owned(),
            reason_code,
        }
    }
}

//! One audit row, and the one way to build it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::capture::{ArgumentCapture, capture};
use super::digest::argument_digest;
use super::outcome::AuditOutcome;
use crate::clock::Clock;
use crate::decision::Decision;
use crate::principal::Principal;
use crate::text::bounded_string;

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

    /// What the audit trail records for `decision` (`None`: the request needed none, e.g. a list).
    pub fn of(decision: Option<&Decision>) -> Self {
        match decision {
            None => Self::Allow,
            Some(d) if d.is_shadow_deny() => Self::ShadowDeny,
            Some(d) if d.is_allowed() => Self::Allow,
            Some(_) => Self::Deny,
        }
    }
}

/// Marks a shadow policy among an audit row's `policy_ids` (`shadow:no-delete`).
pub const SHADOW_POLICY_PREFIX: &str = "shadow:";

/// How an event reaches its row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditWrite {
    /// A new row (an event whose `event_id` is already stored is skipped, so replays are no-ops).
    #[default]
    Insert,
    /// Completes the row written, with the same `event_id`, before a call was forwarded: its
    /// `outcome`, `latency_us` and `reason_code` are replaced. If that row never arrived the
    /// event is inserted whole.
    CompleteOutcome,
}

/// Bounds on what one row may hold, in characters. Every field a caller can influence is cut to
/// these before it is queued, so a 250 KB header or a million-character tool name costs the
/// audit trail no more than a well-formed request.
pub mod limits {
    pub const REQUEST_ID: usize = 64;
    pub const SESSION_ID: usize = 128;
    pub const PRINCIPAL_ID: usize = 256;
    pub const TENANT_ID: usize = 64;
    /// Client ids may be metadata-document URLs.
    pub const CLIENT_APP_ID: usize = 512;
    pub const PROVIDER: usize = 64;
    /// An MCP method, or `VERB /path` for HTTP-level refusals.
    pub const METHOD: usize = 256;
    /// A tool or prompt name (MCP: at most 128) or a resource URI.
    pub const TOOL: usize = 1024;
    pub const POLICY_ID: usize = 256;
    pub const POLICY_IDS: usize = 64;
    pub const POLICY_SET_HASH: usize = 128;
    pub const DIGEST: usize = 64;
    pub const REASON_CODE: usize = 256;
    /// Captured arguments larger than this (as JSON text, in bytes) are replaced by a marker
    /// naming their size; the digest still covers all of them.
    pub const ARGUMENTS_BYTES: usize = 64 * 1024;
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
    pub outcome: AuditOutcome,
    /// Machine-readable reason (`expired`, `policy_deny`, …).
    pub reason_code: Option<String>,
    /// Gateway mode: the upstream that served the item, and the item's own name there.
    #[serde(default)]
    pub upstream: Option<String>,
    #[serde(default)]
    pub upstream_item: Option<String>,
    /// Whether this event inserts a row or completes one (absent in spools of older versions).
    #[serde(default)]
    pub write: AuditWrite,
}

impl AuditEvent {
    /// A new event at `clock`'s time with a fresh id. Every text is bounded (see [`limits`]);
    /// the setters below bound what they take too.
    pub fn new(
        clock: &dyn Clock,
        request_id: &str,
        provider: &str,
        method: &str,
        decision: AuditDecision,
        outcome: AuditOutcome,
    ) -> Self {
        Self {
            event_id: uuid::Uuid::new_v4().to_string(),
            occurred_at_ms: clock.now_unix_ms(),
            request_id: bounded_string(request_id, limits::REQUEST_ID),
            session_id: None,
            principal_id: None,
            tenant_id: None,
            client_app_id: None,
            provider: bounded_string(provider, limits::PROVIDER),
            method: bounded_string(method, limits::METHOD),
            tool: None,
            decision,
            policy_ids: Vec::new(),
            policy_set_hash: None,
            argument_digest: None,
            arguments: None,
            latency_us: 0,
            outcome,
            reason_code: None,
            upstream: None,
            upstream_item: None,
            write: AuditWrite::Insert,
        }
    }

    /// The upstream that serves the item (gateway mode).
    pub fn origin(mut self, origin: Option<&crate::origin::ItemOrigin>) -> Self {
        if let Some(origin) = origin {
            self.upstream = Some(bounded_string(&origin.upstream, limits::PROVIDER));
            self.upstream_item = Some(bounded_string(&origin.name, limits::TOOL));
        }
        self
    }

    /// Who: the principal's id, tenant, client application and provider.
    pub fn principal(mut self, principal: &Principal) -> Self {
        self.principal_id = Some(bounded_string(&principal.id, limits::PRINCIPAL_ID));
        self.tenant_id = Some(bounded_string(&principal.tenant_id, limits::TENANT_ID));
        self.client_app_id = principal
            .client_app_id
            .as_deref()
            .map(|id| bounded_string(id, limits::CLIENT_APP_ID));
        self.provider = bounded_string(&principal.provider, limits::PROVIDER);
        self
    }

    /// Who, when no [`Principal`] exists (the authorization server's own events).
    pub fn subject(mut self, principal_id: Option<&str>, tenant_id: Option<&str>, client_app_id: Option<&str>) -> Self {
        self.principal_id = principal_id.map(|id| bounded_string(id, limits::PRINCIPAL_ID));
        self.tenant_id = tenant_id.map(|id| bounded_string(id, limits::TENANT_ID));
        self.client_app_id = client_app_id.map(|id| bounded_string(id, limits::CLIENT_APP_ID));
        self
    }

    pub fn session(mut self, session_id: Option<&str>) -> Self {
        self.session_id = session_id.map(|id| bounded_string(id, limits::SESSION_ID));
        self
    }

    /// The tool, prompt or resource URI the request was about.
    pub fn tool(mut self, item: Option<&str>) -> Self {
        self.tool = item.map(|name| bounded_string(name, limits::TOOL));
        self
    }

    /// The policy decision: its audit decision, determining policies and policy-set hash. The
    /// shadow policies (`@mode("shadow")`) that would have changed the decision follow the
    /// determining ones, as `shadow:<id>`; a call they would have denied is `shadow_deny`.
    pub fn decided(mut self, decision: &Decision) -> Self {
        self.decision = AuditDecision::of(Some(decision));
        let shadow = decision
            .shadow_verdict()
            .into_iter()
            .flat_map(|v| v.policies().iter().map(|id| format!("{SHADOW_POLICY_PREFIX}{id}")));
        self.policy_ids = decision
            .determining_policies()
            .iter()
            .cloned()
            .chain(shadow)
            .take(limits::POLICY_IDS)
            .map(|id| bounded_string(&id, limits::POLICY_ID))
            .collect();
        self.policy_set_hash = Some(bounded_string(decision.policy_set_hash(), limits::POLICY_SET_HASH));
        self
    }

    /// The policy-set hash alone (lists, which aggregate many decisions).
    pub fn policy_set(mut self, hash: Option<&str>) -> Self {
        self.policy_set_hash = hash.map(|h| bounded_string(h, limits::POLICY_SET_HASH));
        self
    }

    /// The call's arguments: their digest always, the arguments themselves as `mode` allows
    /// (replaced by a size marker above [`limits::ARGUMENTS_BYTES`]).
    pub fn arguments(mut self, arguments: &Value, mode: &ArgumentCapture) -> Self {
        self.argument_digest = Some(argument_digest(arguments));
        self.arguments = capture(arguments, mode).map(bound_arguments);
        self
    }

    pub fn latency(mut self, started: std::time::Instant) -> Self {
        self.latency_us = i64::try_from(started.elapsed().as_micros()).unwrap_or(i64::MAX);
        self
    }

    pub fn reason(mut self, reason_code: Option<&str>) -> Self {
        self.reason_code = reason_code.map(|r| bounded_string(r, limits::REASON_CODE));
        self
    }

    pub fn outcome(mut self, outcome: AuditOutcome) -> Self {
        self.outcome = outcome;
        self
    }

    /// The outcome of the same event, to complete the row recorded before the call ran
    /// ([`AuditWrite::CompleteOutcome`]).
    pub fn completed(&self, outcome: AuditOutcome, reason_code: Option<&str>, started: std::time::Instant) -> Self {
        let mut done = self.clone().outcome(outcome).reason(reason_code).latency(started);
        done.write = AuditWrite::CompleteOutcome;
        done
    }

    /// The event with every text field within [`limits`]: for events built field by field
    /// (older code, deserialized spools). Sinks apply it to everything they take.
    pub fn bounded(mut self) -> Self {
        let cut = |text: &mut String, max: usize| {
            if text.chars().count() > max || text.chars().any(crate::text::is_disguising) {
                *text = bounded_string(text, max);
            }
        };
        let cut_opt = |text: &mut Option<String>, max: usize| {
            if let Some(text) = text {
                cut(text, max);
            }
        };
        cut(&mut self.event_id, limits::REQUEST_ID);
        cut(&mut self.request_id, limits::REQUEST_ID);
        cut_opt(&mut self.session_id, limits::SESSION_ID);
        cut_opt(&mut self.principal_id, limits::PRINCIPAL_ID);
        cut_opt(&mut self.tenant_id, limits::TENANT_ID);
        cut_opt(&mut self.client_app_id, limits::CLIENT_APP_ID);
        cut(&mut self.provider, limits::PROVIDER);
        cut(&mut self.method, limits::METHOD);
        cut_opt(&mut self.tool, limits::TOOL);
        self.policy_ids.truncate(limits::POLICY_IDS);
        for id in &mut self.policy_ids {
            cut(id, limits::POLICY_ID);
        }
        cut_opt(&mut self.policy_set_hash, limits::POLICY_SET_HASH);
        cut_opt(&mut self.argument_digest, limits::DIGEST);
        cut_opt(&mut self.reason_code, limits::REASON_CODE);
        cut_opt(&mut self.upstream, limits::PROVIDER);
        cut_opt(&mut self.upstream_item, limits::TOOL);
        self.arguments = self.arguments.map(bound_arguments);
        self
    }
}

fn bound_arguments(arguments: Value) -> Value {
    let size = serde_json::to_vec(&arguments).map(|v| v.len()).unwrap_or(usize::MAX);
    if size <= limits::ARGUMENTS_BYTES {
        return arguments;
    }
    serde_json::json!({ "truncated": true, "bytes": size })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn every_caller_controlled_field_is_bounded() {
        let clock = ManualClock::new(1_700_000_000);
        let huge = "x".repeat(300_000);
        let event = AuditEvent::new(
            &clock,
            &huge,
            "entra-jwt",
            &format!("POST /{huge}"),
            AuditDecision::AuthFailed,
            AuditOutcome::AuthFailed,
        )
        .session(Some(&huge))
        .tool(Some(&huge))
        .reason(Some(&huge));
        let text = serde_json::to_string(&event).unwrap();
        assert!(text.len() < 4_000, "{} bytes", text.len());
        assert_eq!(event.occurred_at_ms, 1_700_000_000_000);

        let mut raw = event.clone();
        raw.session_id = Some(format!("a\nforged line{huge}"));
        raw.arguments = Some(serde_json::json!({ "blob": huge }));
        let bounded = raw.bounded();
        assert!(!bounded.session_id.as_deref().unwrap().contains('\n'));
        assert_eq!(bounded.arguments.unwrap()["truncated"], true);
    }
}

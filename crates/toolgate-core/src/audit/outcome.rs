//! How a request ended, as the audit trail records it (the `outcome` column).

use serde::{Deserialize, Serialize};

/// How a request ended. Stored as its snake_case name; dashboards match on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuditOutcome {
    // MCP and REST requests.
    /// Forwarded, answered.
    Ok,
    /// Forwarded; the tool answered `isError: true`.
    ToolError,
    /// Forwarded; it failed (a JSON-RPC error, an upstream down).
    Error,
    /// Allowed and forwarded, outcome not known yet (the row written before the call runs).
    Pending,
    /// Refused by policy.
    Denied,
    /// Refused before policy by the MCP edge (`reason_code` says why).
    Refused,
    /// Refused before policy by a rate limit (`reason_code`: `rate_limited_principal`,
    /// `rate_limited_tool` or `rate_limited_upstream`); see `docs/rate-limits.md`.
    RateLimited,
    /// Authentication failed.
    AuthFailed,
    /// A summary of refusals over the audit budget (`arguments.suppressed` counts them).
    Suppressed,
    // The entra-proxy authorization server.
    ClientRegistered,
    BrowserMismatch,
    SigninRefused,
    ConsentGiven,
    ConsentRefused,
    ConsentRemembered,
    CsrfFailed,
    TokensIssued,
    ReplayRevoked,
    CodeRefused,
    Revoked,
}

impl AuditOutcome {
    const ALL: [Self; 20] = [
        Self::Ok,
        Self::ToolError,
        Self::Error,
        Self::Pending,
        Self::Denied,
        Self::Refused,
        Self::RateLimited,
        Self::AuthFailed,
        Self::Suppressed,
        Self::ClientRegistered,
        Self::BrowserMismatch,
        Self::SigninRefused,
        Self::ConsentGiven,
        Self::ConsentRefused,
        Self::ConsentRemembered,
        Self::CsrfFailed,
        Self::TokensIssued,
        Self::ReplayRevoked,
        Self::CodeRefused,
        Self::Revoked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::ToolError => "tool_error",
            Self::Error => "error",
            Self::Pending => "pending",
            Self::Denied => "denied",
            Self::Refused => "refused",
            Self::RateLimited => "rate_limited",
            Self::AuthFailed => "auth_failed",
            Self::Suppressed => "suppressed",
            Self::ClientRegistered => "client_registered",
            Self::BrowserMismatch => "browser_mismatch",
            Self::SigninRefused => "signin_refused",
            Self::ConsentGiven => "consent_given",
            Self::ConsentRefused => "consent_refused",
            Self::ConsentRemembered => "consent_remembered",
            Self::CsrfFailed => "csrf_failed",
            Self::TokensIssued => "tokens_issued",
            Self::ReplayRevoked => "replay_revoked",
            Self::CodeRefused => "code_refused",
            Self::Revoked => "revoked",
        }
    }

    /// The outcome stored as `text`, if it is one.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == text)
    }
}

impl std::fmt::Display for AuditOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for AuditOutcome {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for outcome in AuditOutcome::ALL {
            assert_eq!(AuditOutcome::parse(outcome.as_str()), Some(outcome));
            assert_eq!(
                serde_json::to_value(outcome).ok(),
                Some(serde_json::Value::String(outcome.as_str().to_owned()))
            );
        }
        assert_eq!(AuditOutcome::parse("nonsense"), None);
    }
}

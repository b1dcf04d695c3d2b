//! Reloading the policy set while serving: who asks ([`ReloadTrigger`]), what came of it
//! ([`ReloadReport`]), and the operation the admin API calls ([`PolicyReload`]).

use async_trait::async_trait;
use serde::Serialize;

use crate::Principal;

/// What asked for a policy reload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReloadTrigger {
    /// A file in the policy directory changed.
    FileChange,
    /// The process received `SIGHUP`.
    Signal,
    /// An administrator called `POST /api/v1/policy/reload`.
    Api,
    /// Another replica reloaded (its notice arrived through the shared state store).
    Replica,
}

impl ReloadTrigger {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::FileChange => "file_change",
            Self::Signal => "signal",
            Self::Api => "api",
            Self::Replica => "replica",
        }
    }
}

/// What a reload did. A refused reload leaves the previous policy set in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReloadReport {
    pub trigger: ReloadTrigger,
    /// The policy set in force afterwards.
    pub policy_set_hash: String,
    /// Whether a new policy set went into force.
    pub changed: bool,
    /// Why the new policies were refused (`file:line:col: message` for Cedar errors); `None` on
    /// success.
    pub error: Option<String>,
}

impl ReloadReport {
    pub fn refused(&self) -> bool {
        self.error.is_some()
    }
}

/// Reloads the policy set from where it came from (the policy directory), validating it
/// against the current catalog first and swapping it in atomically.
#[async_trait]
pub trait PolicyReload: Send + Sync {
    /// Reloads now; `by` is the administrator when the API asked (for the audit trail).
    async fn reload(&self, trigger: ReloadTrigger, by: Option<&Principal>) -> ReloadReport;
}

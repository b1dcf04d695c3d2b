//! The authenticated caller, built only from verified claims.

use serde::Serialize;
use serde_json::{Map, Value};

/// Whether a person or an application (client-credentials, no user) is calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    User,
    App,
}

/// Group membership as the token stated it.
///
/// Entra replaces `groups` by a pointer to Microsoft Graph when a user is in too many groups
/// (over 200 in a JWT). That is *not* "no groups": policies must be able to tell, so the overage
/// is an explicit state and never an empty list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Groups {
    Listed { ids: Vec<String> },
    Overage { source: Option<String> },
}

impl Groups {
    pub fn ids(&self) -> &[String] {
        match self {
            Self::Listed { ids } => ids,
            Self::Overage { .. } => &[],
        }
    }

    pub fn is_overage(&self) -> bool {
        matches!(self, Self::Overage { .. })
    }
}

/// Who is calling, as every later stage (policy, tools, audit) sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Principal {
    /// Stable identifier: `user:{tid}/{oid}` for people, `app:{tid}/{client id}` for apps.
    /// Never built from `upn`, `email` or `preferred_username` (mutable, sometimes user-set).
    pub id: String,
    pub kind: PrincipalKind,
    pub tenant_id: String,
    /// The object id (`oid`) of the user or of the app's service principal.
    pub object_id: Option<String>,
    pub display_name: Option<String>,
    /// For display and audit only, never for authorization.
    pub username: Option<String>,
    pub roles: Vec<String>,
    /// Delegated scopes (`scp`); empty for app-only tokens.
    pub scopes: Vec<String>,
    pub groups: Groups,
    /// The client application that obtained the token (`azp` in v2, `appid` in v1).
    pub client_app_id: Option<String>,
    pub guest: bool,
    /// Name of the provider that authenticated the request (e.g. `entra-jwt`).
    pub provider: String,
    /// Token expiry, seconds since the Unix epoch.
    pub expires_at: i64,
    /// Every verified claim, for policies that map extra claims.
    pub claims: Map<String, Value>,
}

impl Principal {
    pub fn is_app_only(&self) -> bool {
        self.kind == PrincipalKind::App
    }

    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

//! What a caller must hold before any policy is even consulted.

use toolgate_core::{AuthRejection, Principal, RejectReason};

/// Coarse, provider-level requirements. Fine-grained decisions belong to Cedar.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessRequirements {
    /// Delegated (user) tokens must carry every one of these in `scp` (short names).
    pub required_scopes: Vec<String>,
    /// App-only tokens must carry at least one of these app roles. Empty: app-only tokens are
    /// refused (deny by default).
    pub app_roles: Vec<String>,
    pub allow_guests: bool,
}

impl AccessRequirements {
    /// Checks `principal`; `scope_prefix` turns short scope names into the full ones a client
    /// must request (`api://{client-id}/`), for the 403 challenge.
    pub fn check(&self, principal: &Principal, scope_prefix: &str) -> Result<(), AuthRejection> {
        if principal.guest && !self.allow_guests {
            return Err(AuthRejection::insufficient(
                RejectReason::GuestNotAllowed,
                format!("{} is a guest", principal.id),
                Vec::new(),
            ));
        }
        if principal.is_app_only() {
            if self.app_roles.is_empty() {
                return Err(AuthRejection::insufficient(
                    RejectReason::AppOnlyNotAllowed,
                    "app-only tokens are not accepted (no app roles configured)",
                    Vec::new(),
                ));
            }
            if !self.app_roles.iter().any(|role| principal.has_role(role)) {
                return Err(AuthRejection::insufficient(
                    RejectReason::MissingRole,
                    format!("app holds none of the roles {:?}", self.app_roles),
                    Vec::new(),
                ));
            }
            return Ok(());
        }
        let missing: Vec<&String> = self
            .required_scopes
            .iter()
            .filter(|s| !principal.has_scope(s))
            .collect();
        if !missing.is_empty() {
            return Err(AuthRejection::insufficient(
                RejectReason::MissingScope,
                format!("scp lacks {missing:?}"),
                self.required_scopes
                    .iter()
                    .map(|s| format!("{scope_prefix}{s}"))
                    .collect(),
            ));
        }
        Ok(())
    }
}

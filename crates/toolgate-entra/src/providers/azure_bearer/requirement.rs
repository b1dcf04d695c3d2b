//! What one operation demands of a caller: any of some scopes, or (when allowed) any of some
//! app roles.
//!
//! fastapi-azure-auth checks `scp` only, so client-credentials tokens (which have no `scp`,
//! only `roles`) can never call a scope-protected route, and its users keep asking for "scope or
//! role". [`Requirement::ScopeOrRole`] is that.

use serde::Deserialize;
use toolgate_core::{AuthRejection, Principal, RejectReason};

/// How an operation may be satisfied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Requirement {
    /// Delegated tokens only, holding one of the scopes; app-only tokens are refused.
    #[default]
    ScopeOnly,
    /// One of the scopes (delegated), or one of the app roles (app-only or user).
    ScopeOrRole,
}

/// The requirement of one operation (the REST API attaches one per operation; the provider has
/// a default one for the whole API). Both lists mean "any of".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OperationRequirement {
    /// Short scope names as they appear in `scp` (`access_as_user`).
    pub scopes: Vec<String>,
    pub app_roles: Vec<String>,
    pub mode: Requirement,
    /// Turns short names into the full scope a client must request (`api://{client-id}/`),
    /// named in 403 challenges. Empty: short names are named.
    pub scope_prefix: String,
}

impl OperationRequirement {
    /// Full scope names (`api://…/access_as_user`) are accepted and shortened when they start
    /// with `scope_prefix`.
    pub fn new<S: AsRef<str>, R: AsRef<str>>(
        scopes: &[S],
        app_roles: &[R],
        mode: Requirement,
        scope_prefix: &str,
    ) -> Self {
        let scopes = scopes
            .iter()
            .map(|s| {
                let s = s.as_ref();
                match s.strip_prefix(scope_prefix) {
                    Some(short) if !scope_prefix.is_empty() => short.to_owned(),
                    _ => s.to_owned(),
                }
            })
            .collect();
        Self {
            scopes,
            app_roles: app_roles.iter().map(|r| r.as_ref().to_owned()).collect(),
            mode,
            scope_prefix: scope_prefix.to_owned(),
        }
    }

    /// The scopes a client should request, in full.
    pub fn full_scopes(&self) -> Vec<String> {
        self.scopes
            .iter()
            .map(|s| format!("{}{s}", self.scope_prefix))
            .collect()
    }

    /// Checks a principal built from verified claims. Refusals are 403 `insufficient_scope`.
    pub fn check(&self, principal: &Principal) -> Result<(), AuthRejection> {
        let roles_count = self.mode == Requirement::ScopeOrRole && !self.app_roles.is_empty();
        let has_role = roles_count && self.app_roles.iter().any(|role| principal.has_role(role));
        if principal.is_app_only() {
            if has_role {
                return Ok(());
            }
            if !roles_count {
                return Err(AuthRejection::insufficient(
                    RejectReason::AppOnlyNotAllowed,
                    "app-only token (no scp) and the operation takes no app role",
                    self.full_scopes(),
                ));
            }
            return Err(AuthRejection::insufficient(
                RejectReason::MissingRole,
                format!("app holds none of the roles {:?}", self.app_roles),
                self.app_roles.clone(),
            ));
        }
        let nothing_required = self.scopes.is_empty() && !roles_count;
        if nothing_required || has_role || self.scopes.iter().any(|s| principal.has_scope(s)) {
            return Ok(());
        }
        if self.scopes.is_empty() {
            return Err(AuthRejection::insufficient(
                RejectReason::MissingRole,
                format!("user holds none of the roles {:?}", self.app_roles),
                self.app_roles.clone(),
            ));
        }
        Err(AuthRejection::insufficient(
            RejectReason::MissingScope,
            format!("scp holds none of {:?}", self.scopes),
            self.full_scopes(),
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::Map;
    use toolgate_core::{Groups, PrincipalKind};

    use super::*;

    fn principal(kind: PrincipalKind, scopes: &[&str], roles: &[&str]) -> Principal {
        Principal {
            id: "x".into(),
            kind,
            tenant_id: "t".into(),
            object_id: None,
            display_name: None,
            username: None,
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            groups: Groups::Listed { ids: Vec::new() },
            client_app_id: None,
            guest: false,
            provider: "azure-bearer".into(),
            expires_at: 0,
            claims: Map::new(),
        }
    }

    const PREFIX: &str = "api://x/";

    #[test]
    fn delegated_needs_any_scope_and_names_the_full_scope() {
        let req = OperationRequirement::new(
            &["api://x/Tasks.Read", "Tasks.All"],
            &["Task.Read"],
            Requirement::ScopeOnly,
            PREFIX,
        );
        assert_eq!(req.scopes, ["Tasks.Read", "Tasks.All"]);
        req.check(&principal(PrincipalKind::User, &["Tasks.All"], &[])).unwrap();
        let err = req
            .check(&principal(PrincipalKind::User, &["Other"], &["Task.Read"]))
            .unwrap_err();
        assert_eq!(err.reason, RejectReason::MissingScope);
        assert_eq!(err.required, ["api://x/Tasks.Read", "api://x/Tasks.All"]);
        assert_eq!(err.status().as_u16(), 403);
    }

    #[test]
    fn app_only_passes_by_role_only_with_scope_or_role() {
        let app = principal(PrincipalKind::App, &[], &["Task.Read"]);
        let only = OperationRequirement::new(&["Tasks.Read"], &["Task.Read"], Requirement::ScopeOnly, PREFIX);
        assert_eq!(only.check(&app).unwrap_err().reason, RejectReason::AppOnlyNotAllowed);
        let either = OperationRequirement::new(&["Tasks.Read"], &["Task.Read"], Requirement::ScopeOrRole, PREFIX);
        either.check(&app).unwrap();
        let other = principal(PrincipalKind::App, &[], &["Task.Write"]);
        assert_eq!(either.check(&other).unwrap_err().reason, RejectReason::MissingRole);
        // Users may also pass by role.
        either
            .check(&principal(PrincipalKind::User, &[], &["Task.Read"]))
            .unwrap();
        // No roles configured: app-only refused even in ScopeOrRole (deny by default).
        let no_roles = OperationRequirement::new(&["Tasks.Read"], &[] as &[&str], Requirement::ScopeOrRole, PREFIX);
        assert_eq!(
            no_roles.check(&app).unwrap_err().reason,
            RejectReason::AppOnlyNotAllowed
        );
    }

    #[test]
    fn empty_requirement_admits_any_delegated_token() {
        let req = OperationRequirement::default();
        req.check(&principal(PrincipalKind::User, &[], &[])).unwrap();
        assert!(req.check(&principal(PrincipalKind::App, &[], &["Task.Read"])).is_err());
    }
}

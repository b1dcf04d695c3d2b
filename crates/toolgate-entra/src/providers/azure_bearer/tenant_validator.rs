//! The multi-tenant issuer hook: which Entra tenants may call this API.
//!
//! It runs only on tokens whose signature, issuer template (`…/{tenantid}/v2.0` with the token's
//! own `tid` substituted), audience and lifetime already passed, and receives that verified
//! `tid` (lower-case GUID). fastapi-azure-auth's equivalent ran on the issuer string; this one
//! cannot be fed an attacker's claims.

use std::collections::BTreeSet;

use async_trait::async_trait;

use super::config::AzureBearerConfigError;
use crate::settings::is_guid;

/// Decides whether a tenant may call. Refusal → 401 `invalid_token` (reason `tenant_not_allowed`).
#[async_trait]
pub trait TenantValidator: Send + Sync + 'static {
    /// `tid` is the verified tenant id, lower case.
    async fn allow(&self, tid: &str) -> bool;
}

/// A fixed allow-list of tenant GUIDs (case-insensitive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticTenantAllowList {
    tenants: BTreeSet<String>,
}

impl StaticTenantAllowList {
    /// Every entry must be a GUID; an empty list is refused (that would be "no tenant", and
    /// "any tenant" must be chosen explicitly with `tenancy = "any-tenant"`).
    pub fn new<I, S>(tenants: I) -> Result<Self, AzureBearerConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut set = BTreeSet::new();
        for tenant in tenants {
            let tenant = tenant.as_ref();
            if !is_guid(tenant) {
                return Err(AzureBearerConfigError::invalid(
                    "allowed_tenants",
                    format!("`{tenant}` is not a tenant GUID"),
                ));
            }
            set.insert(tenant.to_ascii_lowercase());
        }
        if set.is_empty() {
            return Err(AzureBearerConfigError::invalid(
                "allowed_tenants",
                "must list at least one tenant GUID (or set tenancy = \"any-tenant\")",
            ));
        }
        Ok(Self { tenants: set })
    }

    pub fn tenants(&self) -> impl Iterator<Item = &str> {
        self.tenants.iter().map(String::as_str)
    }
}

#[async_trait]
impl TenantValidator for StaticTenantAllowList {
    async fn allow(&self, tid: &str) -> bool {
        self.tenants.contains(&tid.to_ascii_lowercase())
    }
}

/// A synchronous predicate as a hook: `TenantPredicate(|tid: &str| lookup(tid))`.
pub struct TenantPredicate<F>(pub F);

impl<F> std::fmt::Debug for TenantPredicate<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TenantPredicate(..)")
    }
}

#[async_trait]
impl<F> TenantValidator for TenantPredicate<F>
where
    F: Fn(&str) -> bool + Send + Sync + 'static,
{
    async fn allow(&self, tid: &str) -> bool {
        (self.0)(tid)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn allow_list_is_case_insensitive_and_refuses_bad_entries() {
        let list = StaticTenantAllowList::new(["3C9A8B1E-5D2F-4E7A-9B0C-1D2E3F4A5B6C"]).unwrap();
        assert!(list.allow("3c9a8b1e-5d2f-4e7a-9b0c-1d2e3f4a5b6c").await);
        assert!(!list.allow("f4b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d").await);
        assert!(StaticTenantAllowList::new(["contoso.onmicrosoft.com"]).is_err());
        assert!(StaticTenantAllowList::new(Vec::<String>::new()).is_err());
    }
}

//! Lookups over the validated config: tenants by path segment, apps, users, derived ids.

use aws_lc_rs::digest;

use crate::config::{AppConfig, EmulatorConfig, RedirectPlatform, TenantConfig, UserConfig};

/// What the `{tenant}` path segment named.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TenantSegment<'a> {
    /// A GUID, domain or name of a configured tenant.
    Tenant(&'a TenantConfig),
    /// `common` or `organizations`: any tenant, templated issuer.
    Multi(&'static str),
}

impl EmulatorConfig {
    /// A tenant by id, domain or name (case-insensitive).
    pub fn tenant(&self, key: &str) -> Option<&TenantConfig> {
        self.tenants.iter().find(|t| {
            t.id.eq_ignore_ascii_case(key) || t.domain.eq_ignore_ascii_case(key) || t.name.eq_ignore_ascii_case(key)
        })
    }

    /// An app by client id or name.
    pub fn app(&self, key: &str) -> Option<&AppConfig> {
        self.apps
            .iter()
            .find(|a| a.client_id.eq_ignore_ascii_case(key))
            .or_else(|| self.apps.iter().find(|a| a.name == key))
    }

    /// The app that owns an identifier URI (or whose client id is used as one).
    pub fn app_by_resource(&self, resource: &str) -> Option<&AppConfig> {
        self.apps
            .iter()
            .find(|a| a.client_id.eq_ignore_ascii_case(resource) || a.identifier_uris.iter().any(|u| u == resource))
    }

    /// A user by user name or UPN, within one tenant or any (for `common`).
    pub fn user(&self, tenant: Option<&TenantConfig>, hint: &str) -> Option<&UserConfig> {
        self.users.iter().find(|u| {
            let in_tenant = tenant.is_none_or(|t| self.tenant(&u.tenant).is_some_and(|ut| ut.id == t.id));
            in_tenant && (u.user_name.eq_ignore_ascii_case(hint) || self.upn(u).eq_ignore_ascii_case(hint))
        })
    }

    /// A user by object id.
    pub fn user_by_oid(&self, oid: &str) -> Option<&UserConfig> {
        self.users.iter().find(|u| u.oid.eq_ignore_ascii_case(oid))
    }

    /// Users shown on a tenant's login page.
    pub fn users_in(&self, tenant: Option<&TenantConfig>) -> Vec<&UserConfig> {
        self.users
            .iter()
            .filter(|u| tenant.is_none_or(|t| self.tenant(&u.tenant).is_some_and(|ut| ut.id == t.id)))
            .collect()
    }

    /// The user's UPN, defaulted from the tenant's domain.
    pub fn upn(&self, user: &UserConfig) -> String {
        match (&user.upn, self.tenant(&user.tenant)) {
            (Some(upn), _) => upn.clone(),
            (None, Some(t)) => format!("{}@{}", user.user_name, t.domain),
            (None, None) => user.user_name.clone(),
        }
    }

    pub(crate) fn segment(&self, segment: &str) -> Option<TenantSegment<'_>> {
        match segment.to_ascii_lowercase().as_str() {
            "common" => Some(TenantSegment::Multi("common")),
            "organizations" => Some(TenantSegment::Multi("organizations")),
            _ => self.tenant(segment).map(TenantSegment::Tenant),
        }
    }
}

impl AppConfig {
    /// Entra's redirect URI rule: exact match, except that for `http://localhost` and
    /// `http://127.0.0.1` registrations the port is ignored (RFC 8252 §7.3 loopback).
    pub fn redirect_platform(&self, requested: &str) -> Option<RedirectPlatform> {
        let lists = [
            (RedirectPlatform::Web, &self.redirect_uris.web),
            (RedirectPlatform::Spa, &self.redirect_uris.spa),
            (RedirectPlatform::PublicClient, &self.redirect_uris.public_client),
        ];
        lists.into_iter().find_map(|(platform, list)| {
            list.iter()
                .any(|registered| redirect_matches(registered, requested))
                .then_some(platform)
        })
    }
}

fn redirect_matches(registered: &str, requested: &str) -> bool {
    if registered == requested {
        return true;
    }
    let (Ok(reg), Ok(req)) = (url::Url::parse(registered), url::Url::parse(requested)) else {
        return false;
    };
    let loopback = matches!(reg.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    if !loopback || reg.scheme() != "http" || req.scheme() != "http" || reg.host_str() != req.host_str() {
        return false;
    }
    // `http://localhost` and `http://localhost/` register the same root path.
    let same_path = reg.path() == req.path();
    same_path && reg.query() == req.query() && reg.fragment().is_none() && req.fragment().is_none()
}

/// A GUID-shaped digest, for ids Entra derives and keeps stable (service principal ids).
pub(crate) fn derived_guid(parts: &[&str]) -> String {
    let d = digest::digest(&digest::SHA256, parts.join("\n").as_bytes());
    // The first 16 of SHA-256's 32 bytes.
    let mut bytes = [0u8; 16];
    for (out, byte) in bytes.iter_mut().zip(d.as_ref()) {
        *out = *byte;
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    uuid::Uuid::from_bytes(bytes).to_string()
}

/// Pairwise `sub`: stable per (user, client app), different across apps, like Entra's.
pub(crate) fn pairwise_sub(oid: &str, client_id: &str) -> String {
    let d = digest::digest(&digest::SHA256, format!("{oid}\n{client_id}").as_bytes());
    toolgate_jose::base64url_encode(d.as_ref())
}

/// The object id of an app's service principal in a tenant (app-only `oid`/`sub`).
pub(crate) fn service_principal_id(tenant_id: &str, client_id: &str) -> String {
    derived_guid(&["service-principal", tenant_id, client_id])
}

//! Validated settings for Entra token validation. Built once from configuration; inner code takes
//! these types and never re-parses strings.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::key_cache::KeySource;

/// Which tenants' tokens are accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantPolicy {
    /// Only the home tenant (`EntraSettings::tenant_id`).
    Single,
    /// Multi-tenant app, but only these tenants (GUIDs). The usual production choice.
    AllowList(BTreeSet<String>),
    /// Any Entra tenant. Never a fallback: it must be chosen explicitly in configuration,
    /// because a reference library silently accepted every tenant when its check was off.
    AnyTenant,
    /// An Azure AD B2C directory (`tenant_id`), keys and issuer from one user flow's metadata
    /// (set `EntraSettings::key_source`). B2C quirks handled by the validator: its single issuer
    /// (`https://{name}.b2clogin.com/{tid}/v2.0/`) applies whatever the token's `ver` (B2C access
    /// tokens say `1.0`), and user flows emit no `tid` (the directory is implied by the issuer).
    B2c,
}

/// Token versions accepted (`ver` claim). Both by default: API apps get v1 tokens unless their
/// manifest sets `requestedAccessTokenVersion: 2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcceptedVersions {
    pub v1: bool,
    pub v2: bool,
}

impl Default for AcceptedVersions {
    fn default() -> Self {
        Self { v1: true, v2: true }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SettingsError {
    #[error("`{key}` must be a GUID, got `{value}`")]
    NotAGuid { key: &'static str, value: String },
    #[error("`{key}` must be an absolute http(s) URL, got `{value}`")]
    NotAUrl { key: &'static str, value: String },
    #[error("`{key}` must not be empty")]
    Empty { key: &'static str },
    #[error("`{value}` is a scope (`…/.default`), not an audience; list the API's identifier URI instead")]
    DefaultScopeAsAudience { value: String },
}

/// Everything the validator needs to know about the API it protects.
#[derive(Debug, Clone)]
pub struct EntraSettings {
    /// Scheme and host of the authority, without a trailing slash: `https://login.microsoftonline.com`,
    /// a sovereign cloud (`https://login.microsoftonline.us`), or the emulator.
    pub authority_host: String,
    /// The home tenant GUID.
    pub tenant_id: String,
    pub tenants: TenantPolicy,
    /// The API's application (client) id: the `aud` of v2 tokens.
    pub client_id: String,
    /// The API's App ID URIs (`api://{client-id}` or custom): the `aud` of v1 tokens.
    pub identifier_uris: Vec<String>,
    /// Further accepted audiences, exactly as configured. Nothing else is accepted.
    pub extra_audiences: Vec<String>,
    /// Accept a list-valued `aud` that contains an accepted value. Off: strict by default.
    pub accept_audience_list: bool,
    pub versions: AcceptedVersions,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`.
    pub leeway: Duration,
    pub allow_guests: bool,
    /// Apps with claims-mapping policies sign with custom keys, published only with
    /// `?appid={client-id}` on the metadata URL.
    pub custom_signing_keys: bool,
    /// Background key refresh period (Microsoft suggests checking hourly).
    pub key_refresh_interval: Duration,
    /// Least time between two refreshes triggered by an unknown `kid`.
    pub unknown_kid_refresh_interval: Duration,
    /// Overrides the metadata documents (B2C policies, External ID); derived when `None`.
    pub key_source: Option<KeySource>,
}

impl EntraSettings {
    /// Settings for a single-tenant API with Entra's defaults.
    pub fn single_tenant(authority_host: &str, tenant_id: &str, client_id: &str) -> Result<Self, SettingsError> {
        let settings = Self {
            authority_host: authority_host.trim_end_matches('/').to_owned(),
            tenant_id: tenant_id.to_owned(),
            tenants: TenantPolicy::Single,
            client_id: client_id.to_owned(),
            identifier_uris: vec![format!("api://{client_id}")],
            extra_audiences: Vec::new(),
            accept_audience_list: false,
            versions: AcceptedVersions::default(),
            leeway: Duration::from_secs(60),
            allow_guests: false,
            custom_signing_keys: false,
            key_refresh_interval: Duration::from_secs(3600),
            unknown_kid_refresh_interval: Duration::from_secs(300),
            key_source: None,
        };
        settings.check()?;
        Ok(settings)
    }

    /// Checks invariants; every error names the setting.
    pub fn check(&self) -> Result<(), SettingsError> {
        if !(self.authority_host.starts_with("https://") || self.authority_host.starts_with("http://"))
            || url::Url::parse(&self.authority_host).is_err()
        {
            return Err(SettingsError::NotAUrl {
                key: "authority_host",
                value: self.authority_host.clone(),
            });
        }
        if !is_guid(&self.tenant_id) {
            return Err(SettingsError::NotAGuid {
                key: "tenant_id",
                value: self.tenant_id.clone(),
            });
        }
        if !is_guid(&self.client_id) {
            return Err(SettingsError::NotAGuid {
                key: "client_id",
                value: self.client_id.clone(),
            });
        }
        if let TenantPolicy::AllowList(tenants) = &self.tenants {
            if tenants.is_empty() {
                return Err(SettingsError::Empty { key: "allowed_tenants" });
            }
            if let Some(bad) = tenants.iter().find(|t| !is_guid(t)) {
                return Err(SettingsError::NotAGuid {
                    key: "allowed_tenants",
                    value: bad.clone(),
                });
            }
        }
        for audience in self.identifier_uris.iter().chain(&self.extra_audiences) {
            if audience.trim_end_matches('/').ends_with("/.default") {
                return Err(SettingsError::DefaultScopeAsAudience {
                    value: audience.clone(),
                });
            }
        }
        Ok(())
    }

    /// The tenant segment of metadata URLs: the home tenant, or `organizations` for
    /// multi-tenant apps (whose documents carry the templated issuer).
    pub fn metadata_tenant(&self) -> &str {
        match self.tenants {
            TenantPolicy::Single | TenantPolicy::B2c => &self.tenant_id,
            TenantPolicy::AllowList(_) | TenantPolicy::AnyTenant => "organizations",
        }
    }

    /// Where signing keys and issuers come from.
    pub fn key_source(&self) -> KeySource {
        if let Some(source) = &self.key_source {
            return source.clone();
        }
        let base = format!("{}/{}", self.authority_host, self.metadata_tenant());
        let query = if self.custom_signing_keys {
            format!("?appid={}", self.client_id)
        } else {
            String::new()
        };
        KeySource {
            v2_metadata_url: format!("{base}/v2.0/.well-known/openid-configuration{query}"),
            v1_metadata_url: self
                .versions
                .v1
                .then(|| format!("{base}/.well-known/openid-configuration{query}")),
        }
    }

    /// The v2.0 authority clients sign in at (named in protected resource metadata).
    pub fn v2_authority(&self) -> String {
        format!("{}/{}/v2.0", self.authority_host, self.metadata_tenant())
    }

    /// Whether `audience` names this API. Trailing slashes on App ID URIs are tolerated, as
    /// Entra issues v1 tokens with the URI exactly as registered.
    pub fn accepts_audience(&self, audience: &str) -> bool {
        if audience == self.client_id || self.extra_audiences.iter().any(|a| a == audience) {
            return true;
        }
        let trimmed = audience.trim_end_matches('/');
        self.identifier_uris
            .iter()
            .any(|uri| uri.trim_end_matches('/') == trimmed)
    }
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, hex, case-insensitive.
pub fn is_guid(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    const CLIENT: &str = "11111111-2222-3333-4444-555555555555";

    #[test]
    fn guid_check() {
        assert!(is_guid(TENANT));
        assert!(!is_guid("contoso.onmicrosoft.com"));
        assert!(!is_guid("72f988bf-86f1-41af-91ab-2d7cd011db4"));
        assert!(!is_guid("72f988bf_86f1-41af-91ab-2d7cd011db47"));
    }

    #[test]
    fn settings_errors_name_the_key() {
        let err = EntraSettings::single_tenant("https://login.microsoftonline.com", "contoso", CLIENT).unwrap_err();
        assert_eq!(
            err,
            SettingsError::NotAGuid {
                key: "tenant_id",
                value: "contoso".into()
            }
        );
        let err = EntraSettings::single_tenant("login.microsoftonline.com", TENANT, CLIENT).unwrap_err();
        assert!(matches!(
            err,
            SettingsError::NotAUrl {
                key: "authority_host",
                ..
            }
        ));
        let mut settings = EntraSettings::single_tenant("https://login.microsoftonline.com", TENANT, CLIENT).unwrap();
        settings.extra_audiences.push(format!("api://{CLIENT}/.default"));
        assert!(matches!(
            settings.check(),
            Err(SettingsError::DefaultScopeAsAudience { .. })
        ));
    }

    #[test]
    fn key_source_urls_follow_tenancy_and_custom_keys() {
        let mut settings = EntraSettings::single_tenant("https://login.microsoftonline.com/", TENANT, CLIENT).unwrap();
        assert_eq!(
            settings.key_source().v2_metadata_url,
            format!("https://login.microsoftonline.com/{TENANT}/v2.0/.well-known/openid-configuration")
        );
        settings.tenants = TenantPolicy::AnyTenant;
        settings.custom_signing_keys = true;
        let source = settings.key_source();
        assert_eq!(
            source.v2_metadata_url,
            format!(
                "https://login.microsoftonline.com/organizations/v2.0/.well-known/openid-configuration?appid={CLIENT}"
            )
        );
        assert_eq!(
            source.v1_metadata_url.as_deref(),
            Some(
                format!(
                    "https://login.microsoftonline.com/organizations/.well-known/openid-configuration?appid={CLIENT}"
                )
                .as_str()
            )
        );
    }

    #[test]
    fn audiences() {
        let settings = EntraSettings::single_tenant("https://login.microsoftonline.com", TENANT, CLIENT).unwrap();
        assert!(settings.accepts_audience(CLIENT));
        assert!(settings.accepts_audience(&format!("api://{CLIENT}")));
        assert!(settings.accepts_audience(&format!("api://{CLIENT}/")));
        assert!(!settings.accepts_audience(&format!("api://{CLIENT}/.default")));
        assert!(!settings.accepts_audience("00000003-0000-0000-c000-000000000000"));
    }
}

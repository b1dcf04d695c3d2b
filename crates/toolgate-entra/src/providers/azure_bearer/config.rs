//! `[auth.azure_bearer]` as users write it, and its conversion into a checked provider.
//!
//! ```toml
//! [auth.azure_bearer]
//! tenancy = "multi"                  # single | multi | any-tenant | b2c
//! tenant_id = "…"                    # home tenant (B2C: the B2C directory id)
//! client_id = "…"                    # the API's application id
//! allowed_tenants = ["…", "…"]       # multi only
//! scopes = ["access_as_user"]        # advertised in metadata and challenges
//! required = { scopes = ["access_as_user"], app_roles = ["Task.Read"], mode = "scope-or-role" }
//! ```

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use toolgate_core::{AuthProvider, ProviderSet, SystemClock};

use super::api_key::{ApiKeyConfig, ApiKeyProvider};
use super::b2c::B2cPolicy;
use super::provider::AzureBearerProvider;
use super::requirement::{OperationRequirement, Requirement};
use super::tenant_validator::{StaticTenantAllowList, TenantValidator};
use crate::settings::{AcceptedVersions, EntraSettings, SettingsError, TenantPolicy};
use crate::validator::EntraValidator;

const ENTRA_AUTHORITY: &str = "https://login.microsoftonline.com";
/// fastapi-azure-auth refreshes its OpenID configuration every 24 h; so do we by default (an
/// unknown `kid` still triggers a throttled refresh sooner).
const DEFAULT_METADATA_REFRESH_SECS: u64 = 24 * 60 * 60;
const DEFAULT_LEEWAY_SECS: u64 = 60;

/// Which tenants' tokens are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tenancy {
    /// Only `tenant_id`.
    #[default]
    Single,
    /// Multi-tenant app; `allowed_tenants` (or a [`TenantValidator`]) decides, after validation.
    Multi,
    /// Any Entra tenant: must be chosen explicitly.
    AnyTenant,
    /// An Azure AD B2C user flow (`[auth.azure_bearer.b2c]`).
    B2c,
}

/// `[auth.azure_bearer.b2c]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct B2cConfig {
    /// The tenant name: `contoso` in `contoso.b2clogin.com`.
    pub name: String,
    /// The user flow, e.g. `B2C_1_signupsignin`.
    pub policy: String,
    /// The tenant segment of B2C URLs; default `{name}.onmicrosoft.com`.
    #[serde(default)]
    pub domain: Option<String>,
}

/// `required = { … }`: the default requirement for the whole API.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequirementConfig {
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub app_roles: Vec<String>,
    #[serde(default)]
    pub mode: Requirement,
}

/// `[auth.azure_bearer]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzureBearerConfig {
    #[serde(default)]
    pub tenancy: Tenancy,
    /// Home tenant GUID (B2C: the B2C directory's GUID).
    pub tenant_id: String,
    /// The API's application (client) id: the `aud` of v2 and B2C tokens.
    pub client_id: String,
    /// App ID URIs (the `aud` of v1 tokens); default `["api://{client_id}"]`.
    #[serde(default)]
    pub identifier_uris: Vec<String>,
    /// `tenancy = "multi"`: the tenants allowed (GUIDs).
    #[serde(default)]
    pub allowed_tenants: Vec<String>,
    /// `tenancy = "b2c"`.
    #[serde(default)]
    pub b2c: Option<B2cConfig>,
    #[serde(default)]
    pub allow_guests: bool,
    /// Scopes the API exposes (short names), advertised as `{identifier_uri}/{scope}`.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Default requirement for every operation; empty: any delegated token for this API.
    #[serde(default)]
    pub required: RequirementConfig,
    #[serde(default)]
    pub api_keys: Vec<ApiKeyConfig>,
    /// Clock skew tolerated on `exp`/`nbf`/`iat`, seconds.
    #[serde(default = "default_leeway")]
    pub leeway: u64,
    /// Default `https://login.microsoftonline.com`, or `https://{b2c.name}.b2clogin.com`.
    #[serde(default)]
    pub authority_host: Option<String>,
    /// OpenID configuration and key refresh period, seconds (default 24 h).
    #[serde(default = "default_metadata_refresh")]
    pub metadata_refresh_secs: u64,
    /// The protected resource's URL for RFC 9728 metadata (the server usually sets it).
    #[serde(default)]
    pub resource: Option<String>,
    #[serde(default)]
    pub resource_name: Option<String>,
}

fn default_leeway() -> u64 {
    DEFAULT_LEEWAY_SECS
}

fn default_metadata_refresh() -> u64 {
    DEFAULT_METADATA_REFRESH_SECS
}

/// Why `[auth.azure_bearer]` is not usable; always names the key.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AzureBearerConfigError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("`{key}` {message}")]
    Invalid { key: String, message: String },
}

impl AzureBearerConfigError {
    pub(crate) fn invalid(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            key: key.into(),
            message: message.into(),
        }
    }

    pub(crate) fn invalid_at(list: &str, index: usize, field: &str, message: impl Into<String>) -> Self {
        Self::invalid(format!("{list}[{index}].{field}"), message)
    }

    /// The offending key.
    pub fn key(&self) -> Option<&str> {
        match self {
            Self::Settings(
                SettingsError::NotAGuid { key, .. } | SettingsError::NotAUrl { key, .. } | SettingsError::Empty { key },
            ) => Some(key),
            Self::Settings(_) => Some("identifier_uris"),
            Self::Invalid { key, .. } => Some(key),
        }
    }
}

/// A B2C name or policy: one URL path segment / host label.
fn is_segment(value: &str) -> bool {
    !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

impl AzureBearerConfig {
    /// A checked provider (no API keys: see [`Self::build_composed`]).
    pub fn build(&self) -> Result<AzureBearerProvider, AzureBearerConfigError> {
        self.build_inner(None)
    }

    /// Like [`Self::build`], with a custom multi-tenant hook instead of `allowed_tenants`
    /// (which may then be empty). Only for `tenancy = "multi"`.
    pub fn build_with_tenant_validator(
        &self,
        hook: Arc<dyn TenantValidator>,
    ) -> Result<AzureBearerProvider, AzureBearerConfigError> {
        if self.tenancy != Tenancy::Multi {
            return Err(AzureBearerConfigError::invalid(
                "tenancy",
                "must be \"multi\" to use a tenant validator",
            ));
        }
        self.build_inner(Some(hook))
    }

    /// The API-key provider, when `api_keys` is not empty.
    pub fn build_api_keys(&self) -> Result<Option<ApiKeyProvider>, AzureBearerConfigError> {
        if self.api_keys.is_empty() {
            return Ok(None);
        }
        ApiKeyProvider::new(&self.api_keys, self.resource.clone().unwrap_or_default()).map(Some)
    }

    /// Bearer alone, or bearer then API key in a [`ProviderSet`] (first success wins).
    pub fn build_composed(&self) -> Result<Arc<dyn AuthProvider>, AzureBearerConfigError> {
        let bearer: Arc<dyn AuthProvider> = Arc::new(self.build()?);
        Ok(match self.build_api_keys()? {
            Some(keys) => Arc::new(ProviderSet::new(vec![bearer, Arc::new(keys)])),
            None => bearer,
        })
    }

    fn build_inner(
        &self,
        hook: Option<Arc<dyn TenantValidator>>,
    ) -> Result<AzureBearerProvider, AzureBearerConfigError> {
        if self.tenancy != Tenancy::Multi && !self.allowed_tenants.is_empty() {
            return Err(AzureBearerConfigError::invalid(
                "allowed_tenants",
                "is only used with tenancy = \"multi\"",
            ));
        }
        if self.tenancy != Tenancy::B2c && self.b2c.is_some() {
            return Err(AzureBearerConfigError::invalid(
                "b2c",
                "is only used with tenancy = \"b2c\"",
            ));
        }
        if self.metadata_refresh_secs == 0 {
            return Err(AzureBearerConfigError::invalid(
                "metadata_refresh_secs",
                "must be positive",
            ));
        }
        let b2c = match (&self.tenancy, &self.b2c) {
            (Tenancy::B2c, None) => {
                return Err(AzureBearerConfigError::invalid(
                    "b2c",
                    "is required with tenancy = \"b2c\" (name, policy)",
                ));
            }
            (Tenancy::B2c, Some(b2c)) => Some(self.b2c_policy(b2c)?),
            _ => None,
        };
        let tenant_hook: Option<Arc<dyn TenantValidator>> = match self.tenancy {
            Tenancy::Multi => match hook {
                Some(hook) => Some(hook),
                None => Some(Arc::new(StaticTenantAllowList::new(&self.allowed_tenants)?)),
            },
            _ => None,
        };
        let authority_host = match (&self.authority_host, &b2c) {
            (Some(host), _) => host.trim_end_matches('/').to_owned(),
            (None, Some(policy)) => policy.authority_host.clone(),
            (None, None) => ENTRA_AUTHORITY.to_owned(),
        };
        let mut settings = EntraSettings::single_tenant(&authority_host, &self.tenant_id, &self.client_id)?;
        settings.tenants = match self.tenancy {
            Tenancy::Single => TenantPolicy::Single,
            // The validator checks the templated issuer for the token's own `tid`; the hook then
            // decides on that verified `tid`.
            Tenancy::Multi | Tenancy::AnyTenant => TenantPolicy::AnyTenant,
            Tenancy::B2c => TenantPolicy::B2c,
        };
        if !self.identifier_uris.is_empty() {
            settings.identifier_uris = self.identifier_uris.clone();
        }
        settings.versions = AcceptedVersions { v1: true, v2: true };
        settings.leeway = Duration::from_secs(self.leeway);
        settings.allow_guests = self.allow_guests;
        settings.key_refresh_interval = Duration::from_secs(self.metadata_refresh_secs);
        settings.key_source = b2c.as_ref().map(B2cPolicy::key_source);
        settings.check()?;
        let validator = EntraValidator::new(settings, Arc::new(SystemClock));
        let mut provider = AzureBearerProvider::new(validator, self.resource.clone().unwrap_or_default())
            .allow_guests(self.allow_guests)
            .with_scopes(self.scopes.clone())
            .with_resource_name(self.resource_name.clone());
        let required = OperationRequirement::new(
            &self.required.scopes,
            &self.required.app_roles,
            self.required.mode,
            provider.scope_prefix(),
        );
        provider = provider.with_default_requirement(required);
        if let Some(hook) = tenant_hook {
            provider = provider.with_tenant_validator(hook);
        }
        if let Some(policy) = b2c {
            provider = provider.with_b2c(policy);
        }
        Ok(provider)
    }

    fn b2c_policy(&self, b2c: &B2cConfig) -> Result<B2cPolicy, AzureBearerConfigError> {
        if !is_segment(&b2c.name) {
            return Err(AzureBearerConfigError::invalid(
                "b2c.name",
                "must be the B2C tenant name (e.g. contoso)",
            ));
        }
        if !is_segment(&b2c.policy) {
            return Err(AzureBearerConfigError::invalid(
                "b2c.policy",
                "must be a user flow name (e.g. B2C_1_signupsignin)",
            ));
        }
        let domain = b2c
            .domain
            .clone()
            .unwrap_or_else(|| format!("{}.onmicrosoft.com", b2c.name));
        if !is_segment(&domain) {
            return Err(AzureBearerConfigError::invalid(
                "b2c.domain",
                "must be a domain or tenant GUID",
            ));
        }
        let authority_host = self
            .authority_host
            .as_deref()
            .map(|h| h.trim_end_matches('/').to_owned())
            .unwrap_or_else(|| format!("https://{}.b2clogin.com", b2c.name));
        Ok(B2cPolicy {
            authority_host,
            domain,
            policy: b2c.policy.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const TENANT: &str = "3c9a8b1e-5d2f-4e7a-9b0c-1d2e3f4a5b6c";
    const CLIENT: &str = "a9e2d5f0-3b1c-4d8e-9f7a-6c5b4a3d2e1f";

    fn parse(extra: &str) -> AzureBearerConfig {
        toml_like(&format!("tenant_id = \"{TENANT}\"\nclient_id = \"{CLIENT}\"\n{extra}"))
    }

    /// The crate has no TOML dependency; the JSON form exercises the same serde attributes.
    fn toml_like(text: &str) -> AzureBearerConfig {
        let mut map = serde_json::Map::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let (key, value) = line.split_once(" = ").unwrap();
            map.insert(key.trim().to_owned(), serde_json::from_str(value.trim()).unwrap());
        }
        serde_json::from_value(serde_json::Value::Object(map)).unwrap()
    }

    #[tokio::test]
    async fn defaults_and_errors_name_the_key() {
        let config = parse("");
        assert_eq!(config.tenancy, Tenancy::Single);
        assert_eq!(config.leeway, 60);
        assert_eq!(config.metadata_refresh_secs, 86_400);
        let provider = config.build().unwrap();
        assert_eq!(
            provider.validator().settings().key_refresh_interval,
            Duration::from_secs(86_400)
        );

        let err = parse("tenancy = \"multi\"").build().unwrap_err();
        assert_eq!(err.key(), Some("allowed_tenants"));
        let err = parse("tenancy = \"multi\"\nallowed_tenants = [\"contoso\"]")
            .build()
            .unwrap_err();
        assert_eq!(err.key(), Some("allowed_tenants"));
        let err = parse("allowed_tenants = [\"3c9a8b1e-5d2f-4e7a-9b0c-1d2e3f4a5b6c\"]")
            .build()
            .unwrap_err();
        assert_eq!(err.key(), Some("allowed_tenants"));
        let err = parse("tenancy = \"b2c\"").build().unwrap_err();
        assert_eq!(err.key(), Some("b2c"));
        let err = parse("client_id = \"nope\"").build().unwrap_err();
        assert_eq!(err.key(), Some("client_id"));
        let err = parse("api_keys = [{\"key_sha256\": \"x\", \"principal\": \"p\"}]")
            .build_composed()
            .err()
            .unwrap();
        assert_eq!(err.key(), Some("api_keys[0].key_sha256"));
        parse("tenancy = \"any-tenant\"").build().unwrap();
    }

    #[test]
    fn unknown_fields_are_refused() {
        let value = serde_json::json!({"tenant_id": TENANT, "client_id": CLIENT, "tenantcy": "single"});
        assert!(serde_json::from_value::<AzureBearerConfig>(value).is_err());
    }

    #[tokio::test]
    async fn b2c_metadata_follows_the_policy() {
        let provider = parse("tenancy = \"b2c\"\nb2c = {\"name\": \"contoso\", \"policy\": \"B2C_1_signupsignin\"}")
            .build()
            .unwrap();
        assert_eq!(
            provider.validator().settings().key_source().v2_metadata_url,
            "https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_signupsignin/v2.0/.well-known/openid-configuration"
        );
    }
}

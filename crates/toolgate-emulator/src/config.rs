//! The emulator's directory as users write it in TOML: tenants, app registrations, users, settings.
//!
//! Field names follow the Entra portal/manifest loosely so a config reads like an app registration.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The whole emulated directory. Build it with [`EmulatorConfig::demo`] or from TOML.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmulatorConfig {
    #[serde(default)]
    pub settings: Settings,
    #[serde(default)]
    pub tenants: Vec<TenantConfig>,
    #[serde(default)]
    pub apps: Vec<AppConfig>,
    #[serde(default)]
    pub users: Vec<UserConfig>,
}

/// Lifetimes and thresholds; defaults are Entra's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Access and ID token lifetime (Entra's default is 60–90 minutes; 3600 s here).
    pub token_lifetime_secs: u64,
    /// Past this many groups a JWT carries the overage form instead of `groups` (Entra: 200).
    pub groups_overage_threshold: usize,
    /// Authorization code lifetime (Entra: about 10 minutes).
    pub code_lifetime_secs: u64,
    /// Refresh token lifetime (Entra: 90 days sliding; 24 h here keeps memory bounded).
    pub refresh_token_lifetime_secs: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            token_lifetime_secs: 3600,
            groups_overage_threshold: 200,
            code_lifetime_secs: 600,
            refresh_token_lifetime_secs: 86_400,
        }
    }
}

/// A directory (tenant).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    /// Tenant id (GUID): the `tid` claim.
    pub id: String,
    /// Short name, e.g. `contoso`; also accepted in URL paths for convenience.
    pub name: String,
    /// Verified domain, e.g. `contoso.example`; accepted in URL paths like Entra.
    pub domain: String,
    /// An Azure AD B2C directory: its user flows are served under `/{tenant}/{policy}/…` and
    /// issue B2C-shaped tokens (see [`crate::demo::B2C_TENANT_ID`] and `docs/emulator.md`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub b2c: bool,
    /// B2C user-flow policies (e.g. `B2C_1_signupsignin`), matched case-insensitively like B2C.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<String>,
}

/// An app registration (client, API, or both).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    /// Display name.
    pub name: String,
    /// Application (client) id, a GUID.
    pub client_id: String,
    /// Home tenant: its id, name or domain.
    pub tenant: String,
    /// Client secrets; none makes a public client.
    #[serde(default)]
    pub client_secrets: Vec<ClientSecret>,
    /// Application ID URIs (e.g. `api://{client-id}`); the first is a v1 token's `aud`.
    #[serde(default)]
    pub identifier_uris: Vec<String>,
    /// Delegated scopes this app exposes as an API (e.g. `access_as_user`).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// App roles this app defines.
    #[serde(default)]
    pub app_roles: Vec<AppRole>,
    /// Redirect URIs by platform.
    #[serde(default)]
    pub redirect_uris: RedirectUris,
    /// `requestedAccessTokenVersion`: 1 (Entra's default when unset) or 2.
    #[serde(default = "default_token_version")]
    pub access_token_version: u8,
    /// Whether users of other tenants may sign in to it.
    #[serde(default)]
    pub multi_tenant: bool,
    /// App roles of this API granted to client applications (for `client_credentials`).
    #[serde(default)]
    pub app_role_assignments: Vec<AppRoleAssignment>,
}

fn default_token_version() -> u8 {
    1
}

impl AppConfig {
    /// Confidential apps have at least one secret.
    pub fn is_confidential(&self) -> bool {
        !self.client_secrets.is_empty()
    }
}

/// A client secret. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClientSecret(String);

impl ClientSecret {
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself, named so every use is visible.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret([redacted])")
    }
}

/// An app role definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppRole {
    /// The value that appears in `roles`.
    pub value: String,
    /// Who can be assigned the role.
    #[serde(default = "both_member_types")]
    pub allowed_member_types: Vec<MemberType>,
}

fn both_member_types() -> Vec<MemberType> {
    vec![MemberType::User, MemberType::Application]
}

/// Entra's `allowedMemberTypes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MemberType {
    User,
    Application,
}

/// Redirect URIs per platform; the platform changes how Entra treats the code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedirectUris {
    #[serde(default)]
    pub web: Vec<String>,
    #[serde(default)]
    pub spa: Vec<String>,
    #[serde(default)]
    pub public_client: Vec<String>,
}

/// Which platform a redirect URI was registered under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RedirectPlatform {
    /// Confidential web app: the code needs the client secret.
    Web,
    /// Single-page app: cross-origin redemption with PKCE, no secret.
    Spa,
    /// Mobile/desktop/CLI: no secret, loopback ports are ignored when matching.
    PublicClient,
}

/// App roles of the API granted to a client application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppRoleAssignment {
    /// The client app: its client id or name.
    pub client: String,
    /// Role values (must be defined on this app with member type `Application`).
    pub roles: Vec<String>,
}

/// A user account in one tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// Tenant: id, name or domain.
    pub tenant: String,
    /// Login name, e.g. `alice` (also accepted as `login_hint`).
    pub user_name: String,
    pub display_name: String,
    /// Object id (GUID): the stable user identifier across apps.
    pub oid: String,
    /// UPN / preferred_username; defaults to `{user_name}@{tenant domain}`.
    #[serde(default)]
    pub upn: Option<String>,
    /// App role values, granted on every resource app that defines them for users.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Group ids (or names), emitted as written.
    #[serde(default)]
    pub groups: Vec<String>,
    /// A B2B guest: `acct = 1` and `idp` names the home tenant.
    #[serde(default)]
    pub guest: bool,
    /// A guest's home tenant (id, or name of a configured tenant).
    #[serde(default)]
    pub home_tenant: Option<String>,
}

/// Why a config could not be loaded; always names the key, and the file when there is one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("{}: cannot read the emulator config: {source}", file.display())]
    Read {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}invalid TOML: {message}", file_prefix(file))]
    Toml { file: Option<PathBuf>, message: String },
    #[error("{}{key}: {message}", file_prefix(file))]
    Invalid {
        file: Option<PathBuf>,
        key: String,
        message: String,
    },
}

fn file_prefix(file: &Option<PathBuf>) -> String {
    file.as_ref().map(|f| format!("{}: ", f.display())).unwrap_or_default()
}

impl ConfigError {
    pub(crate) fn invalid(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            file: None,
            key: key.into(),
            message: message.into(),
        }
    }

    /// The offending key, when the error is about one.
    pub fn key(&self) -> Option<&str> {
        match self {
            Self::Invalid { key, .. } => Some(key),
            _ => None,
        }
    }

    fn in_file(self, path: &Path) -> Self {
        match self {
            Self::Toml { message, .. } => Self::Toml {
                file: Some(path.to_owned()),
                message,
            },
            Self::Invalid { key, message, .. } => Self::Invalid {
                file: Some(path.to_owned()),
                key,
                message,
            },
            other => other,
        }
    }
}

impl EmulatorConfig {
    /// The built-in demo directory (see [`crate::demo`]).
    pub fn demo() -> Self {
        crate::demo::config()
    }

    /// Parses and validates TOML; errors name the offending key.
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        // toml's message already points at the key and line (and names unknown fields).
        let config: Self = toml::from_str(text).map_err(|e| ConfigError::Toml {
            file: None,
            message: e.to_string(),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Reads, parses and validates a TOML file; errors name the key and the file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            file: path.to_owned(),
            source,
        })?;
        Self::from_toml_str(&text).map_err(|e| e.in_file(path))
    }

    /// The config as TOML (to write the demo set out as a starting point).
    pub fn to_toml_string(&self) -> Result<String, ConfigError> {
        toml::to_string_pretty(self).map_err(|e| ConfigError::Toml {
            file: None,
            message: e.to_string(),
        })
    }
}

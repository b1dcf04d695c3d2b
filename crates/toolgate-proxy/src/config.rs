//! The proxy's settings, as the embedding application (or toolgate's config loader) provides them.

use std::time::Duration;

use toolgate_entra::providers::AccessRequirements;

use crate::cimd::CimdFetcherConfig;
use crate::crypto::ProxySecret;
use crate::registration::RegistrationPolicy;

/// Everything the `entra-proxy` provider needs besides its Entra validator and state store.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    /// The proxy's issuer: the server's public origin (`https://tools.example.com`), no trailing
    /// slash. Clients compare it with the URL they fetched metadata from, so it must be exact.
    pub issuer: String,
    /// The canonical MCP resource URL: the `aud` of every token the proxy issues.
    pub resource: String,
    pub resource_name: Option<String>,
    pub upstream: UpstreamConfig,
    /// Short scope names offered to clients (`access_as_user`), mapped to `{scope_prefix}/{name}`
    /// only toward Entra.
    pub scopes: Vec<String>,
    /// Checked on the Entra token at sign-in (guests, app-only, required scopes).
    pub requirements: AccessRequirements,
    pub secret: ProxySecret,
    pub lifetimes: Lifetimes,
    /// Remember a user's approval of a (client, redirect URI) pair and skip the consent page
    /// next time. Off by default: every authorization shows the page.
    pub remember_consent: bool,
    /// Refuse authorization requests without `state`. `false` is the default: PKCE S256, which
    /// every request must use, protects the client's redirect (OAuth 2.1 §7.5.1); a request
    /// without `state` gets a final redirect without `state`.
    pub require_state: bool,
    /// Sign-ins started per minute (all callers together): each stores a transaction for an
    /// unauthenticated request, so a flood must not fill the store.
    pub sign_ins_per_minute: u64,
    pub registration: RegistrationSettings,
    /// Operator-configured clients (Swagger UI, Copilot Studio, …).
    pub clients: Vec<PreregisteredClient>,
    /// Client ID Metadata Documents; `None` turns CIMD off.
    pub cimd: Option<CimdFetcherConfig>,
}

/// How long each kind of state lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    pub access_token: Duration,
    /// A refresh-token family's whole life (rotation does not extend it).
    pub refresh_token: Duration,
    pub authorization_code: Duration,
    /// From `/authorize` to the end of the consent page.
    pub transaction: Duration,
    /// The one-time code shown by `/auth/login`.
    pub login_code: Duration,
    pub remembered_consent: Duration,
    /// A dynamically registered client is forgotten this long after registering.
    pub registration: Duration,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            access_token: Duration::from_secs(15 * 60),
            refresh_token: Duration::from_secs(14 * 24 * 3600),
            authorization_code: Duration::from_secs(5 * 60),
            transaction: Duration::from_secs(10 * 60),
            login_code: Duration::from_secs(2 * 60),
            remembered_consent: Duration::from_secs(30 * 24 * 3600),
            registration: Duration::from_secs(90 * 24 * 3600),
        }
    }
}

/// The proxy's own confidential client at Entra.
#[derive(Clone)]
pub struct UpstreamConfig {
    /// `https://login.microsoftonline.com`, a sovereign cloud, or the emulator.
    pub authority_host: String,
    /// Tenant id (or `organizations` for multi-tenant sign-in).
    pub tenant: String,
    pub client_id: String,
    pub client_secret: String,
    /// `api://{app-id}` (the API's identifier URI): short scopes become `{prefix}/{scope}`.
    pub scope_prefix: String,
}

impl std::fmt::Debug for UpstreamConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamConfig")
            .field("authority_host", &self.authority_host)
            .field("tenant", &self.tenant)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("scope_prefix", &self.scope_prefix)
            .finish()
    }
}

/// How clients may register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationSettings {
    pub mode: RegistrationMode,
    pub policy: RegistrationPolicy,
    /// Registrations accepted per minute (all callers together), so a flood cannot fill the store.
    pub per_minute: u64,
    /// The pre-registered client `GET /register` describes (Copilot Studio), and that `POST
    /// /register` hands out in [`RegistrationMode::Static`].
    pub static_client: Option<String>,
}

impl Default for RegistrationSettings {
    fn default() -> Self {
        Self {
            mode: RegistrationMode::Dynamic,
            policy: RegistrationPolicy::default(),
            per_minute: 60,
            static_client: None,
        }
    }
}

/// What `POST /register` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationMode {
    /// RFC 7591: every registration creates a new public client.
    Dynamic,
    /// Every registration gets the one configured static client (fastapi-mcp-azure-oauth's model,
    /// for clients that insist on registering but must share one client id).
    Static,
    /// No registration endpoint: pre-registered clients and CIMD only.
    Disabled,
}

/// A client configured by the operator.
#[derive(Clone)]
pub struct PreregisteredClient {
    pub client_id: String,
    pub client_name: String,
    pub redirect_uris: Vec<String>,
    /// A secret makes it a confidential client (`client_secret_basic` or `_post`).
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for PreregisteredClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreregisteredClient")
            .field("client_id", &self.client_id)
            .field("client_name", &self.client_name)
            .field("redirect_uris", &self.redirect_uris)
            .field("confidential", &self.client_secret.is_some())
            .finish()
    }
}

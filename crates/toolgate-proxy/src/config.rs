//! The proxy's settings, as the embedding application (or toolgate's config loader) provides them.

use std::time::Duration;

use toolgate_entra::providers::AccessRequirements;

use crate::cimd::CimdFetcherConfig;
use crate::client_address::IpNetwork;
use crate::crypto::ProxySecret;
use crate::registration::RegistrationPolicy;

/// Claims the proxy's own access token defines, which therefore cannot carry Entra's value of
/// the same name: registered JWT claims, RFC 9068 / RFC 8693 claims, and the proxy's own
/// markers. (`tid`, `oid`, `name`, `preferred_username`, `roles` and `groups` are carried with
/// Entra's values and may be mapped.)
pub const PROXY_TOKEN_CLAIMS: &[&str] = &[
    "iss",
    "aud",
    "sub",
    "iat",
    "nbf",
    "exp",
    "jti",
    "client_id",
    "azp",
    "scope",
    "scp",
    "sid",
    "idtyp",
    "guest",
    "groups_overage",
];

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
    /// Sign-ins started per minute (`/authorize`, `/auth/login`): each stores a transaction for an
    /// unauthenticated request, so a flood must not fill the store.
    pub sign_ins: SignInLimits,
    /// Proxies whose `X-Forwarded-For` is believed for the per-address limits (see
    /// [`crate::client_address`]). Empty: the TCP peer is the client.
    pub trusted_proxies: Vec<IpNetwork>,
    /// Entra token claims carried into the proxy's own tokens under the same names, so a policy
    /// that maps them (`[policy] extra_claims`) sees them under `entra-proxy` as under `entra-jwt`.
    /// Claims the proxy's token defines itself ([`PROXY_TOKEN_CLAIMS`]) cannot be carried.
    pub carried_claims: Vec<String>,
    pub registration: RegistrationSettings,
    /// Operator-configured clients (Swagger UI, Copilot Studio, …).
    pub clients: Vec<PreregisteredClient>,
    /// Client ID Metadata Documents; `None` turns CIMD off.
    pub cimd: Option<CimdFetcherConfig>,
}

impl ProxyConfig {
    /// A configuration with the defaults for everything but the essentials: no pre-registered
    /// clients, CIMD with production settings, dynamic registration, the default limits and
    /// lifetimes, consent every time, `state` optional.
    pub fn new(
        issuer: impl Into<String>,
        resource: impl Into<String>,
        upstream: UpstreamConfig,
        scopes: Vec<String>,
        secret: ProxySecret,
    ) -> Self {
        Self {
            issuer: issuer.into(),
            resource: resource.into(),
            resource_name: None,
            upstream,
            scopes,
            requirements: AccessRequirements::default(),
            secret,
            lifetimes: Lifetimes::default(),
            remember_consent: false,
            require_state: false,
            sign_ins: SignInLimits::default(),
            trusted_proxies: Vec::new(),
            carried_claims: Vec::new(),
            registration: RegistrationSettings::default(),
            clients: Vec::new(),
            cimd: Some(CimdFetcherConfig::default()),
        }
    }
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
    /// A dynamically registered client is forgotten this long after it first obtained tokens.
    pub registration: Duration,
    /// A dynamically registered client that never obtains tokens is forgotten this long after
    /// registering.
    pub unused_registration: Duration,
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
            unused_registration: Duration::from_secs(3600),
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

/// Events per minute from one client address, and from everyone together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_address: u64,
    pub global: u64,
}

/// Sign-ins per minute: per client address (every sign-in), and two global ceilings, so a flood
/// through fresh anonymous registrations cannot use up what known clients need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInLimits {
    pub per_address: u64,
    /// Clients nobody has used yet: dynamically registered, no tokens obtained so far.
    pub new_clients: u64,
    /// Pre-registered and metadata-document clients, registrations that have obtained tokens,
    /// and the browser login.
    pub known_clients: u64,
}

impl Default for SignInLimits {
    fn default() -> Self {
        Self {
            per_address: 60,
            new_clients: 1200,
            known_clients: 3000,
        }
    }
}

/// How clients may register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationSettings {
    pub mode: RegistrationMode,
    pub policy: RegistrationPolicy,
    /// Registrations accepted per minute, per client address and in total.
    pub limit: RateLimit,
    /// Most dynamically registered clients kept that have not obtained tokens yet; past it,
    /// registration answers 503 until some expire ([`Lifetimes::unused_registration`]).
    pub max_unused: u64,
    /// The pre-registered client `GET /register` describes (Copilot Studio), and that `POST
    /// /register` hands out in [`RegistrationMode::Static`].
    pub static_client: Option<String>,
}

impl Default for RegistrationSettings {
    fn default() -> Self {
        Self {
            mode: RegistrationMode::Dynamic,
            policy: RegistrationPolicy::default(),
            limit: RateLimit {
                per_address: 10,
                global: 300,
            },
            max_unused: 10_000,
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

//! The configuration file as users write it. Defaults are the safe choice.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;
use toolgate_audit::{ArgumentCapture, AuditConfig};
use toolgate_gateway::{GatewaySection, UpstreamSection};
use toolgate_mcp::DenialStyle;
use toolgate_policy::ExtraClaim;
use toolgate_server::ConnectionLimits;
use toolgate_server::edge::json_rpc::JsonRpcLimits;
use toolgate_server::mcp::{McpTransportConfig, SessionLimits};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub server: ServerConfig,
    pub auth: AuthConfig,
    #[serde(default)]
    pub mcp: McpConfig,
    #[serde(default)]
    pub policy: PolicySection,
    /// The audit trail. Default: a SQLite file `toolgate-audit.db` next to the process.
    #[serde(default)]
    pub audit: Option<AuditConfig>,
    #[serde(default)]
    pub api: ApiSection,
    /// Shared short-lived state: the `entra-proxy` provider's, and MCP sessions shared by
    /// replicas (with Redis).
    #[serde(default)]
    pub state: StateSection,
    /// Gateway mode: how upstreams' names are namespaced, a catalog snapshot to start from.
    #[serde(default)]
    pub gateway: GatewaySection,
    /// The MCP servers toolgate fronts (`[[upstream]]`).
    #[serde(default)]
    pub upstream: Vec<UpstreamSection>,
    /// Rate limits per principal, tool and upstream (`docs/rate-limits.md`).
    #[serde(default)]
    pub rate_limits: super::rate_limits::RateLimitsSection,
    /// Metrics and traces (`docs/telemetry.md`); both off by default.
    #[serde(default)]
    pub telemetry: toolgate_telemetry::TelemetryConfig,
}

/// `[state]`: where the proxy keeps transactions, codes, grants and registered clients, and (with
/// Redis) where replicas find each other's MCP sessions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateSection {
    #[serde(default)]
    pub backend: StateBackend,
    /// `redis://host:6379/0` or `rediss://…` (backend = "redis").
    #[serde(default)]
    pub url: Option<SecretString>,
    /// Prefix of every Redis key; processes sharing state must use the same one.
    #[serde(default = "default_key_prefix")]
    pub key_prefix: String,
}

impl Default for StateSection {
    fn default() -> Self {
        Self {
            backend: StateBackend::default(),
            url: None,
            key_prefix: default_key_prefix(),
        }
    }
}

fn default_key_prefix() -> String {
    "toolgate".into()
}

/// The state store backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum StateBackend {
    /// In this process only: fine for one instance; restarts forget pending sign-ins and grants.
    #[default]
    Memory,
    /// Redis, shared by every instance.
    Redis,
}

/// `[api]`: the REST API under `/api/v1` and Swagger UI at `/docs`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSection {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The public (SPA) client Swagger UI signs in with. Default: the API's own client id (register
    /// `{public_url}/docs/oauth-receiver.html` as an SPA redirect URI on it).
    #[serde(default)]
    pub swagger_client_id: Option<String>,
    /// The app role allowed to explain decisions and read the audit trail.
    #[serde(default = "default_admin_role")]
    pub admin_role: String,
}

impl Default for ApiSection {
    fn default() -> Self {
        Self {
            enabled: true,
            swagger_client_id: None,
            admin_role: default_admin_role(),
        }
    }
}

fn default_admin_role() -> String {
    "MCPServer.Admin".into()
}

/// `[mcp]`: the MCP endpoint and the gate in front of it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McpConfig {
    /// Stateful sessions (`Mcp-Session-Id`) for pre-2026-07-28 clients; `false` = stateless.
    #[serde(default = "yes")]
    pub stateful: bool,
    /// In stateless mode, answer with `application/json` rather than SSE when possible.
    #[serde(default)]
    pub json_response: bool,
    /// Accepted `Host` values (DNS-rebinding protection). Default: loopback names only.
    #[serde(default = "loopback_hosts")]
    pub allowed_hosts: Vec<String>,
    /// Accepted browser origins; empty refuses any request carrying `Origin`.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// `as-unknown-tool` (default: a denied tool looks like a missing one) or `explicit`.
    #[serde(default)]
    pub denial: DenialStyle,
    /// What of the arguments the audit trail keeps besides their digest.
    #[serde(default)]
    pub capture_arguments: ArgumentCapture,
    /// Largest MCP request body, in bytes (413 above).
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: usize,
    /// Most JSON values (object members and array elements count one each) in one message.
    #[serde(default = "default_max_json_values")]
    pub max_json_values: usize,
    /// Deepest nesting of objects and arrays in one message.
    #[serde(default = "default_max_json_depth")]
    pub max_json_depth: usize,
    /// POST requests one principal may have in flight at once (429 above).
    #[serde(default = "default_max_concurrent")]
    pub max_concurrent_requests_per_principal: usize,
    /// Open sessions per principal; one more closes its least recently used session.
    #[serde(default = "default_max_sessions")]
    pub max_sessions_per_principal: usize,
    /// A session unused this long is closed.
    #[serde(default = "default_session_idle_seconds")]
    pub session_idle_seconds: u64,
    /// MCP methods forwarded without a policy decision (every other method is decided by
    /// policy or refused with -32601).
    #[serde(default = "default_pass_through")]
    pub pass_through: Vec<String>,
}

impl Default for McpConfig {
    fn default() -> Self {
        Self {
            stateful: true,
            json_response: false,
            allowed_hosts: loopback_hosts(),
            allowed_origins: Vec::new(),
            denial: DenialStyle::default(),
            capture_arguments: ArgumentCapture::default(),
            max_body_bytes: default_max_body_bytes(),
            max_json_values: default_max_json_values(),
            max_json_depth: default_max_json_depth(),
            max_concurrent_requests_per_principal: default_max_concurrent(),
            max_sessions_per_principal: default_max_sessions(),
            session_idle_seconds: default_session_idle_seconds(),
            pass_through: default_pass_through(),
        }
    }
}

fn default_pass_through() -> Vec<String> {
    toolgate_mcp::DEFAULT_PASS_THROUGH
        .iter()
        .map(|m| (*m).to_owned())
        .collect()
}

fn default_max_body_bytes() -> usize {
    toolgate_server::mcp::DEFAULT_MAX_BODY_BYTES
}

fn default_max_json_values() -> usize {
    JsonRpcLimits::default().max_values
}

fn default_max_json_depth() -> usize {
    JsonRpcLimits::default().max_depth
}

fn default_max_concurrent() -> usize {
    McpTransportConfig::default().max_concurrent_requests_per_principal
}

fn default_max_sessions() -> usize {
    SessionLimits::default().max_per_principal
}

fn default_session_idle_seconds() -> u64 {
    SessionLimits::default().idle_timeout.as_secs()
}

fn yes() -> bool {
    true
}

fn loopback_hosts() -> Vec<String> {
    vec!["localhost".into(), "127.0.0.1".into(), "::1".into()]
}

/// `[policy]`: Cedar policies.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySection {
    /// Directory of `*.cedar` files.
    #[serde(default = "default_policy_dir")]
    pub dir: PathBuf,
    /// Log-only: decide and audit, but allow everything.
    #[serde(default)]
    pub shadow: bool,
    /// Token claims exposed to policies as principal attributes.
    #[serde(default)]
    pub extra_claims: Vec<ExtraClaim>,
    /// Tags per tool name (merged with tags tools declare themselves).
    #[serde(default)]
    pub tool_tags: HashMap<String, Vec<String>>,
    /// Reload the policies when a file in `dir` changes (they are also reloaded on `SIGHUP` and
    /// by `POST /api/v1/policy/reload`).
    #[serde(default = "yes")]
    pub watch: bool,
}

impl Default for PolicySection {
    fn default() -> Self {
        Self {
            dir: default_policy_dir(),
            shadow: false,
            extra_claims: Vec::new(),
            tool_tags: HashMap::new(),
            watch: true,
        }
    }
}

fn default_policy_dir() -> PathBuf {
    PathBuf::from("policies")
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    #[serde(default = "default_bind")]
    pub bind: SocketAddr,
    /// The URL clients use (behind a proxy, the public one). Default: `http://{bind}`.
    #[serde(default)]
    pub public_url: Option<String>,
    #[serde(default = "default_mcp_path")]
    pub mcp_path: String,
    /// Where the other replicas reach this one (`http://10.0.3.7:8080`), for MCP sessions shared
    /// through `[state] backend = "redis"`. Default: `http://{bind}`.
    #[serde(default)]
    pub advertise_url: Option<String>,
    /// Open connections; more wait in the accept backlog.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// A request's headers must arrive within this many seconds of its first byte.
    #[serde(default = "default_header_read_timeout")]
    pub header_read_timeout_seconds: u64,
    /// A connection without traffic for this many seconds is closed.
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout_seconds: u64,
    /// On SIGTERM/SIGINT, in-flight requests get this many seconds to finish.
    #[serde(default = "default_shutdown_grace")]
    pub shutdown_grace_seconds: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: default_bind(),
            public_url: None,
            mcp_path: default_mcp_path(),
            advertise_url: None,
            max_connections: default_max_connections(),
            header_read_timeout_seconds: default_header_read_timeout(),
            idle_timeout_seconds: default_idle_timeout(),
            shutdown_grace_seconds: default_shutdown_grace(),
        }
    }
}

fn default_max_connections() -> usize {
    ConnectionLimits::default().max_connections
}

fn default_header_read_timeout() -> u64 {
    ConnectionLimits::default().header_read_timeout.as_secs()
}

fn default_idle_timeout() -> u64 {
    ConnectionLimits::default().idle_timeout.as_secs()
}

fn default_shutdown_grace() -> u64 {
    ConnectionLimits::default().shutdown_grace.as_secs()
}

fn default_bind() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

fn default_mcp_path() -> String {
    "/mcp".into()
}

/// Which provider authenticates requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProviderKind {
    /// A resource server validating Entra access tokens.
    EntraJwt,
    /// fastapi-azure-auth-style bearer: single/multi-tenant/B2C, optional API keys.
    AzureBearer,
    /// An OAuth 2.1 authorization server in front of Entra, issuing its own tokens.
    EntraProxy,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    pub provider: ProviderKind,
    #[serde(default)]
    pub entra: Option<EntraConfig>,
    #[serde(default)]
    pub azure_bearer: Option<toolgate_entra::providers::AzureBearerConfig>,
    /// `entra-proxy` settings; the upstream Entra app is `[auth.entra]`.
    #[serde(default)]
    pub proxy: Option<ProxySection>,
}

/// `[auth.proxy]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxySection {
    /// At least 32 bytes; shared by every instance (signs cookies, seals Entra tokens and the
    /// signing key). Prefer the environment: `TOOLGATE_AUTH__PROXY__SECRET`.
    pub secret: SecretString,
    #[serde(default = "default_access_token_seconds")]
    pub access_token_seconds: u64,
    #[serde(default = "default_refresh_token_days")]
    pub refresh_token_days: u64,
    /// Skip the consent page for a (user, client, redirect URI) approved before.
    #[serde(default)]
    pub remember_consent: bool,
    /// Refuse authorization requests without `state`. Off by default: with PKCE S256 (always
    /// required) `state` is not needed against CSRF (OAuth 2.1 §7.5.1), and Cursor, the MCP
    /// Inspector and the SDK CLIs send none.
    #[serde(default)]
    pub require_state: bool,
    /// `dynamic` (RFC 7591), `static` (hand out `static_client`), or `disabled`.
    #[serde(default = "default_registration")]
    pub registration: String,
    /// A pre-registered client described by `GET /register` (Copilot Studio).
    #[serde(default)]
    pub static_client: Option<String>,
    /// Registrations accepted per minute from everyone together (a ceiling).
    #[serde(default = "default_registrations_per_minute")]
    pub registrations_per_minute: u64,
    /// Registrations accepted per minute from one client address (IPv6: one /64).
    #[serde(default = "default_registrations_per_minute_per_address")]
    pub registrations_per_minute_per_address: u64,
    /// Registrations that have not obtained tokens kept at most; past it, registration answers 503.
    #[serde(default = "default_max_unused_registrations")]
    pub max_unused_registrations: u64,
    /// A registration that never obtains tokens is forgotten after this many minutes (1 – 1440).
    #[serde(default = "default_unused_registration_minutes")]
    pub unused_registration_minutes: u64,
    /// A registration that has obtained tokens is kept this many days from its first use (1 – 365).
    #[serde(default = "default_registration_days")]
    pub registration_days: u64,
    /// Sign-ins started per minute for clients nobody has used yet (fresh registrations), all
    /// callers together (a ceiling).
    #[serde(default = "default_sign_ins_per_minute")]
    pub sign_ins_per_minute: u64,
    /// Sign-ins started per minute for known clients (pre-registered, metadata documents,
    /// registrations that have obtained tokens, the browser login), all callers together.
    #[serde(default = "default_known_client_sign_ins_per_minute")]
    pub known_client_sign_ins_per_minute: u64,
    /// Sign-ins started per minute from one client address, whatever the client.
    #[serde(default = "default_sign_ins_per_minute_per_address")]
    pub sign_ins_per_minute_per_address: u64,
    /// Reverse proxies (addresses or networks, `10.0.0.0/8`) whose `X-Forwarded-For` names the
    /// client address for the per-address limits. Empty: the TCP peer is the client.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    #[serde(default)]
    pub allow_confidential_clients: bool,
    /// Accept Client ID Metadata Document URLs as client ids.
    #[serde(default = "yes")]
    pub cimd: bool,
    /// Let CIMD documents live on private addresses (trusted internal deployments only).
    #[serde(default)]
    pub danger_cimd_allow_private_addresses: bool,
    /// Accept `http://` CIMD URLs. Tests only.
    #[serde(default)]
    pub danger_cimd_allow_http: bool,
    #[serde(default)]
    pub clients: Vec<ProxyClientSection>,
}

/// `[[auth.proxy.clients]]`: a pre-registered client.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyClientSection {
    pub client_id: String,
    pub client_name: String,
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub client_secret: Option<SecretString>,
}

fn default_access_token_seconds() -> u64 {
    900
}

fn default_refresh_token_days() -> u64 {
    14
}

fn default_registration() -> String {
    "dynamic".into()
}

fn default_sign_ins_per_minute() -> u64 {
    1200
}

fn default_registrations_per_minute() -> u64 {
    300
}

fn default_registrations_per_minute_per_address() -> u64 {
    10
}

fn default_max_unused_registrations() -> u64 {
    10_000
}

fn default_unused_registration_minutes() -> u64 {
    60
}

fn default_registration_days() -> u64 {
    90
}

fn default_known_client_sign_ins_per_minute() -> u64 {
    3000
}

fn default_sign_ins_per_minute_per_address() -> u64 {
    60
}

/// Tenancy of the protected API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Tenancy {
    /// Only `tenant_id`.
    #[default]
    Single,
    /// Several tenants, listed in `allowed_tenants`.
    Multi,
    /// Any Entra tenant: must be written explicitly.
    AnyTenant,
}

/// A secret from configuration; `Debug` never shows it.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct SecretString(String);

impl SecretString {
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntraConfig {
    #[serde(default = "default_authority_host")]
    pub authority_host: String,
    pub tenant_id: String,
    pub client_id: String,
    #[serde(default)]
    pub client_secret: Option<SecretString>,
    /// App ID URIs (v1 token audiences). Default: `api://{client_id}`.
    #[serde(default)]
    pub identifier_uris: Vec<String>,
    #[serde(default)]
    pub tenancy: Tenancy,
    #[serde(default)]
    pub allowed_tenants: Vec<String>,
    #[serde(default = "default_versions")]
    pub accepted_versions: Vec<String>,
    #[serde(default)]
    pub extra_audiences: Vec<String>,
    #[serde(default)]
    pub accept_audience_list: bool,
    #[serde(default = "default_leeway")]
    pub leeway_seconds: u64,
    #[serde(default)]
    pub allow_guests: bool,
    #[serde(default)]
    pub custom_signing_keys: bool,
    #[serde(default = "default_key_refresh")]
    pub key_refresh_seconds: u64,
    /// Scopes the API exposes (short names), advertised in metadata and challenges.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// Delegated tokens must carry all of these.
    #[serde(default = "default_scopes")]
    pub required_scopes: Vec<String>,
    /// App-only tokens must carry one of these app roles; empty refuses app-only tokens.
    #[serde(default)]
    pub app_roles: Vec<String>,
}

fn default_authority_host() -> String {
    "https://login.microsoftonline.com".into()
}

fn default_versions() -> Vec<String> {
    vec!["1.0".into(), "2.0".into()]
}

fn default_leeway() -> u64 {
    60
}

fn default_key_refresh() -> u64 {
    3600
}

fn default_scopes() -> Vec<String> {
    vec!["access_as_user".into()]
}

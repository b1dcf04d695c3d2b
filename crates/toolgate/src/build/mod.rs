//! Configuration → a gateway ready to serve. One pipeline for the binary and embedders:
//!
//! ```text
//! config (file / TOML / env) → validated settings → upstreams discovered → policy built → serve
//! ```
//!
//! Every configuration problem — keys, providers, limits, upstreams, policies that do not
//! validate against the discovered catalog — is found here, before anything listens, and is a
//! [`ConfigError`] naming the key and the file (the binary exits with code 2).

mod limits;
mod providers;
mod proxy;
mod rate_limits;
mod state;
mod upstreams;

use std::net::SocketAddr;
use std::sync::Arc;

use rmcp::ServerHandler;
use toolgate_api::OAuthSettings;
use toolgate_audit::AuditConfig;
use toolgate_core::{AuthProvider, ToolDescriptor};
use toolgate_demo::{TaskStore, TaskTools};
use toolgate_entra::EntraValidator;
use toolgate_gateway::{GatewayCore, LocalFactory, UpstreamName};
use toolgate_mcp::{ToolTags, descriptor_of};
use toolgate_policy::LivePolicy;
use toolgate_server::mcp::{McpTransportConfig, SessionLimits, SharedSessions};
use toolgate_server::{AppSettings, ConnectionLimits};

pub(crate) use self::providers::ProviderParts;
pub use self::providers::entra_settings;
pub use self::upstreams::current_catalog;
use crate::config::raw::{ApiSection, McpConfig, ProviderKind};
use crate::config::{ConfigError, LoadedConfig};

/// The default audit trail: a SQLite file in the working directory, with its spool beside it.
pub const DEFAULT_AUDIT_DB: &str = "sqlite://toolgate-audit.db?mode=rwc";
pub const DEFAULT_AUDIT_SPOOL: &str = "toolgate-audit.spool";

/// The in-process upstream an embedder's handler becomes (`Builder::handler`).
pub const EMBEDDED_UPSTREAM: &str = "local";
/// The in-process upstream the demo tools become (`toolgate dev`).
pub const DEMO_UPSTREAM: &str = "tasks";

/// Everything `serve` needs, validated; the upstreams' catalog discovered and the policies
/// validated against it.
pub struct Gateway {
    pub bind: SocketAddr,
    pub app: AppSettings,
    /// Connection cap, header and idle timeouts, shutdown grace.
    pub connections: ConnectionLimits,
    /// The MCP endpoint's transport, `Host`/`Origin` rules and bounds.
    pub transport: McpTransportConfig,
    pub sessions: SessionLimits,
    /// MCP sessions shared by the replicas (`[state] backend = "redis"`), or `None`: this
    /// process only.
    pub replicas: Option<SharedSessions>,
    /// Where reloaded policies come from, and who hears of a reload.
    pub reload: ReloadSettings,
    pub provider: Arc<dyn AuthProvider>,
    /// Validators whose keys should be loaded at start.
    pub validators: Vec<EntraValidator>,
    pub mcp: McpConfig,
    /// The policy in force; it follows the catalog.
    pub policy: Arc<LivePolicy>,
    /// The upstreams (configured and in-process), their catalog and health.
    pub upstreams: Arc<GatewayCore>,
    pub audit: AuditConfig,
    pub api: ApiSection,
    /// Where Swagger UI signs people in.
    pub oauth: OAuthSettings,
    /// The `entra-proxy` provider, when configured: tools get users' Entra tokens from it
    /// (`upstream_access_token`, for On-Behalf-Of calls).
    pub entra_proxy: Option<toolgate_proxy::EntraProxy>,
    /// The demo tools' store, when they are served (`toolgate dev`, tests).
    pub tasks: Option<TaskStore>,
    /// `[rate_limits]`, counted in the `[state]` store; `None` when nothing is limited.
    pub rate_limits: Option<Arc<toolgate_server::rate_limit::RateLimits>>,
    /// Metrics listener and traces (`[telemetry]`).
    pub telemetry: toolgate_telemetry::TelemetryConfig,
}

/// Policy reloads: the directory to re-read (`None` for embedded policies, which do not change),
/// whether to watch it, and the store replicas announce reloads through (Redis only).
#[derive(Clone)]
pub struct ReloadSettings {
    pub dir: Option<std::path::PathBuf>,
    pub watch: bool,
    pub shared: Option<Arc<dyn toolgate_store::StateStore>>,
}

/// Where policies come from: the configured directory, or (dev mode) the embedded examples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyOrigin {
    Directory,
    Embedded,
}

/// The demo tool set as policies see it (`toolgate policy` without `--config`/`--catalog`).
pub fn catalog(tool_tags: &ToolTags) -> Vec<ToolDescriptor> {
    TaskTools::catalog()
        .iter()
        .map(|tool| descriptor_of(tool, tool_tags))
        .collect()
}

/// An in-process upstream added by code.
pub(crate) struct LocalUpstream {
    pub name: UpstreamName,
    pub prefix: bool,
    pub factory: Arc<dyn LocalFactory>,
    /// Tags for its tools (by the names clients see).
    pub tags: ToolTags,
}

/// Builds a [`Gateway`]: configuration, in-process handlers, then [`Builder::build`].
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// # #[derive(Clone)] struct MyServer;
/// # impl rmcp::ServerHandler for MyServer {}
/// toolgate::Gateway::builder()
///     .config_file("toolgate.toml")?
///     .handler(|| MyServer)
///     .build()
///     .await?
///     .serve()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Default)]
pub struct Builder {
    config: Option<LoadedConfig>,
    origin: Option<PolicyOrigin>,
    locals: Vec<LocalUpstream>,
    tasks: Option<TaskStore>,
}

impl Builder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Configuration from a TOML file (plus `AZURE_*` and `TOOLGATE_*` variables).
    pub fn config_file(mut self, path: impl AsRef<std::path::Path>) -> Result<Self, ConfigError> {
        self.config = Some(crate::config::load(path.as_ref())?);
        Ok(self)
    }

    /// Configuration from TOML text (plus the same variables).
    pub fn config_toml(mut self, toml: &str) -> Result<Self, ConfigError> {
        self.config = Some(crate::config::load_str(toml)?);
        Ok(self)
    }

    /// Configuration already loaded.
    pub fn config(mut self, loaded: LoadedConfig) -> Self {
        self.config = Some(loaded);
        self
    }

    /// Your rmcp server, served in-process beside the configured upstreams: one instance per
    /// MCP session, its tools under their own names (upstream `local`, no prefix).
    pub fn handler<H, F>(self, make: F) -> Self
    where
        H: ServerHandler,
        F: Fn() -> H + Send + Sync + 'static,
    {
        self.push_local(EMBEDDED_UPSTREAM, false, Arc::new(make), ToolTags::new())
    }

    /// An in-process server as a named upstream (its names prefixed when `prefix`).
    pub fn named_handler<H, F>(self, name: &str, prefix: bool, make: F) -> Result<Self, ConfigError>
    where
        H: ServerHandler,
        F: Fn() -> H + Send + Sync + 'static,
    {
        UpstreamName::parse(name).map_err(|e| ConfigError::new(e.to_string()))?;
        Ok(self.push_local(name, prefix, Arc::new(make), ToolTags::new()))
    }

    /// The demo task tracker as the in-process upstream `tasks` (names unprefixed).
    pub fn demo_tools(mut self) -> Self {
        let store = TaskStore::seeded();
        let made = store.clone();
        self.tasks = Some(store);
        self.push_local(
            DEMO_UPSTREAM,
            false,
            Arc::new(move || TaskTools::new(made.clone())),
            toolgate_demo::tool_tags().into_iter().collect(),
        )
    }

    /// Policies from the embedded examples instead of `[policy] dir`.
    pub fn embedded_policies(mut self) -> Self {
        self.origin = Some(PolicyOrigin::Embedded);
        self
    }

    pub fn policies(mut self, origin: PolicyOrigin) -> Self {
        self.origin = Some(origin);
        self
    }

    fn push_local(mut self, name: &str, prefix: bool, factory: Arc<dyn LocalFactory>, tags: ToolTags) -> Self {
        if let Ok(name) = UpstreamName::parse(name) {
            self.locals.push(LocalUpstream {
                name,
                prefix,
                factory,
                tags,
            });
        }
        self
    }

    /// Validates everything, connects to the upstreams to learn their catalog, and validates
    /// the policies against it.
    pub async fn build(self) -> Result<Gateway, ConfigError> {
        let config = self
            .config
            .ok_or_else(|| ConfigError::new("no configuration: call config_file, config_toml or config"))?;
        assemble(
            &config,
            self.origin.unwrap_or(PolicyOrigin::Directory),
            self.locals,
            self.tasks,
        )
        .await
    }
}

/// The gateway `serve` runs: the configured upstreams only.
pub async fn gateway(config: &LoadedConfig) -> Result<Gateway, ConfigError> {
    assemble(config, PolicyOrigin::Directory, Vec::new(), None).await
}

/// The gateway with the demo tools as an in-process upstream (`toolgate dev`, tests), with
/// policies from `origin`.
pub async fn gateway_with(config: &LoadedConfig, origin: PolicyOrigin) -> Result<Gateway, ConfigError> {
    let builder = Builder::new().demo_tools();
    assemble(config, origin, builder.locals, builder.tasks).await
}

async fn assemble(
    config: &LoadedConfig,
    origin: PolicyOrigin,
    locals: Vec<LocalUpstream>,
    tasks: Option<TaskStore>,
) -> Result<Gateway, ConfigError> {
    let raw = &config.raw;
    let bind = raw.server.bind;
    let public_url = raw
        .server
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{bind}"));
    let public_url = public_url.trim_end_matches('/').to_owned();
    if url::Url::parse(&public_url).is_err() {
        return Err(config.error("server.public_url", "not an absolute URL"));
    }
    if !raw.server.mcp_path.starts_with('/') || raw.server.mcp_path.len() < 2 || raw.server.mcp_path.ends_with('/') {
        return Err(config.error(
            "server.mcp_path",
            "must start with `/` and not end with `/` (e.g. `/mcp`)",
        ));
    }
    let app = AppSettings {
        public_url,
        mcp_path: raw.server.mcp_path.clone(),
    };
    let (connections, transport, sessions) = limits::edge_limits(config, &app)?;
    let store = state::state_store(config).await?;
    let replicas = state::replicas(config, &store, sessions)?;
    let reload = ReloadSettings {
        dir: (origin == PolicyOrigin::Directory).then(|| config.resolve(&raw.policy.dir)),
        watch: raw.policy.watch,
        shared: replicas.is_some().then(|| store.clone()),
    };
    let mut entra_proxy = None;
    let (provider, validators, oauth) = match raw.auth.provider {
        ProviderKind::EntraJwt => providers::entra_jwt(config, &app)?,
        ProviderKind::AzureBearer => providers::azure_bearer(config, &app)?,
        ProviderKind::EntraProxy => {
            let (parts, built) = proxy::entra_proxy(config, &app, store.clone()).await?;
            entra_proxy = Some(built);
            parts
        }
    };
    let audit = raw
        .audit
        .clone()
        .unwrap_or_else(|| AuditConfig::new(DEFAULT_AUDIT_DB, DEFAULT_AUDIT_SPOOL));
    audit.validate().map_err(|e| config.error("audit", e))?;
    let upstream_names: Vec<String> = raw
        .upstream
        .iter()
        .map(|u| u.name.clone())
        .chain(locals.iter().map(|l| l.name.to_string()))
        .collect();
    raw.telemetry.validate().map_err(|e| config.error(e.key, e.reason))?;
    let (upstreams, policy) = upstreams::discover(config, origin, locals, entra_proxy.as_ref()).await?;
    let tool_names: Vec<String> = toolgate_core::CatalogSource::catalog(upstreams.as_ref())
        .tools
        .into_iter()
        .map(|t| t.name)
        .collect();
    let rate_limits = rate_limits::rate_limits(config, store, &upstream_names, &tool_names)?;
    Ok(Gateway {
        bind,
        app,
        connections,
        transport,
        sessions,
        replicas,
        reload,
        provider,
        validators,
        mcp: raw.mcp.clone(),
        policy,
        upstreams,
        audit,
        api: raw.api.clone(),
        oauth,
        entra_proxy,
        tasks,
        rate_limits,
        telemetry: raw.telemetry.clone(),
    })
}

//! Configuration → running parts: the provider and the server settings.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use toolgate_core::{AuthProvider, ProviderSet, SystemClock};
use toolgate_entra::providers::{AccessRequirements, AzureBearerConfigError, EntraJwtConfig, EntraJwtProvider};
use toolgate_entra::{AcceptedVersions, EntraSettings, EntraValidator, SettingsError, TenantPolicy};
use toolgate_mcp::{McpTransportConfig, SessionLimits};
use toolgate_server::edge::host_origin::HostOriginPolicy;
use toolgate_server::edge::json_rpc::JsonRpcLimits;
use toolgate_server::{AppSettings, ConnectionLimits};

use toolgate_audit::AuditConfig;
use toolgate_core::ToolDescriptor;
use toolgate_demo::TaskTools;
use toolgate_mcp::{ToolTags, descriptor_of};
use toolgate_policy::{ClaimMapping, PolicyConfig, PolicyEngine};

use toolgate_api::OAuthSettings;

use crate::config::raw::{ApiSection, EntraConfig, McpConfig, ProviderKind, Tenancy};
use crate::demo_policies;

mod proxy;

/// The default audit trail: a SQLite file in the working directory, with its spool beside it.
pub const DEFAULT_AUDIT_DB: &str = "sqlite://toolgate-audit.db?mode=rwc";
pub const DEFAULT_AUDIT_SPOOL: &str = "toolgate-audit.spool";
use crate::config::{ConfigError, LoadedConfig};

/// Everything `serve` needs.
pub struct Gateway {
    pub bind: SocketAddr,
    pub app: AppSettings,
    /// Connection cap, header and idle timeouts, shutdown grace.
    pub connections: ConnectionLimits,
    /// The MCP endpoint's transport, `Host`/`Origin` rules and bounds.
    pub transport: McpTransportConfig,
    pub sessions: SessionLimits,
    pub provider: Arc<dyn AuthProvider>,
    /// Validators whose keys should be loaded at start.
    pub validators: Vec<EntraValidator>,
    pub mcp: McpConfig,
    pub policy: Arc<PolicyEngine>,
    pub tool_tags: ToolTags,
    pub audit: AuditConfig,
    pub api: ApiSection,
    /// Where Swagger UI signs people in.
    pub oauth: OAuthSettings,
    /// The `entra-proxy` provider, when configured: tools get users' Entra tokens from it
    /// (`upstream_access_token`, for On-Behalf-Of calls).
    pub entra_proxy: Option<toolgate_proxy::EntraProxy>,
}

/// Where policies come from: the configured directory, or (dev mode) the embedded examples.
pub enum PolicyOrigin {
    Directory,
    Embedded,
}

/// The tool catalog the binary serves: the demo tool set, as policies see it.
pub fn catalog(tool_tags: &ToolTags) -> Vec<ToolDescriptor> {
    TaskTools::catalog()
        .iter()
        .map(|tool| descriptor_of(tool, tool_tags))
        .collect()
}

/// Loads and validates the policies against the catalog; errors carry `file:line:col`.
pub fn policy_engine(
    config: &LoadedConfig,
    origin: PolicyOrigin,
    catalog: &[ToolDescriptor],
) -> Result<PolicyEngine, ConfigError> {
    let section = &config.raw.policy;
    let claims = ClaimMapping {
        extra: section.extra_claims.clone(),
    };
    let result = match origin {
        PolicyOrigin::Directory => PolicyEngine::load(
            &PolicyConfig {
                policy_dir: config.resolve(&section.dir),
                shadow: section.shadow,
                claims,
            },
            catalog,
        ),
        PolicyOrigin::Embedded => {
            PolicyEngine::from_sources(&demo_policies::sources(), catalog, section.shadow, claims)
        }
    };
    result.map_err(|error| config.error("policy.dir", error))
}

/// Builds the gateway described by `config`.
pub async fn gateway(config: &LoadedConfig) -> Result<Gateway, ConfigError> {
    gateway_with(config, PolicyOrigin::Directory).await
}

/// Builds the gateway, taking policies from `origin`. Async because the `entra-proxy` provider
/// loads its shared signing key from the state store.
pub async fn gateway_with(config: &LoadedConfig, origin: PolicyOrigin) -> Result<Gateway, ConfigError> {
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
    let (connections, transport, sessions) = edge_limits(config, &app)?;
    let mut entra_proxy = None;
    let (provider, validators, oauth) = match raw.auth.provider {
        ProviderKind::EntraJwt => entra_jwt(config, &app)?,
        ProviderKind::AzureBearer => azure_bearer(config, &app)?,
        ProviderKind::EntraProxy => {
            let (parts, built) = proxy::entra_proxy(config, &app).await?;
            entra_proxy = Some(built);
            parts
        }
    };
    let tool_tags: ToolTags = toolgate_demo::tool_tags()
        .into_iter()
        .chain(raw.policy.tool_tags.clone())
        .collect();
    let policy = Arc::new(policy_engine(config, origin, &catalog(&tool_tags))?);
    let audit = raw
        .audit
        .clone()
        .unwrap_or_else(|| AuditConfig::new(DEFAULT_AUDIT_DB, DEFAULT_AUDIT_SPOOL));
    Ok(Gateway {
        bind,
        app,
        connections,
        transport,
        sessions,
        provider,
        validators,
        mcp: raw.mcp.clone(),
        policy,
        tool_tags,
        audit,
        api: raw.api.clone(),
        oauth,
        entra_proxy,
    })
}

/// `[server]` and `[mcp]` bounds → connection limits, MCP transport settings, session limits.
fn edge_limits(
    config: &LoadedConfig,
    app: &AppSettings,
) -> Result<(ConnectionLimits, McpTransportConfig, SessionLimits), ConfigError> {
    let server = &config.raw.server;
    let mcp = &config.raw.mcp;
    let positive = |key: &str, value: u64| {
        if value == 0 {
            Err(config.error(key, "must be above 0"))
        } else {
            Ok(value)
        }
    };
    let seconds = |key: &str, value: u64| positive(key, value).map(Duration::from_secs);
    let count = |key: &str, value: usize| positive(key, value as u64).map(|_| value);
    let connections = ConnectionLimits {
        max_connections: count("server.max_connections", server.max_connections)?,
        header_read_timeout: seconds("server.header_read_timeout_seconds", server.header_read_timeout_seconds)?,
        idle_timeout: seconds("server.idle_timeout_seconds", server.idle_timeout_seconds)?,
        shutdown_grace: Duration::from_secs(server.shutdown_grace_seconds),
    };
    let transport = McpTransportConfig {
        stateful: mcp.stateful,
        json_response: mcp.json_response,
        allowed_hosts: mcp.allowed_hosts.clone(),
        allowed_origins: mcp.allowed_origins.clone(),
        public_url: app.public_url.clone(),
        loopback_bound: server.bind.ip().is_loopback(),
        max_body_bytes: count("mcp.max_body_bytes", mcp.max_body_bytes)?,
        json: JsonRpcLimits {
            max_values: count("mcp.max_json_values", mcp.max_json_values)?,
            max_depth: count("mcp.max_json_depth", mcp.max_json_depth)?,
            ..JsonRpcLimits::default()
        },
        max_concurrent_requests_per_principal: count(
            "mcp.max_concurrent_requests_per_principal",
            mcp.max_concurrent_requests_per_principal,
        )?,
        ..McpTransportConfig::default()
    };
    if let Err(invalid) = HostOriginPolicy::new(&transport.allowed_hosts, &[], &app.public_url, true) {
        return Err(config.error("mcp.allowed_hosts", invalid));
    }
    if let Err(invalid) = HostOriginPolicy::new(&[], &transport.allowed_origins, &app.public_url, true) {
        return Err(config.error("mcp.allowed_origins", invalid));
    }
    let sessions = SessionLimits {
        max_per_principal: count("mcp.max_sessions_per_principal", mcp.max_sessions_per_principal)?,
        idle_timeout: seconds("mcp.session_idle_seconds", mcp.session_idle_seconds)?,
    };
    Ok((connections, transport, sessions))
}

pub(crate) type ProviderParts = (Arc<dyn AuthProvider>, Vec<EntraValidator>, OAuthSettings);

/// Swagger UI's sign-in settings for an Entra (or B2C) v2.0 authority `…/v2.0`.
pub(crate) fn oauth_settings(
    config: &LoadedConfig,
    v2_authority: &str,
    client_id: &str,
    scopes: Vec<String>,
) -> OAuthSettings {
    let base = v2_authority.trim_end_matches("/v2.0");
    OAuthSettings {
        authorization_url: format!("{base}/oauth2/v2.0/authorize"),
        token_url: format!("{base}/oauth2/v2.0/token"),
        client_id: config
            .raw
            .api
            .swagger_client_id
            .clone()
            .unwrap_or_else(|| client_id.to_owned()),
        scopes,
    }
}

fn entra_jwt(config: &LoadedConfig, app: &AppSettings) -> Result<ProviderParts, ConfigError> {
    let entra = config
        .raw
        .auth
        .entra
        .as_ref()
        .ok_or_else(|| config.error("auth.entra", "the entra-jwt provider needs an [auth.entra] section"))?;
    let settings = entra_settings(config, entra)?;
    let scope_prefix = settings.identifier_uris.first().cloned().unwrap_or_default();
    let scopes = entra
        .scopes
        .iter()
        .map(|s| format!("{}/{s}", scope_prefix.trim_end_matches('/')))
        .collect();
    let oauth = oauth_settings(config, &settings.v2_authority(), &settings.client_id, scopes);
    let validator = EntraValidator::new(settings, Arc::new(SystemClock));
    let provider = EntraJwtProvider::new(
        validator.clone(),
        EntraJwtConfig {
            resource: app.resource_url(),
            scopes: entra.scopes.clone(),
            requirements: AccessRequirements {
                required_scopes: entra.required_scopes.clone(),
                app_roles: entra.app_roles.clone(),
                allow_guests: entra.allow_guests,
            },
            resource_name: Some("toolgate".into()),
        },
    );
    Ok((Arc::new(provider), vec![validator], oauth))
}

/// `azure-bearer`: fastapi-azure-auth-style bearer (single, multi-tenant, B2C), optionally with
/// API keys tried after it.
fn azure_bearer(config: &LoadedConfig, app: &AppSettings) -> Result<ProviderParts, ConfigError> {
    let section = config.raw.auth.azure_bearer.as_ref().ok_or_else(|| {
        config.error(
            "auth.azure_bearer",
            "the azure-bearer provider needs an [auth.azure_bearer] section",
        )
    })?;
    let mut section = section.clone();
    section.resource.get_or_insert_with(|| app.resource_url());
    let named = |error: AzureBearerConfigError| {
        let key = error
            .key()
            .map(|k| format!("auth.azure_bearer.{k}"))
            .unwrap_or_else(|| "auth.azure_bearer".into());
        config.error(&key, error)
    };
    let bearer = section.build().map_err(named)?;
    let validator = bearer.validator().clone();
    let scopes = section
        .scopes
        .iter()
        .map(|s| format!("{}{s}", bearer.scope_prefix()))
        .collect();
    let oauth = oauth_settings(
        config,
        &bearer.authorization_server(),
        &validator.settings().client_id,
        scopes,
    );
    let provider: Arc<dyn AuthProvider> = match section.build_api_keys().map_err(named)? {
        Some(keys) => Arc::new(ProviderSet::new(vec![Arc::new(bearer), Arc::new(keys)])),
        None => Arc::new(bearer),
    };
    Ok((provider, vec![validator], oauth))
}

/// `[auth.entra]` → validated [`EntraSettings`].
pub fn entra_settings(config: &LoadedConfig, entra: &EntraConfig) -> Result<EntraSettings, ConfigError> {
    let key = |name: &str| format!("auth.entra.{name}");
    let tenants = match entra.tenancy {
        Tenancy::Single => TenantPolicy::Single,
        Tenancy::Multi => TenantPolicy::AllowList(
            entra
                .allowed_tenants
                .iter()
                .map(|t| t.to_ascii_lowercase())
                .collect::<BTreeSet<_>>(),
        ),
        Tenancy::AnyTenant => TenantPolicy::AnyTenant,
    };
    if entra.tenancy != Tenancy::Multi && !entra.allowed_tenants.is_empty() {
        return Err(config.error(&key("allowed_tenants"), "only used with tenancy = \"multi\""));
    }
    let mut versions = AcceptedVersions { v1: false, v2: false };
    for version in &entra.accepted_versions {
        match version.as_str() {
            "1.0" => versions.v1 = true,
            "2.0" => versions.v2 = true,
            other => {
                return Err(config.error(
                    &key("accepted_versions"),
                    format!("`{other}` is not \"1.0\" or \"2.0\""),
                ));
            }
        }
    }
    if !versions.v1 && !versions.v2 {
        return Err(config.error(&key("accepted_versions"), "must accept at least one token version"));
    }
    let identifier_uris = if entra.identifier_uris.is_empty() {
        vec![format!("api://{}", entra.client_id)]
    } else {
        entra.identifier_uris.clone()
    };
    let settings = EntraSettings {
        authority_host: entra.authority_host.trim_end_matches('/').to_owned(),
        tenant_id: entra.tenant_id.to_ascii_lowercase(),
        tenants,
        client_id: entra.client_id.to_ascii_lowercase(),
        identifier_uris,
        extra_audiences: entra.extra_audiences.clone(),
        accept_audience_list: entra.accept_audience_list,
        versions,
        leeway: Duration::from_secs(entra.leeway_seconds),
        allow_guests: entra.allow_guests,
        custom_signing_keys: entra.custom_signing_keys,
        key_refresh_interval: Duration::from_secs(entra.key_refresh_seconds.max(60)),
        unknown_kid_refresh_interval: Duration::from_secs(300),
        key_source: None,
    };
    settings.check().map_err(|error| {
        let name = match &error {
            SettingsError::NotAGuid { key, .. } | SettingsError::NotAUrl { key, .. } | SettingsError::Empty { key } => {
                *key
            }
            SettingsError::DefaultScopeAsAudience { .. } => "extra_audiences",
            _ => "",
        };
        config.error(&key(name), error)
    })?;
    Ok(settings)
}

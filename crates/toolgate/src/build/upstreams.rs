//! `[[upstream]]`, `[gateway]` and in-process handlers → the gateway's upstreams; their catalog
//! discovered (toolgate connects to each upstream that needs no user); the policies validated
//! against it.
//!
//! A policy set that does not validate is a configuration error — unless the catalog is not
//! complete yet (an upstream is down, or an On-Behalf-Of upstream whose tools only a user's
//! session reveals and no `[gateway] catalog` snapshot names): then toolgate starts with
//! nothing permitted, reports itself not ready, and puts the policies in force as soon as the
//! catalog lets them validate.

use std::sync::Arc;

use async_trait::async_trait;
use rmcp::model::Tool;
use secrecy::SecretString;
use toolgate_core::{Catalog as PolicyCatalog, Principal, SystemClock};
use toolgate_gateway::credentials::UserAssertion;
use toolgate_gateway::upstream::Upstream;
use toolgate_gateway::{
    Catalog, CredentialError, CredentialSpec, Credentials, EntraClient, GatewayCore, LocalHandlers, Offer, PolicySync,
    RequestBearer, UpstreamSettings, config::check_unique_names,
};
use toolgate_mcp::ToolTags;
use toolgate_policy::{ClaimMapping, LivePolicy, read_catalog, read_policy_dir};

use super::{LocalUpstream, PolicyOrigin};
use crate::config::{ConfigError, LoadedConfig};
use crate::demo_policies;

/// Under `entra-proxy` the user's Entra token is kept sealed by the proxy.
struct ProxyAssertion(toolgate_proxy::EntraProxy);

#[async_trait]
impl UserAssertion for ProxyAssertion {
    async fn entra_token(&self, principal: &Principal, _bearer: Option<&str>) -> Result<SecretString, CredentialError> {
        self.0
            .upstream_access_token(principal)
            .await
            .map(|token| SecretString::from(token.expose_secret().to_owned()))
            .map_err(|error| {
                tracing::warn!(%error, "no Entra token of the user in the proxy's store");
                CredentialError::NoUserToken
            })
    }
}

/// toolgate's Entra client (`[auth.entra]` with a client secret), for On-Behalf-Of and client
/// credentials.
fn entra_client(config: &LoadedConfig) -> Result<Option<EntraClient>, ConfigError> {
    let Some(entra) = config.raw.auth.entra.as_ref() else {
        return Ok(None);
    };
    let Some(secret) = entra.client_secret.as_ref() else {
        return Ok(None);
    };
    let token_url = format!(
        "{}/{}/oauth2/v2.0/token",
        entra.authority_host.trim_end_matches('/'),
        entra.tenant_id
    );
    let token_url = url::Url::parse(&token_url).map_err(|e| config.error("auth.entra.authority_host", e))?;
    Ok(Some(EntraClient {
        token_url,
        client_id: entra.client_id.clone(),
        client_secret: SecretString::from(secret.expose_secret().to_owned()),
    }))
}

/// The upstreams of `config` (and `locals`), connected: toolgate's catalog connections are up
/// (or reported down) and the first listings are in the catalog.
async fn connect(
    config: &LoadedConfig,
    locals: Vec<LocalUpstream>,
    entra_proxy: Option<&toolgate_proxy::EntraProxy>,
) -> Result<Arc<GatewayCore>, ConfigError> {
    let raw = &config.raw;
    let in_file = |key: String, message: String| config.error_in_section("upstream", &key, message);
    let namespacing = raw
        .gateway
        .namespacing()
        .map_err(|e| config.error_in_section("gateway", &e.key, e.message))?;
    let lookup = |name: &str| std::env::var(name).ok();
    let mut settings: Vec<UpstreamSettings> = Vec::new();
    for (index, section) in raw.upstream.iter().enumerate() {
        let validated = section
            .validate(index, config.base_dir.as_deref(), &lookup)
            .map_err(|e| in_file(e.key, e.message))?;
        settings.push(validated);
    }
    let mut handlers = LocalHandlers::default();
    let mut tags: ToolTags = raw.policy.tool_tags.clone();
    for local in locals {
        handlers.insert(local.name.as_str(), local.factory);
        for (tool, extra) in local.tags {
            tags.entry(tool).or_insert(extra);
        }
        settings.push(UpstreamSettings::in_process(local.name, local.prefix));
    }
    check_unique_names(&settings).map_err(|e| in_file(e.key, e.message))?;
    if settings.is_empty() {
        return Err(config.error(
            "upstream",
            "there is nothing to serve: add an [[upstream]] (an MCP server over stdio or streamable HTTP, \
             see docs/gateway.md), or embed a handler",
        ));
    }
    let entra = entra_client(config)?;
    for (index, upstream) in settings.iter().enumerate() {
        let needs_entra = matches!(
            upstream.credentials,
            CredentialSpec::EntraObo { .. } | CredentialSpec::EntraApp { .. }
        );
        if needs_entra && entra.is_none() {
            return Err(in_file(
                format!("upstream[{index}].auth"),
                "Entra credentials need toolgate's own Entra client: set [auth.entra] client_id and client_secret"
                    .into(),
            ));
        }
        if let CredentialSpec::Header { name, value_env, .. } = &upstream.credentials
            && let Some(variable) = value_env
            && std::env::var(variable).is_err()
        {
            return Err(in_file(
                format!("upstream[{index}].auth.value_env"),
                format!("the environment variable `{variable}` for the `{name}` header is not set"),
            ));
        }
    }
    let assertion: Arc<dyn UserAssertion> = match entra_proxy {
        Some(proxy) => Arc::new(ProxyAssertion(proxy.clone())),
        None => Arc::new(RequestBearer),
    };
    let credentials = Arc::new(Credentials::new(entra, assertion, Arc::new(SystemClock)));
    let names: Vec<_> = settings.iter().map(|s| (s.name.clone(), s.prefix)).collect();
    let catalog = Arc::new(Catalog::new(namespacing.clone(), tags, &names));
    if let Some(path) = &raw.gateway.catalog {
        let snapshot = read_catalog(config.resolve(path))
            .map_err(|e| config.error_in_section("gateway", "gateway.catalog", e.to_string()))?;
        seed(&catalog, &settings, &namespacing, &snapshot);
    }
    let sync = Arc::new(PolicySync::new(catalog.clone()));
    let upstreams = settings
        .into_iter()
        .enumerate()
        .map(|(index, s)| Arc::new(Upstream::new(index, s)))
        .collect();
    let core = GatewayCore::new(
        upstreams,
        catalog.clone(),
        credentials,
        Arc::new(handlers),
        sync.clone(),
        Arc::new(SystemClock),
    );
    core.discover().await.map_err(|e| config.error("upstream", e))?;
    Ok(core)
}

/// The catalog of `config`'s upstreams as toolgate can list them now (`toolgate policy …
/// --config`); On-Behalf-Of upstreams contribute what `[gateway] catalog` names.
pub async fn current_catalog(config: &LoadedConfig) -> Result<PolicyCatalog, ConfigError> {
    let core = connect(config, Vec::new(), None).await?;
    let snapshot = core.catalog.snapshot();
    core.shutdown();
    Ok(snapshot)
}

/// Upstreams, catalog, credentials and policy of the gateway described by `config`.
pub(super) async fn discover(
    config: &LoadedConfig,
    origin: PolicyOrigin,
    locals: Vec<LocalUpstream>,
    entra_proxy: Option<&toolgate_proxy::EntraProxy>,
) -> Result<(Arc<GatewayCore>, Arc<LivePolicy>), ConfigError> {
    let raw = &config.raw;
    let core = connect(config, locals, entra_proxy).await?;
    let catalog = core.catalog.clone();
    let sync = core.sync.clone();
    let sources = match origin {
        PolicyOrigin::Directory => {
            read_policy_dir(&config.resolve(&raw.policy.dir)).map_err(|e| config.error("policy.dir", e))?
        }
        PolicyOrigin::Embedded => demo_policies::sources(),
    };
    let claims = ClaimMapping {
        extra: raw.policy.extra_claims.clone(),
    };
    let snapshot = catalog.snapshot();
    let (policy, invalid) = LivePolicy::build(sources, &snapshot, raw.policy.shadow, claims)
        .map_err(|e| config.error("policy.extra_claims", e))?;
    if let Some(error) = invalid {
        // Complete: every upstream toolgate lists itself answered, and every On-Behalf-Of
        // upstream's tools are known from the snapshot. Then the policies are simply wrong.
        let complete = core.all_up()
            && core
                .upstreams
                .iter()
                .filter(|u| u.needs_user())
                .all(|u| !core.catalog.offer(u.index).tools.is_empty());
        if complete {
            core.shutdown();
            return Err(config.error("policy.dir", error));
        }
        tracing::warn!(%error, "the policies do not validate against the catalog known so far (an upstream is down or \
            reached per user): nothing is permitted until they do");
    }
    sync.set_policy(policy.clone());
    // Listings made while the policy was being built.
    sync.catalog_changed().await;
    Ok((core, policy))
}

/// Seeds the catalog from a snapshot (`[gateway] catalog`): the tools of upstreams toolgate
/// cannot list by itself are known — and policies naming them validate — before any session.
fn seed(
    catalog: &Catalog,
    settings: &[UpstreamSettings],
    namespacing: &toolgate_gateway::Namespacing,
    snapshot: &PolicyCatalog,
) {
    for (index, upstream) in settings.iter().enumerate() {
        let prefix = format!("{}{}", upstream.name, namespacing.separator);
        let tools: Vec<Tool> = snapshot
            .tools
            .iter()
            .filter(|t| t.server.as_deref() == Some(upstream.name.as_str()))
            .map(|t| {
                let own = if upstream.prefix {
                    t.name.strip_prefix(&prefix).unwrap_or(&t.name)
                } else {
                    &t.name
                };
                let schema = t.input_schema.as_object().cloned().unwrap_or_default();
                let mut tool = Tool::new(own.to_owned(), t.description.clone().unwrap_or_default(), schema);
                tool.annotations = Some(
                    rmcp::model::ToolAnnotations::new()
                        .read_only(t.annotations.read_only.unwrap_or(false))
                        .destructive(t.annotations.destructive.unwrap_or(true))
                        .idempotent(t.annotations.idempotent.unwrap_or(false))
                        .open_world(t.annotations.open_world.unwrap_or(true)),
                );
                tool
            })
            .collect();
        if !tools.is_empty() {
            catalog.observe(
                index,
                Offer {
                    tools,
                    ..Offer::default()
                },
                false,
            );
        }
    }
}

//! `[state]` → the state store the entra-proxy and the replicas' shared MCP sessions use.

use std::net::SocketAddr;
use std::sync::Arc;

use toolgate_server::mcp::{ReplicaUrl, SessionLimits, SharedSessions};
use toolgate_store::{MemoryStore, RedisStore, StateStore};

use crate::config::raw::StateBackend;
use crate::config::{ConfigError, LoadedConfig};

/// `[state]` → the store: in this process (`memory`), or Redis shared by every replica.
pub async fn state_store(config: &LoadedConfig) -> Result<Arc<dyn StateStore>, ConfigError> {
    let section = &config.raw.state;
    match section.backend {
        StateBackend::Memory => Ok(Arc::new(MemoryStore::new())),
        StateBackend::Redis => {
            let url = section
                .url
                .as_ref()
                .ok_or_else(|| config.error("state.url", "backend = \"redis\" needs a url (redis://host:6379)"))?;
            let store = RedisStore::connect(url.expose_secret(), &section.key_prefix)
                .await
                .map_err(|e| config.error("state.url", e))?;
            Ok(Arc::new(store))
        }
    }
}

/// With a shared store (`backend = "redis"`), MCP sessions are shared by the replicas: this
/// replica is reachable at `[server] advertise_url` (default `http://{bind}`, which needs a
/// specific bind address). `None` with the in-process store.
pub(crate) fn replicas(
    config: &LoadedConfig,
    store: &Arc<dyn StateStore>,
    sessions: SessionLimits,
) -> Result<Option<SharedSessions>, ConfigError> {
    if config.raw.state.backend != StateBackend::Redis {
        return Ok(None);
    }
    let url = advertise_url(config, config.raw.server.bind)?;
    Ok(Some(SharedSessions::new(store.clone(), url, sessions.idle_timeout)))
}

fn advertise_url(config: &LoadedConfig, bind: SocketAddr) -> Result<ReplicaUrl, ConfigError> {
    let key = "server.advertise_url";
    match &config.raw.server.advertise_url {
        Some(url) => ReplicaUrl::parse(url).map_err(|e| config.error(key, e)),
        None if bind.ip().is_unspecified() => Err(config.error(
            key,
            format!(
                "with [state] backend = \"redis\" MCP sessions are shared by the replicas, which reach each \
                 other at this URL; bind = \"{bind}\" does not name one (set e.g. \"http://10.0.3.7:{}\")",
                bind.port()
            ),
        )),
        None => ReplicaUrl::parse(&format!("http://{bind}")).map_err(|e| config.error(key, e)),
    }
}

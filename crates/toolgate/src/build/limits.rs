//! `[server]` and `[mcp]` bounds → connection limits, the MCP transport's settings, session
//! limits. Every zero and every malformed `Host`/`Origin` entry is an error naming its key.

use std::time::Duration;

use toolgate_server::edge::host_origin::HostOriginPolicy;
use toolgate_server::edge::json_rpc::JsonRpcLimits;
use toolgate_server::mcp::{McpTransportConfig, SessionLimits};
use toolgate_server::{AppSettings, ConnectionLimits};

use crate::config::{ConfigError, LoadedConfig};

/// `[server]` and `[mcp]` bounds → connection limits, MCP transport settings, session limits.
pub(crate) fn edge_limits(
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

//! Mounting a gated rmcp server as a streamable-HTTP endpoint in poem.

use std::sync::Arc;

use poem::endpoint::TowerCompatExt as _;
use poem::{Endpoint, EndpointExt, IntoEndpoint};
use rmcp::ServerHandler;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde::Deserialize;

use crate::gate::{Gate, GateShared};
use crate::session_binding::{BindSessions, SessionBindings};

/// Transport settings of the MCP endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McpTransportConfig {
    /// Stateful sessions (`Mcp-Session-Id`) for clients on protocol versions before 2026-07-28;
    /// `false` serves every request statelessly.
    #[serde(default = "yes")]
    pub stateful: bool,
    /// In stateless mode, answer simple requests with `application/json` instead of SSE.
    #[serde(default)]
    pub json_response: bool,
    /// Accepted `Host` values (DNS-rebinding protection). rmcp's default is loopback only;
    /// public deployments list their own host names.
    #[serde(default = "loopback_hosts")]
    pub allowed_hosts: Vec<String>,
    /// Accepted browser `Origin`s (`https://app.example.com:443`, `http://localhost:*`). Empty:
    /// requests that carry an `Origin` are refused.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
}

fn yes() -> bool {
    true
}

fn loopback_hosts() -> Vec<String> {
    vec!["localhost".into(), "127.0.0.1".into(), "::1".into()]
}

impl Default for McpTransportConfig {
    fn default() -> Self {
        Self {
            stateful: true,
            json_response: false,
            allowed_hosts: loopback_hosts(),
            allowed_origins: Vec::new(),
        }
    }
}

/// The MCP endpoint: `make_handler` creates the wrapped server for each session; the gate puts
/// policy and audit in front of it; sessions are bound to their creator. Mount it behind the
/// authentication middleware (the principal must be in the request extensions).
pub fn mcp_endpoint<H, F>(
    make_handler: F,
    shared: Arc<GateShared>,
    transport: &McpTransportConfig,
    bindings: SessionBindings,
) -> impl Endpoint + 'static
where
    H: ServerHandler,
    F: Fn() -> H + Send + Sync + 'static,
{
    let mut config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(transport.stateful)
        .with_json_response(transport.json_response)
        .with_allowed_hosts(transport.allowed_hosts.clone())
        .with_allowed_origins(transport.allowed_origins.clone())
        .with_sse_keep_alive(None);
    if transport.allowed_origins.is_empty() {
        config = config.enforce_origin_validation();
    }
    let service = StreamableHttpService::new(
        move || Ok(Gate::new(make_handler(), shared.clone())),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    service.compat().with(BindSessions(bindings)).into_endpoint()
}

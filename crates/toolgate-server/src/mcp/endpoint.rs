//! Mounting a gated rmcp server as a streamable-HTTP endpoint in poem, behind the MCP edge
//! ([`super::edge`]): `Host`/`Origin`, session binding and caps, body and JSON bounds, one request
//! per JSON-RPC id, a concurrency cap per principal — each refusal audited.

use std::sync::Arc;
use std::time::Duration;

use poem::endpoint::TowerCompatExt as _;
use poem::{Endpoint, EndpointExt, IntoEndpoint};
use rmcp::ServerHandler;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use toolgate_mcp::{Gate, GateShared};

use super::edge::McpEdgeLayer;
use super::session_binding::SessionBindings;
use crate::edge::host_origin::{HostOriginPolicy, InvalidEntry};
use crate::edge::json_rpc::JsonRpcLimits;

/// Transport settings of the MCP endpoint.
#[derive(Debug, Clone)]
pub struct McpTransportConfig {
    /// Stateful sessions (`Mcp-Session-Id`) for clients on protocol versions before 2026-07-28;
    /// `false` serves every request statelessly.
    pub stateful: bool,
    /// In stateless mode, answer simple requests with `application/json` instead of SSE.
    pub json_response: bool,
    /// Accepted `Host` values (DNS-rebinding protection) besides the public URL's host.
    pub allowed_hosts: Vec<String>,
    /// Accepted browser `Origin`s besides same-origin ones (`https://app.example.com:443`,
    /// `http://localhost:*`, `null`).
    pub allowed_origins: Vec<String>,
    /// The server's public URL (its host is allowed, its origin is same-origin).
    pub public_url: String,
    /// The server listens on loopback addresses only (loopback origins are then accepted).
    pub loopback_bound: bool,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Bounds on each JSON-RPC message.
    pub json: JsonRpcLimits,
    /// POST requests one principal may have in flight at once.
    pub max_concurrent_requests_per_principal: usize,
    /// SSE keep-alive comments on open streams (below the server's idle timeout).
    pub sse_keep_alive: Option<Duration>,
}

/// rmcp's default, kept deliberately: tool arguments are rarely larger.
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

impl Default for McpTransportConfig {
    fn default() -> Self {
        Self {
            stateful: true,
            json_response: false,
            allowed_hosts: vec!["localhost".into(), "127.0.0.1".into(), "::1".into()],
            allowed_origins: Vec::new(),
            public_url: "http://127.0.0.1".into(),
            loopback_bound: true,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            json: JsonRpcLimits::default(),
            max_concurrent_requests_per_principal: 32,
            sse_keep_alive: Some(Duration::from_secs(15)),
        }
    }
}

impl McpTransportConfig {
    /// The `Host`/`Origin` rules these settings describe.
    pub fn host_origin_policy(&self) -> Result<HostOriginPolicy, InvalidEntry> {
        HostOriginPolicy::new(
            &self.allowed_hosts,
            &self.allowed_origins,
            &self.public_url,
            self.loopback_bound,
        )
    }
}

/// The MCP endpoint: `make_handler` creates the wrapped server for each session; the gate puts
/// policy and audit in front of it; the edge bounds and audits what reaches it; sessions are
/// bound to their creator. Mount it behind the authentication middleware (the principal must be
/// in the request extensions). Fails on an invalid `allowed_hosts`/`allowed_origins` entry.
pub fn mcp_endpoint<H, F>(
    make_handler: F,
    shared: Arc<GateShared>,
    transport: &McpTransportConfig,
    bindings: SessionBindings,
) -> Result<impl Endpoint + 'static, InvalidEntry>
where
    H: ServerHandler,
    F: Fn() -> H + Send + Sync + 'static,
{
    let host_origin = transport.host_origin_policy()?;
    // Host/Origin, body size and JSON are checked by the edge (with audit and JSON-RPC errors);
    // rmcp's own checks would only answer the same requests less precisely.
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(transport.stateful)
        .with_json_response(transport.json_response)
        .disable_allowed_hosts()
        .disable_allowed_origins()
        .with_max_request_body_bytes(transport.max_body_bytes)
        .with_sse_keep_alive(transport.sse_keep_alive)
        .with_cancellation_token(bindings.closing().clone());
    let mut config = config;
    // Replicas sharing sessions: a session taken over from a replica that is gone is restored
    // from its record (rmcp replays the recorded `initialize`).
    config.session_store = bindings.replicas().map(|replicas| replicas.restore_source());
    let mut sessions = LocalSessionManager::default();
    sessions.session_config.keep_alive = Some(bindings.limits().idle_timeout);
    let sessions = Arc::new(sessions);
    let audit = shared.audit.clone();
    let service = StreamableHttpService::new(
        move || Ok(Gate::new(make_handler(), shared.clone())),
        sessions.clone(),
        config,
    );
    let edge = McpEdgeLayer::new(host_origin, transport, bindings, sessions, audit);
    Ok(service.compat().with(edge).into_endpoint())
}

//! Starting a configured gateway: keys, audit trail, the gated demo tools, the HTTP server.

use std::sync::Arc;

use toolgate_api::{ApiContext, ApiRoutes, PlaceholderMissing};
use toolgate_audit::AuditStore;
use toolgate_audit::{AuditError, AuditWriter};
use toolgate_core::{AuditSink, ToolPolicy};
use toolgate_demo::{TaskStore, TaskTools};
use toolgate_mcp::{GateOptions, GateShared, InProcessTools, SessionBindings, mcp_endpoint};
use toolgate_policy::PolicyEngine;
use toolgate_server::{RunningServer, ServeError, auth_gate, build_app_with, serve_with_limits};

use crate::build::{self, Gateway};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the audit trail could not start: {0}")]
    Audit(#[from] AuditError),
    #[error(transparent)]
    Serve(#[from] ServeError),
    #[error("the MCP endpoint's Host/Origin settings are invalid: {0}")]
    Transport(toolgate_server::edge::host_origin::InvalidEntry),
    #[error("the OpenAPI document could not be prepared: {0}")]
    OpenApi(#[from] PlaceholderMissing),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
}

/// A running gateway. Dropping it stops the server; call [`RunningGateway::shutdown`] to also
/// flush the audit trail.
pub struct RunningGateway {
    pub server: RunningServer,
    pub audit: AuditWriter,
    pub policy: Arc<PolicyEngine>,
    pub sessions: SessionBindings,
    pub tasks: TaskStore,
    pub entra_proxy: Option<toolgate_proxy::EntraProxy>,
}

impl RunningGateway {
    pub fn url(&self) -> String {
        self.server.url()
    }

    pub async fn shutdown(self) {
        self.server.shutdown().await;
        self.audit.shutdown().await;
    }
}

/// Starts `gateway` on its configured address.
pub async fn start(gateway: Gateway) -> Result<RunningGateway, StartError> {
    let listener = tokio::net::TcpListener::bind(gateway.bind)
        .await
        .map_err(|source| StartError::Bind {
            addr: gateway.bind,
            source,
        })?;
    start_on(gateway, listener).await
}

/// Starts `gateway` on an already bound listener (tests bind `127.0.0.1:0` first to learn the
/// port for `public_url`).
pub async fn start_on(gateway: Gateway, listener: tokio::net::TcpListener) -> Result<RunningGateway, StartError> {
    for validator in &gateway.validators {
        if let Err(error) = validator.start().await {
            tracing::warn!(%error, "signing keys not loaded yet; requests fail closed until they are");
        }
    }
    let audit = AuditWriter::start(gateway.audit.clone()).await?;
    let sink: Arc<dyn AuditSink> = Arc::new(audit.clone());
    if let Some(proxy) = &gateway.entra_proxy {
        proxy.attach_audit(sink.clone());
    }
    let policy: Arc<dyn ToolPolicy> = gateway.policy.clone();
    let shared = Arc::new(GateShared::new(
        policy,
        sink.clone(),
        GateOptions {
            denial: gateway.mcp.denial,
            capture: gateway.mcp.capture_arguments.clone(),
            tool_tags: gateway.tool_tags.clone(),
            ..GateOptions::default()
        },
    ));
    let tasks = TaskStore::seeded();
    let sessions = SessionBindings::new(gateway.sessions);
    let store = tasks.clone();
    let rest_store = tasks.clone();
    let invoker = Arc::new(InProcessTools::new(
        move || TaskTools::new(rest_store.clone()),
        shared.clone(),
    ));
    let endpoint = mcp_endpoint(
        move || TaskTools::new(store.clone()),
        shared,
        &gateway.transport,
        sessions.clone(),
    )
    .map_err(StartError::Transport)?;
    let gate = auth_gate(gateway.provider.clone(), &gateway.app).with_audit(sink);
    let api = if gateway.api.enabled {
        let routes = ApiRoutes::prepare(&gateway.app.public_url, &gateway.oauth)?;
        let context = ApiContext {
            policy: gateway.policy.clone(),
            catalog: Arc::new(build::catalog(&gateway.tool_tags)),
            audit: Some(AuditStore::open_lazy(&gateway.audit.database_url).await?),
            admin_role: gateway.api.admin_role.clone(),
            tools: invoker,
        };
        Some((routes, context))
    } else {
        None
    };
    let app = build_app_with(gate, &gateway.app, endpoint, move |route| match api {
        Some((routes, context)) => routes.mount(route, context),
        None => route,
    });
    let server = serve_with_limits(app, listener, gateway.connections)?;
    tracing::info!(addr = %server.local_addr(), resource = %gateway.app.resource_url(), policy_set = %gateway.policy.policy_set_hash(), "toolgate is serving");
    Ok(RunningGateway {
        server,
        audit,
        policy: gateway.policy,
        sessions,
        tasks,
        entra_proxy: gateway.entra_proxy,
    })
}

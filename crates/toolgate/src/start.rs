//! Starting a built gateway: keys, the audit trail, the gate around the upstreams' router, the
//! REST API, the HTTP server — and stopping it gracefully.

use std::sync::Arc;

use toolgate_api::{ApiContext, ApiRoutes, PlaceholderMissing};
use toolgate_audit::AuditStore;
use toolgate_audit::{AuditError, AuditWriter};
use toolgate_core::{AuditSink, PolicyReload, RateLimiter, ToolPolicy};
use toolgate_demo::TaskStore;
use toolgate_gateway::GatewayCore;
use toolgate_mcp::{GateOptions, GateShared, InProcessTools, PassThrough};
use toolgate_policy::LivePolicy;
use toolgate_server::mcp::{SessionBindings, mcp_endpoint};
use toolgate_server::rate_limit::{RateLimits, RequestRateLimit};
use toolgate_server::{RunningServer, ServeError, auth_gate, build_app_with, serve_with_limits};

use crate::build::Gateway;
use crate::readiness::{GatewayReadiness, StoreProbe};
use crate::reload::{self, PolicyReloader, notice::ReloadNotice};
use crate::telemetry::{GatewayGauges, Telemetry};

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
    #[error(transparent)]
    Telemetry(#[from] crate::telemetry::TelemetryError),
    #[error(
        "cannot watch the policy directory {dir} for changes: {source} (set [policy] watch = false to reload on SIGHUP and through the API only)"
    )]
    Watch {
        dir: std::path::PathBuf,
        source: notify::Error,
    },
}

/// A running gateway. Dropping it stops the server; call [`RunningGateway::shutdown`] to also
/// close upstream connections and flush the audit trail.
pub struct RunningGateway {
    pub server: RunningServer,
    pub audit: AuditWriter,
    pub policy: Arc<LivePolicy>,
    pub sessions: SessionBindings,
    pub upstreams: Arc<GatewayCore>,
    /// The demo tools' store, when they are served.
    pub tasks: Option<TaskStore>,
    pub entra_proxy: Option<toolgate_proxy::EntraProxy>,
    /// Reloads the policies from their directory (`None` with embedded policies).
    pub reloader: Option<Arc<PolicyReloader>>,
    /// `[rate_limits]` in force (`None`: nothing limited); its refusal counters are
    /// `rate_limits.stats()` ([`toolgate_core::RateLimitStats`]).
    pub rate_limits: Option<Arc<RateLimits>>,
    /// The watcher, `SIGHUP` and replica-notice tasks of the reloader.
    background: Vec<Background>,
    /// Metrics (and their listener) and traces.
    pub telemetry: Telemetry,
}

/// A task that runs as long as the gateway.
type Background = tokio::task::JoinHandle<()>;

impl RunningGateway {
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Where `/metrics` is served (`[telemetry] metrics_bind`), if it is.
    pub fn metrics_addr(&self) -> Option<std::net::SocketAddr> {
        self.telemetry.metrics_addr()
    }

    /// Stops accepting, lets in-flight requests finish (within the shutdown grace), closes
    /// the MCP sessions and every upstream connection (catalog, sessions', shared), and writes
    /// every accepted audit event.
    pub async fn shutdown(self) {
        for task in &self.background {
            task.abort();
        }
        self.server.shutdown().await;
        self.sessions.close_all();
        self.upstreams.shutdown();
        self.audit.shutdown().await;
        self.telemetry.shutdown().await;
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
    let store_probe = gateway.reload.shared.clone().map(StoreProbe::new);
    let telemetry = Telemetry::start(
        &gateway.telemetry,
        GatewayGauges {
            audit: audit.clone(),
            validators: gateway.validators.clone(),
            store: store_probe.clone(),
            core: gateway.upstreams.clone(),
            rate_limits: gateway.rate_limits.clone(),
        },
    )
    .await?;
    let sink: Arc<dyn AuditSink> = telemetry.metered(Arc::new(audit.clone()));
    if let Some(proxy) = &gateway.entra_proxy {
        proxy.attach_audit(sink.clone());
    }
    gateway.upstreams.sync.attach_audit(sink.clone());
    let policy: Arc<dyn ToolPolicy> = gateway.policy.clone();
    let mut gate_shared = GateShared::new(
        policy.clone(),
        sink.clone(),
        GateOptions {
            denial: gateway.mcp.denial,
            capture: gateway.mcp.capture_arguments.clone(),
            pass_through: PassThrough(gateway.mcp.pass_through.clone()),
            ..GateOptions::default()
        },
    )
    .with_origins(gateway.upstreams.catalog.clone());
    let rate_limits = gateway.rate_limits.clone();
    if let Some(limits) = &rate_limits {
        gate_shared = gate_shared.with_rate_limits(limits.clone());
    }
    let shared = Arc::new(gate_shared);
    let (reloader, mut background) = start_reloading(&gateway, sink.clone())?;
    if let Some(probe) = &store_probe {
        background.push(tokio::spawn(probe.clone().run()));
    }
    let sessions = match gateway.replicas.clone() {
        Some(replicas) => SessionBindings::shared(gateway.sessions, replicas),
        None => SessionBindings::new(gateway.sessions),
    };
    let core = gateway.upstreams.clone();
    let rest_core = core.clone();
    let invoker = Arc::new(InProcessTools::new(move || rest_core.router(), shared.clone()));
    let endpoint = mcp_endpoint(move || core.router(), shared, &gateway.transport, sessions.clone())
        .map_err(StartError::Transport)?;
    let gate = auth_gate(gateway.provider.clone(), &gateway.app).with_audit(sink.clone());
    let api = if gateway.api.enabled {
        let routes = ApiRoutes::prepare(&gateway.app.public_url, &gateway.oauth)?;
        let context = ApiContext {
            policy,
            catalog: gateway.upstreams.clone(),
            readiness: Some(Arc::new(GatewayReadiness::new(
                gateway.upstreams.clone(),
                gateway.validators.clone(),
                store_probe,
            ))),
            audit: Some(AuditStore::open_lazy(&gateway.audit.database_url).await?),
            admin_role: gateway.api.admin_role.clone(),
            tools: invoker,
            reload: reloader.clone().map(|r| r as Arc<dyn PolicyReload>),
        };
        Some((routes, context))
    } else {
        None
    };
    let app = build_app_with(gate, &gateway.app, endpoint, move |route| match api {
        Some((routes, context)) => routes.mount(route, context),
        None => route,
    });
    let request_limits = rate_limits.clone().map(|limits| {
        let limiter: Arc<dyn RateLimiter> = limits;
        RequestRateLimit::new(limiter).with_audit(sink.clone())
    });
    let app = toolgate_server::rate_limit::provide(app, request_limits);
    let server = serve_with_limits(app, listener, gateway.connections)?;
    tracing::info!(addr = %server.local_addr(), resource = %gateway.app.resource_url(),
        policy_set = %gateway.policy.policy_set_hash(), upstreams = gateway.upstreams.upstreams.len(), "toolgate is serving");
    Ok(RunningGateway {
        server,
        audit,
        policy: gateway.policy,
        sessions,
        upstreams: gateway.upstreams,
        tasks: gateway.tasks,
        entra_proxy: gateway.entra_proxy,
        reloader,
        rate_limits,
        background,
        telemetry,
    })
}

/// The policy reloader and what triggers it: file changes (`[policy] watch`), `SIGHUP`, and the
/// other replicas' notices (shared state). Nothing for embedded policies.
fn start_reloading(
    gateway: &Gateway,
    audit: Arc<dyn AuditSink>,
) -> Result<(Option<Arc<PolicyReloader>>, Vec<Background>), StartError> {
    let Some(dir) = gateway.reload.dir.clone() else {
        return Ok((None, Vec::new()));
    };
    let reloader = PolicyReloader::new(
        dir.clone(),
        gateway.policy.clone(),
        gateway.upstreams.clone(),
        gateway.upstreams.sync.clone(),
        audit,
        gateway.reload.shared.clone().map(ReloadNotice::new),
    );
    let mut background = vec![tokio::spawn(reload::on_sighup(reloader.clone()))];
    if gateway.reload.watch {
        background.push(reload::watch::watch(reloader.clone()).map_err(|source| StartError::Watch { dir, source })?);
    }
    if gateway.reload.shared.is_some() {
        background.push(tokio::spawn(reload::notice::follow(reloader.clone())));
    }
    Ok((Some(reloader), background))
}

impl Gateway {
    /// Builds a gateway from configuration and in-process handlers.
    pub fn builder() -> crate::build::Builder {
        crate::build::Builder::new()
    }

    /// Serves on the configured address until SIGINT or SIGTERM, then stops gracefully.
    pub async fn serve(self) -> Result<(), StartError> {
        let running = start(self).await?;
        crate::commands::until_interrupted().await;
        running.shutdown().await;
        Ok(())
    }
}

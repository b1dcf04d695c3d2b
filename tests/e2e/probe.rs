//! An embedder's own rmcp server behind the gate, with tools that observe what the gate did:
//! what arguments arrived, whether the decision's audit row existed when the tool ran, how many
//! times a prompt handler was entered. Served by a gateway assembled the way an embedder does.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    GetPromptRequestParams, GetPromptResponse, GetPromptResult, ListPromptsResult, PaginatedRequestParams, Prompt,
    PromptMessage, Role, ServerCapabilities, ServerConfig,
};
use rmcp::service::{MaybeSendFuture, RequestContext};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler, schemars, tool, tool_handler, tool_router};
use serde::Deserialize;
use serde_json::{Value, json};
use toolgate::build::{self, PolicyOrigin};
use toolgate::config;
use toolgate_audit::{AuditConfig, AuditFilter, AuditStore, AuditWriter};
use toolgate_core::{AuditSink, RequestId, ToolPolicy};
use toolgate_emulator::{RunningEmulator, demo};
use toolgate_mcp::{GateOptions, GateShared, descriptor_of};
use toolgate_policy::{ClaimMapping, PolicyEngine, PolicySource};
use toolgate_server::mcp::{McpTransportConfig, SessionBindings, SessionLimits, mcp_endpoint};
use toolgate_server::{RunningServer, auth_gate, build_app_with_mcp, serve_on};

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct Aliased {
    /// 1 to 9. Also accepted as `prio` by this tool's own parsing — an alias no schema shows.
    #[serde(alias = "prio")]
    pub priority: Option<i64>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct Sleep {
    pub ms: u64,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct Nothing {}

/// The probe server. `prompt_entries` counts every entry into `get_prompt`, before any await.
#[derive(Clone)]
pub struct Probe {
    tool_router: ToolRouter<Self>,
    audit_url: String,
    pub prompt_entries: Arc<AtomicUsize>,
    pub side_effects: Arc<AtomicUsize>,
}

#[tool_router]
impl Probe {
    /// Echoes the priority it parsed.
    #[tool(description = "Echo the priority this tool parsed.")]
    async fn aliased(&self, Parameters(Aliased { priority }): Parameters<Aliased>) -> Result<String, McpError> {
        self.side_effects.fetch_add(1, Ordering::SeqCst);
        Ok(json!({ "priority": priority }).to_string())
    }

    /// Sleeps, then answers.
    #[tool(description = "Sleep for ms milliseconds.")]
    async fn sleep(&self, Parameters(Sleep { ms }): Parameters<Sleep>) -> Result<String, McpError> {
        tokio::time::sleep(Duration::from_millis(ms.min(10_000))).await;
        Ok("slept".into())
    }

    /// Says whether the audit row of this very call existed when the tool started.
    #[tool(description = "Report whether this call's decision was in the audit trail before it ran.")]
    async fn audited_first(
        &self,
        rmcp::handler::server::tool::Extension(parts): rmcp::handler::server::tool::Extension<http::request::Parts>,
        Parameters(Nothing {}): Parameters<Nothing>,
    ) -> Result<String, McpError> {
        self.side_effects.fetch_add(1, Ordering::SeqCst);
        let request_id = parts
            .extensions
            .get::<RequestId>()
            .map(|id| id.0.clone())
            .unwrap_or_default();
        let store = AuditStore::connect(&self.audit_url)
            .await
            .map_err(|e| McpError::internal_error(e.to_string(), None))?;
        let rows = store
            .query(&AuditFilter {
                tool: Some("audited_first".into()),
                ..AuditFilter::default()
            })
            .await
            .map_err(|e| McpError::internal_error(e.to_string(), None))?;
        let row = rows.iter().find(|r| r.request_id == request_id);
        Ok(json!({ "found": row.is_some(), "outcome": row.map(|r| r.outcome) }).to_string())
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Probe {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().enable_prompts().build())
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        Ok(ListPromptsResult::with_all_items(vec![
            Prompt::new("open_prompt", Some("anyone"), None),
            Prompt::new("secret_prompt", Some("admins only"), None),
        ]))
    }

    /// Work done when the handler is *entered*, as handlers written without `async fn` do.
    fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<GetPromptResponse, McpError>> + MaybeSendFuture + '_ {
        self.prompt_entries.fetch_add(1, Ordering::SeqCst);
        async move {
            Ok(GetPromptResult::new(vec![PromptMessage::new_text(
                Role::User,
                format!("the text of {}", request.name),
            )])
            .into())
        }
    }
}

/// The probe's policies: everyone may call every tool except `aliased` with a priority above
/// 5, and get `open_prompt`; `secret_prompt` is for nobody.
const POLICIES: &str = r#"
@id("probe-tools")
permit(principal, action in Action::"call", resource);
@id("aliased-priority")
forbid(principal, action == Action::"call:aliased", resource)
when { context.input has priority && context.input.priority > 5 };
@id("open-prompt")
permit(principal, action == Action::"get_prompt", resource == Prompt::"open_prompt");
"#;

pub struct ProbeStack {
    pub emulator: RunningEmulator,
    pub server: RunningServer,
    pub audit: AuditWriter,
    pub audit_url: String,
    pub mcp_url: String,
    pub probe: Probe,
    pub bindings: SessionBindings,
    _dir: tempfile::TempDir,
}

impl ProbeStack {
    pub async fn token(&self, user: &str) -> String {
        crate::harness::sign_in(&self.emulator, user, &[demo::API_SCOPE_ACCESS_AS_USER]).await
    }

    pub async fn rows(&self) -> Vec<toolgate_core::AuditEvent> {
        self.audit.flush().await;
        AuditStore::connect(&self.audit_url)
            .await
            .unwrap()
            .query(&AuditFilter::default())
            .await
            .unwrap()
    }
}

/// The probe behind entra-jwt, Cedar and a SQLite audit trail; `tune` adjusts the transport.
pub async fn probe_stack(tune: impl FnOnce(&mut McpTransportConfig, &mut SessionLimits)) -> ProbeStack {
    let emulator = crate::harness::emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let toml = format!(
        "[server]\nbind = \"{addr}\"\n[auth]\nprovider = \"entra-jwt\"\n[auth.entra]\nauthority_host = \"{}\"\ntenant_id = \"{}\"\nclient_id = \"{}\"\n",
        emulator.base_url(),
        demo::TENANT_ID,
        demo::API_CLIENT_ID
    );
    let loaded = config::load_str(&toml).unwrap();
    let gateway = build::gateway_with(&loaded, PolicyOrigin::Embedded).await.unwrap();
    for validator in &gateway.validators {
        validator.start().await.unwrap();
    }
    let audit_url = format!("sqlite://{}?mode=rwc", dir.path().join("audit.db").display());
    let mut audit_config = AuditConfig::new(&audit_url, dir.path().join("audit.spool"));
    audit_config.flush_interval = Duration::from_millis(20);
    let audit = AuditWriter::start(audit_config).await.unwrap();
    let probe = Probe {
        tool_router: Probe::tool_router(),
        audit_url: audit_url.clone(),
        prompt_entries: Arc::default(),
        side_effects: Arc::default(),
    };
    let catalog: Vec<_> = Probe::tool_router()
        .list_all()
        .iter()
        .map(|tool| descriptor_of(tool, &Default::default()))
        .collect();
    let policy = PolicyEngine::from_sources(
        &[PolicySource {
            name: "probe.cedar".into(),
            text: POLICIES.into(),
        }],
        &catalog,
        false,
        ClaimMapping::default(),
    )
    .unwrap();
    let sink: Arc<dyn AuditSink> = Arc::new(audit.clone());
    let policy: Arc<dyn ToolPolicy> = Arc::new(policy);
    let shared = Arc::new(GateShared::new(policy, sink.clone(), GateOptions::default()));
    let mut transport = McpTransportConfig {
        public_url: gateway.app.public_url.clone(),
        ..McpTransportConfig::default()
    };
    let mut limits = SessionLimits::default();
    tune(&mut transport, &mut limits);
    let bindings = SessionBindings::new(limits);
    let made = probe.clone();
    let endpoint = mcp_endpoint(move || made.clone(), shared, &transport, bindings.clone()).unwrap();
    let gate = auth_gate(gateway.provider.clone(), &gateway.app).with_audit(sink);
    let server = serve_on(build_app_with_mcp(gate, &gateway.app, endpoint), listener).unwrap();
    ProbeStack {
        emulator,
        server,
        audit,
        audit_url,
        mcp_url: gateway.app.resource_url(),
        probe,
        bindings,
        _dir: dir,
    }
}

/// The JSON-RPC answer in a streamable-HTTP response body (JSON or SSE).
pub fn answer(body: &str) -> Value {
    if let Ok(value) = serde_json::from_str(body) {
        return value;
    }
    body.lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .filter_map(|data| serde_json::from_str::<Value>(data.trim()).ok())
        .find(|message| message.get("result").is_some() || message.get("error").is_some())
        .unwrap_or(Value::Null)
}

//! The reference upstream as an rmcp [`ServerHandler`]: one handler per session over state shared by
//! every session of one server (the tools added at run time, the connected sessions, counters).
#![allow(
    deprecated,
    reason = "logging, sampling and subscribe are deprecated by SEP-2577 but are what the scenarios test"
)]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CompleteRequestParams, CompleteResult, CompletionInfo,
    GetPromptRequestParams, GetPromptResponse, Implementation, ListPromptsResult, ListResourceTemplatesResult,
    ListResourcesResult, ListToolsResult, LoggingLevel, PaginatedRequestParams, ReadResourceRequestParams,
    ReadResourceResponse, Reference, ServerCapabilities, ServerConfig, SetLevelRequestParams, SubscribeRequestParams,
    Tool, UnsubscribeRequestParams,
};
use rmcp::service::{NotificationContext, Peer, RequestContext};
use rmcp::{ErrorData, RoleServer, ServerHandler};

use crate::catalog::{self, BuiltinPrompt, BuiltinTool, COMPLETION_CANDIDATES};
use crate::{content, tools};

/// Most tools `add_tool` adds to one server.
pub const MAX_DYNAMIC_TOOLS: usize = 1000;
/// Most resource subscriptions one session holds.
const MAX_SUBSCRIPTIONS: usize = 64;

/// Why `add_tool` refused a name.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AddToolError {
    #[error("a tool name is 1-128 characters of A-Z a-z 0-9 _ - . (SEP-986)")]
    InvalidName,
    #[error("a tool named `{0}` already exists")]
    AlreadyExists(String),
    #[error("this server already has {MAX_DYNAMIC_TOOLS} added tools")]
    TooMany,
}

/// What `crash` does.
pub(crate) type CrashFn = Box<dyn Fn() + Send + Sync>;

/// State shared by every session of one upstream.
pub(crate) struct Shared {
    server_name: String,
    dynamic_tools: Mutex<Vec<Tool>>,
    /// Peers of initialized sessions; closed ones are pruned on each registration and broadcast.
    sessions: Mutex<Vec<Peer<RoleServer>>>,
    pub(crate) crash: CrashFn,
    pub(crate) tool_calls: AtomicU64,
    pub(crate) cancelled_calls: AtomicU64,
    /// The W3C trace context of each `tools/call` received (bounded: the first
    /// [`MAX_TRACE_RECORDS`]).
    pub(crate) traces: Mutex<Vec<ReceivedTrace>>,
}

/// How many `tools/call` trace contexts are kept.
pub const MAX_TRACE_RECORDS: usize = 1000;

/// The trace context one `tools/call` arrived with: the `traceparent` HTTP header (streamable
/// HTTP only) and `params._meta.traceparent` (SEP-414).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedTrace {
    pub tool: String,
    pub header: Option<String>,
    pub meta: Option<String>,
}

impl Shared {
    pub(crate) fn new(server_name: String, crash: CrashFn) -> Arc<Self> {
        Arc::new(Self {
            server_name,
            dynamic_tools: Mutex::new(Vec::new()),
            sessions: Mutex::new(Vec::new()),
            crash,
            tool_calls: AtomicU64::new(0),
            cancelled_calls: AtomicU64::new(0),
            traces: Mutex::new(Vec::new()),
        })
    }

    fn register_session(&self, peer: Peer<RoleServer>) {
        let mut sessions = self.sessions.lock();
        sessions.retain(|p| !p.is_transport_closed());
        sessions.push(peer);
    }

    pub(crate) fn dynamic_tool(&self, name: &str) -> Option<Tool> {
        self.dynamic_tools.lock().iter().find(|t| t.name == name).cloned()
    }

    /// Adds a tool called `name` for every session; then [`Shared::notify_tools_changed`].
    pub(crate) fn add_tool(&self, name: &str) -> Result<(), AddToolError> {
        let valid = (1..=128).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
        if !valid {
            return Err(AddToolError::InvalidName);
        }
        let mut tools = self.dynamic_tools.lock();
        if BuiltinTool::from_name(name).is_some() || tools.iter().any(|t| t.name == name) {
            return Err(AddToolError::AlreadyExists(name.to_owned()));
        }
        if tools.len() >= MAX_DYNAMIC_TOOLS {
            return Err(AddToolError::TooMany);
        }
        tools.push(catalog::dynamic_tool(name));
        Ok(())
    }

    /// Sends `notifications/tools/list_changed` to every open session; returns how many got it.
    pub(crate) async fn notify_tools_changed(&self) -> usize {
        let peers: Vec<_> = {
            let mut sessions = self.sessions.lock();
            sessions.retain(|p| !p.is_transport_closed());
            sessions.clone()
        };
        let mut notified = 0;
        for peer in peers {
            if peer.notify_tool_list_changed().await.is_ok() {
                notified += 1;
            }
        }
        notified
    }

    fn all_tools(&self) -> Vec<Tool> {
        let mut all: Vec<Tool> = BuiltinTool::ALL.into_iter().map(BuiltinTool::tool).collect();
        all.extend(self.dynamic_tools.lock().iter().cloned());
        all
    }
}

/// One session's handler.
#[derive(Clone)]
pub(crate) struct Upstream {
    pub(crate) shared: Arc<Shared>,
    session: Arc<Session>,
}

#[derive(Default)]
struct Session {
    /// The level `logging/setLevel` asked for; `None` sends every level.
    log_level: Mutex<Option<LoggingLevel>>,
    subscriptions: Mutex<BTreeSet<String>>,
}

impl Upstream {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self {
            shared,
            session: Arc::default(),
        }
    }

    /// Whether a message at `level` passes this session's `logging/setLevel` threshold.
    pub(crate) fn logs(&self, level: LoggingLevel) -> bool {
        self.session
            .log_level
            .lock()
            .is_none_or(|min| severity(level) >= severity(min))
    }
}

/// RFC 5424 severities in MCP's order, lowest first.
fn severity(level: LoggingLevel) -> u8 {
    match level {
        LoggingLevel::Debug => 0,
        LoggingLevel::Info => 1,
        LoggingLevel::Notice => 2,
        LoggingLevel::Warning => 3,
        LoggingLevel::Error => 4,
        LoggingLevel::Critical => 5,
        LoggingLevel::Alert => 6,
        LoggingLevel::Emergency => 7,
    }
}

impl ServerHandler for Upstream {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_tool_list_changed()
                .enable_resources()
                .enable_resources_subscribe()
                .enable_resources_list_changed()
                .enable_prompts()
                .enable_prompts_list_changed()
                .enable_logging()
                .enable_completions()
                .build(),
        )
        .with_server_info(Implementation::new(
            self.shared.server_name.clone(),
            env!("CARGO_PKG_VERSION"),
        ))
    }

    async fn on_initialized(&self, cx: NotificationContext<RoleServer>) {
        self.shared.register_session(cx.peer);
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        BuiltinTool::from_name(name)
            .map(BuiltinTool::tool)
            .or_else(|| self.shared.dynamic_tool(name))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _cx: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.shared.all_tools()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        self.shared.tool_calls.fetch_add(1, Ordering::Relaxed);
        {
            let mut traces = self.shared.traces.lock();
            if traces.len() < MAX_TRACE_RECORDS {
                let header = cx
                    .extensions
                    .get::<http::request::Parts>()
                    .and_then(|p| p.headers.get("traceparent"))
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                traces.push(ReceivedTrace {
                    tool: request.name.to_string(),
                    header,
                    meta: cx.meta.get_traceparent().map(str::to_owned),
                });
            }
        }
        tools::call(self, request, cx).await.map(Into::into)
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _cx: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        Ok(ListPromptsResult::with_all_items(
            BuiltinPrompt::ALL.into_iter().map(BuiltinPrompt::prompt).collect(),
        ))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _cx: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        content::prompt(&request.name, request.arguments.unwrap_or_default()).map(Into::into)
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _cx: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(ListResourcesResult::with_all_items(catalog::resources()))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _cx: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(ListResourceTemplatesResult::with_all_items(
            catalog::resource_templates(),
        ))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _cx: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        content::resource(&request.uri).map(Into::into)
    }

    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        _cx: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        content::resource(&request.uri)?;
        let mut subscriptions = self.session.subscriptions.lock();
        if subscriptions.len() >= MAX_SUBSCRIPTIONS && !subscriptions.contains(&request.uri) {
            return Err(ErrorData::invalid_params(
                format!("at most {MAX_SUBSCRIPTIONS} subscriptions per session"),
                None,
            ));
        }
        subscriptions.insert(request.uri);
        Ok(())
    }

    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        _cx: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.session.subscriptions.lock().remove(&request.uri);
        Ok(())
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        _cx: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, ErrorData> {
        let prompt = match &request.r#ref {
            Reference::Prompt(p) => BuiltinPrompt::from_name(&p.name),
            _ => None,
        };
        if prompt != Some(BuiltinPrompt::WithArguments) || !matches!(request.argument.name.as_str(), "arg1" | "arg2") {
            return Err(ErrorData::invalid_params(
                "completion is offered for arg1 and arg2 of prompt test_prompt_with_arguments only",
                None,
            ));
        }
        let values = COMPLETION_CANDIDATES
            .into_iter()
            .filter(|c| c.starts_with(request.argument.value.as_str()))
            .map(str::to_owned)
            .collect();
        let completion = CompletionInfo::new(values).map_err(|e| ErrorData::internal_error(e, None))?;
        Ok(CompleteResult::new(completion))
    }

    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        _cx: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        *self.session.log_level.lock() = Some(request.level);
        Ok(())
    }
}

//! An rmcp client that records what the server sends it.
#![allow(
    deprecated,
    reason = "sampling is deprecated by SEP-2577 but the upstream's scenarios use it"
)]

use std::net::SocketAddr;
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, CreateMessageRequestParams,
    CreateMessageResult, ElicitRequestParams, ElicitResult, ElicitationAction, Implementation, SamplingMessage,
};
use rmcp::service::{NotificationContext, RequestContext, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::common::client_side_sse::FixedInterval;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientHandler, ErrorData, RoleClient, ServiceExt as _};
use serde_json::{Value, json};
use tokio::sync::watch;

pub const TIMEOUT: Duration = Duration::from_secs(10);

pub fn local() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// Declares sampling and elicitation; answers both; counts `tools/list_changed`.
#[derive(Clone)]
pub struct Recorder {
    list_changed: watch::Sender<usize>,
}

impl Recorder {
    pub fn new() -> Self {
        Self {
            list_changed: watch::channel(0).0,
        }
    }

    /// Waits until at least `n` `notifications/tools/list_changed` arrived.
    pub async fn wait_list_changed(&self, n: usize) -> bool {
        let mut rx = self.list_changed.subscribe();
        tokio::time::timeout(TIMEOUT, rx.wait_for(|c| *c >= n))
            .await
            .is_ok_and(|r| r.is_ok())
    }
}

impl ClientHandler for Recorder {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::builder()
                .enable_sampling()
                .enable_elicitation()
                .build(),
            Implementation::new("toolgate-test-upstream-it", "0.0.0"),
        )
    }

    async fn on_tool_list_changed(&self, _cx: NotificationContext<RoleClient>) {
        self.list_changed.send_modify(|c| *c += 1);
    }

    async fn create_message(
        &self,
        _params: CreateMessageRequestParams,
        _cx: RequestContext<RoleClient>,
    ) -> Result<CreateMessageResult, ErrorData> {
        Ok(CreateMessageResult::new(
            SamplingMessage::assistant_text("sampled answer"),
            "test-model".into(),
        ))
    }

    async fn create_elicitation(
        &self,
        _request: ElicitRequestParams,
        _cx: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        let mut result = ElicitResult::new(ElicitationAction::Accept);
        result.content = Some(json!({"username": "alice", "email": "alice@example.com"}));
        Ok(result)
    }
}

pub type Client = RunningService<RoleClient, Recorder>;

/// An rmcp streamable-HTTP client session with `url`, sending `token` as a bearer when given.
pub async fn connect(url: &str, token: Option<&str>) -> anyhow::Result<(Client, Recorder)> {
    let mut config = StreamableHttpClientTransportConfig::with_uri(url.to_owned());
    // rmcp's default resumes a broken SSE stream forever (unbounded exponential backoff): a call in
    // flight on a server that died would never end. Two quick retries, then the call fails.
    let mut retry = FixedInterval::default();
    retry.max_times = Some(2);
    retry.duration = Duration::from_millis(100);
    config.retry_config = std::sync::Arc::new(retry);
    if let Some(token) = token {
        config = config.auth_header(token.to_owned());
    }
    let http = reqwest::Client::builder().no_proxy().build()?;
    let recorder = Recorder::new();
    let transport = StreamableHttpClientTransport::with_client(http, config);
    let client = tokio::time::timeout(TIMEOUT, recorder.clone().serve(transport)).await??;
    Ok((client, recorder))
}

pub fn call(name: &str, arguments: Value) -> CallToolRequestParams {
    let params = CallToolRequestParams::new(name.to_owned());
    match arguments {
        Value::Object(map) => params.with_arguments(map),
        _ => params,
    }
}

/// The text items of a result, joined by `|`.
pub fn text_of(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text())
        .map(|t| t.text.as_str())
        .collect::<Vec<_>>()
        .join("|")
}

/// A raw `initialize` POST (MCP 2025-11-25) with extra headers; returns the status and headers.
pub async fn raw_initialize(url: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut request = client
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(
            json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": "2025-11-25", "capabilities": {},
                "clientInfo": {"name": "raw", "version": "0"}}})
            .to_string(),
        );
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

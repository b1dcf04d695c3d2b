//! A minimal MCP client speaking streamable HTTP on the wire (JSON or SSE answers): used by
//! `toolgate tools` and by the end-to-end tests, so both see exactly what a real client sees.

use reqwest::StatusCode;
use serde_json::{Value, json};

pub const PROTOCOL_VERSION: &str = "2025-06-18";

/// Why an MCP exchange failed below the JSON-RPC level.
#[derive(Debug, thiserror::Error)]
pub enum McpClientError {
    #[error("HTTP request failed: {0}")]
    Http(#[from] reqwest::Error),
    #[error("the server answered HTTP {status}: {body}")]
    Refused { status: StatusCode, body: String },
    #[error("unexpected answer: {0}")]
    Protocol(String),
}

/// One client connection (and, in stateful mode, one MCP session).
#[derive(Debug)]
pub struct McpClient {
    http: reqwest::Client,
    url: String,
    pub token: String,
    pub session: Option<String>,
    /// Headers sent with every request besides the protocol's (e.g. a W3C `traceparent`).
    pub headers: reqwest::header::HeaderMap,
    next_id: u64,
}

impl McpClient {
    pub fn new(url: &str, token: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            url: url.to_owned(),
            token: token.to_owned(),
            session: None,
            headers: reqwest::header::HeaderMap::new(),
            next_id: 1,
        }
    }

    /// Sends the following requests to `url` (another replica), keeping the session.
    pub fn retarget(&mut self, url: &str) {
        url.clone_into(&mut self.url);
    }

    /// `initialize` + `notifications/initialized`.
    pub async fn connect(url: &str, token: &str) -> Result<Self, McpClientError> {
        let mut client = Self::new(url, token);
        let params = json!({
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "toolgate", "version": env!("CARGO_PKG_VERSION")}
        });
        let response = client.request("initialize", params).await?;
        if response.get("result").is_none() {
            return Err(McpClientError::Protocol(format!("initialize failed: {response}")));
        }
        client.notify("notifications/initialized").await?;
        Ok(client)
    }

    fn post(&self, body: &Value) -> reqwest::RequestBuilder {
        let mut request = self
            .http
            .post(&self.url)
            .bearer_auth(&self.token)
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", PROTOCOL_VERSION)
            .headers(self.headers.clone())
            .json(body);
        if let Some(session) = &self.session {
            request = request.header("mcp-session-id", session);
        }
        request
    }

    pub async fn notify(&mut self, method: &str) -> Result<(), McpClientError> {
        let response = self.post(&json!({"jsonrpc": "2.0", "method": method})).send().await?;
        let status = response.status();
        if !status.is_success() {
            return Err(McpClientError::Refused {
                status,
                body: response.text().await.unwrap_or_default(),
            });
        }
        Ok(())
    }

    /// Sends a request and returns the JSON-RPC response object (with `result` or `error`).
    pub async fn request(&mut self, method: &str, params: Value) -> Result<Value, McpClientError> {
        let id = self.next_id;
        self.next_id += 1;
        let response = self
            .post(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .send()
            .await?;
        let status = response.status();
        if let Some(session) = response.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()) {
            self.session = Some(session.to_owned());
        }
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = response.text().await?;
        if !status.is_success() {
            return Err(McpClientError::Refused { status, body });
        }
        if content_type.starts_with("text/event-stream") {
            return body
                .lines()
                .filter_map(|line| line.strip_prefix("data:"))
                .filter_map(|data| serde_json::from_str::<Value>(data.trim()).ok())
                .find(|message| message.get("id") == Some(&json!(id)))
                .ok_or_else(|| McpClientError::Protocol(format!("no response with id {id} in the stream: {body}")));
        }
        serde_json::from_str(&body).map_err(|e| McpClientError::Protocol(format!("not JSON ({e}): {body}")))
    }

    /// The names of the tools the server lists for this caller, sorted.
    pub async fn list_tools(&mut self) -> Result<Vec<String>, McpClientError> {
        let response = self.request("tools/list", json!({})).await?;
        let tools = response["result"]["tools"]
            .as_array()
            .ok_or_else(|| McpClientError::Protocol(format!("tools/list failed: {response}")))?;
        let mut names: Vec<String> = tools
            .iter()
            .filter_map(|t| t["name"].as_str().map(str::to_owned))
            .collect();
        names.sort();
        Ok(names)
    }

    /// Calls a tool; the JSON-RPC response (`result` or `error`) is returned as is.
    pub async fn call(&mut self, tool: &str, arguments: Value) -> Result<Value, McpClientError> {
        self.request("tools/call", json!({"name": tool, "arguments": arguments}))
            .await
    }
}

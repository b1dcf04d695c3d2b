//! What a tool is, as far as authorization and audit care: name, input schema, annotations, tags.
//! The MCP layer converts the wrapped server's tools into these; Cedar's schema is generated
//! from them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// MCP tool annotations (hints from the tool's author; policies may use them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolAnnotations {
    pub read_only: Option<bool>,
    pub destructive: Option<bool>,
    pub idempotent: Option<bool>,
    pub open_world: Option<bool>,
}

/// One tool of the catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolDescriptor {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// The tool's JSON Schema for its arguments (an `object` schema).
    pub input_schema: Value,
    #[serde(default)]
    pub annotations: ToolAnnotations,
    /// Tags from configuration or tool metadata (`read`, `write`, `dangerous` …).
    #[serde(default)]
    pub tags: Vec<String>,
    /// The upstream MCP server the tool comes from (its name in configuration): the tool's
    /// parent entity in Cedar, so `resource in Server::"github"` holds. `None` for a server
    /// embedded without a name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
}

/// A prompt or a resource of the catalog: its name (a prompt's name, a resource's URI) and the
/// upstream it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CatalogItem {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
}

/// Everything policies are written against: tools (typed inputs), prompts and resources, each
/// with the server it comes from. Saved as JSON, it is the catalog snapshot that
/// `toolgate policy … --catalog FILE` checks policies against without reaching the upstreams.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    pub tools: Vec<ToolDescriptor>,
    #[serde(default)]
    pub prompts: Vec<CatalogItem>,
    #[serde(default)]
    pub resources: Vec<CatalogItem>,
    /// Resource templates (RFC 6570 URI templates): a resource read by a URI no listing named
    /// belongs to the server whose template's literal prefix matches it.
    #[serde(default)]
    pub resource_templates: Vec<CatalogItem>,
}

impl Catalog {
    /// A catalog of tools only.
    pub fn of_tools(tools: Vec<ToolDescriptor>) -> Self {
        Self {
            tools,
            ..Self::default()
        }
    }
}

/// A tool call refused or failed before producing a result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolCallError {
    /// No such tool — or one the caller may not use (by default the two are indistinguishable,
    /// so callers cannot probe which tools exist).
    #[error("tool not found")]
    NotFound,
    /// Refused by policy, said explicitly (`[mcp] denial = "explicit"`).
    #[error("{0}")]
    Forbidden(String),
    /// Arguments the tool (or its schema) refused.
    #[error("invalid arguments: {0}")]
    InvalidArguments(String),
    /// Refused by a rate limit before policy: retry after this long (REST answers 429 with
    /// `Retry-After`, RFC 6585 §4).
    #[error("rate limited ({scope} limit); retry after {retry_after:?}")]
    RateLimited {
        retry_after: std::time::Duration,
        scope: crate::rate_limit::LimitScope,
    },
    /// The rate limits could not be checked (their state store did not answer) and they fail
    /// closed: REST answers 503 with `Retry-After`.
    #[error("rate limits unavailable; retry after {retry_after:?}")]
    Unavailable { retry_after: std::time::Duration },
    /// The tool, its upstream or the gate failed (JSON-RPC error code and message, for logs).
    #[error("{message} (code {code})")]
    Failed { code: i64, message: String },
}

/// Calls tools on behalf of a principal through the same gate MCP uses (policy, audit): the
/// REST API's way to run a tool.
#[async_trait::async_trait]
pub trait ToolInvoker: Send + Sync + 'static {
    /// Returns the MCP `CallToolResult` as JSON (`content`, `isError`, …).
    ///
    /// `authorization` is the caller's own `Authorization` header: tools (and gateway upstreams
    /// reached On-Behalf-Of the caller) see it as they would over MCP.
    async fn invoke(
        &self,
        principal: std::sync::Arc<crate::Principal>,
        request_id: String,
        authorization: Option<http::HeaderValue>,
        tool: &str,
        arguments: serde_json::Map<String, Value>,
    ) -> Result<Value, ToolCallError>;
}

//! How a refused call is answered.

use rmcp::ErrorData as McpError;
use rmcp::model::ErrorCode;
use serde::Deserialize;

/// By default a denied or hidden tool gets exactly the error an unknown tool gets, so callers
/// cannot probe which tools exist. `Explicit` says "forbidden" instead (friendlier for
/// debugging, leaks existence).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DenialStyle {
    #[default]
    AsUnknownTool,
    Explicit,
}

impl DenialStyle {
    /// A refused prompts/get: like a missing prompt (rmcp's prompt router's words) by default.
    pub fn prompt_error(self, name: &str) -> McpError {
        match self {
            Self::AsUnknownTool => McpError::invalid_params(format!("prompt '{name}' not found"), None),
            Self::Explicit => McpError::new(
                ErrorCode::INVALID_REQUEST,
                format!("prompt `{name}` is forbidden by policy"),
                None,
            ),
        }
    }

    /// A refused resources/read: like a missing resource by default.
    pub fn resource_error(self, uri: &str) -> McpError {
        match self {
            Self::AsUnknownTool => McpError::resource_not_found(format!("resource '{uri}' not found"), None),
            Self::Explicit => McpError::new(
                ErrorCode::INVALID_REQUEST,
                format!("resource `{uri}` is forbidden by policy"),
                None,
            ),
        }
    }

    pub fn error(self, tool: &str) -> McpError {
        match self {
            // rmcp's ToolRouter answers an unknown tool with exactly this.
            Self::AsUnknownTool => McpError::invalid_params(UNKNOWN_TOOL, None),
            Self::Explicit => McpError::new(
                ErrorCode::INVALID_REQUEST,
                format!("calling tool `{tool}` is forbidden by policy"),
                None,
            ),
        }
    }
}

/// rmcp's words for a tool it does not have — and so, by default, the gate's for a refused one.
pub const UNKNOWN_TOOL: &str = "tool not found";

/// What a refused or failed `tools/call` was, for callers outside MCP (the REST API): the gate
/// and rmcp speak JSON-RPC errors; this reads them in one place.
pub fn classify(error: &McpError) -> toolgate_core::ToolCallError {
    use toolgate_core::ToolCallError;
    if let Some(throttled) = crate::throttle::classify(error) {
        return throttled;
    }
    match error.code {
        ErrorCode::INVALID_PARAMS if error.message == UNKNOWN_TOOL => ToolCallError::NotFound,
        // `denial = "explicit"`.
        ErrorCode::INVALID_REQUEST => ToolCallError::Forbidden(error.message.to_string()),
        ErrorCode::INVALID_PARAMS => ToolCallError::InvalidArguments(error.message.to_string()),
        code => ToolCallError::Failed {
            code: i64::from(code.0),
            message: error.message.to_string(),
        },
    }
}

/// A request that reached the MCP layer without a principal: the endpoint was mounted without
/// authentication. Refuse (fail closed).
pub fn unauthenticated() -> McpError {
    McpError::new(ErrorCode::INVALID_REQUEST, "unauthenticated", None)
}

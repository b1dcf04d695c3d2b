//! `GET /tools`: the tools this caller may see (the same list `tools/list` gives over MCP).

use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use toolgate_core::{RequestId, ToolCallError};

use super::admin::{ApiError, parse_error_message};

fn call_bad_request(error: poem::Error) -> CallResult {
    CallResult::BadRequest(ApiError::new("invalid_request", parse_error_message(&error)))
}

use super::ApiTags;
use crate::context::ApiContext;
use crate::docs::authenticated;
use crate::security::Caller;

#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ToolView {
    pub name: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub read_only: Option<bool>,
    pub destructive: Option<bool>,
    /// The tool's JSON Schema for its arguments.
    pub input_schema: serde_json::Value,
}

pub struct ToolsApi;

#[OpenApi]
impl ToolsApi {
    /// Tools the caller may use: listed when some call of the tool could be permitted.
    #[oai(
        path = "/tools",
        operation_id = "listTools",
        method = "get",
        tag = "ApiTags::Caller",
        transform = "authenticated"
    )]
    async fn tools(&self, auth: Caller, context: Data<&ApiContext>) -> Json<Vec<ToolView>> {
        let catalog = context.catalog.catalog();
        let names: Vec<&str> = catalog.tools.iter().map(|tool| tool.name.as_str()).collect();
        let listable = context.policy.listable(auth.principal(), &names);
        let visible = catalog
            .tools
            .iter()
            .zip(listable)
            .filter_map(|(tool, listed)| listed.then_some(tool))
            .map(|tool| ToolView {
                name: tool.name.clone(),
                description: tool.description.clone(),
                tags: tool.tags.clone(),
                read_only: tool.annotations.read_only,
                destructive: tool.annotations.destructive,
                input_schema: tool.input_schema.clone(),
            })
            .collect();
        Json(visible)
    }

    /// Call a tool with JSON arguments, governed by the same policies and audit as `tools/call`.
    /// A tool the caller may not call answers exactly like a tool that does not exist.
    #[oai(
        path = "/tools/:name",
        operation_id = "callTool",
        method = "post",
        tag = "ApiTags::Caller",
        transform = "authenticated"
    )]
    async fn call(
        &self,
        auth: Caller,
        context: Data<&ApiContext>,
        request: &poem::Request,
        name: Path<String>,
        arguments: Json<std::collections::BTreeMap<String, serde_json::Value>>,
    ) -> CallResult {
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(|id| id.0.clone())
            .unwrap_or_default();
        match context
            .tools
            .invoke(
                auth.principal().clone(),
                request_id,
                request.headers().get(poem::http::header::AUTHORIZATION).cloned(),
                &name.0,
                arguments.0.into_iter().collect(),
            )
            .await
        {
            Ok(result) => CallResult::Ok(Json(result)),
            Err(ToolCallError::NotFound) => CallResult::NotFound(ApiError::new("not_found", "tool not found")),
            Err(ToolCallError::Forbidden(message)) => CallResult::Forbidden(ApiError::new("forbidden", message)),
            Err(ToolCallError::InvalidArguments(message)) => {
                CallResult::BadRequest(ApiError::new("invalid_request", message))
            }
            Err(ToolCallError::RateLimited { retry_after, scope }) => CallResult::TooManyRequests(
                ApiError::new("rate_limited", format!("rate limit exceeded ({scope} limit)")),
                toolgate_core::retry_after_seconds(retry_after),
            ),
            Err(ToolCallError::Unavailable { retry_after }) => CallResult::Unavailable(
                ApiError::new("temporarily_unavailable", "rate limits unavailable; retry shortly"),
                toolgate_core::retry_after_seconds(retry_after),
            ),
            Err(error @ ToolCallError::Failed { .. }) => {
                tracing::warn!(tool = %name.0, %error, "REST tool call failed");
                CallResult::Failed(ApiError::new("tool_failed", "the tool call failed"))
            }
        }
    }
}

#[derive(ApiResponse)]
#[oai(bad_request_handler = "call_bad_request")]
pub enum CallResult {
    /// The MCP `CallToolResult` (`content`, `isError`, …).
    #[oai(status = 200)]
    Ok(Json<serde_json::Value>),
    /// Arguments the tool refused, or a body that is not a JSON object.
    #[oai(status = 400)]
    BadRequest(Json<ApiError>),
    /// Refused by policy (only with `[mcp] denial = "explicit"`).
    #[oai(status = 403)]
    Forbidden(Json<ApiError>),
    /// No such tool, or (by default) one the caller may not call.
    #[oai(status = 404)]
    NotFound(Json<ApiError>),
    /// The body is over 1 MiB (refused before authentication and parsing).
    #[oai(status = 413)]
    PayloadTooLarge(Json<ApiError>),
    /// A rate limit refused the call (RFC 6585 §4); retry after `Retry-After` seconds.
    #[oai(status = 429)]
    TooManyRequests(Json<ApiError>, #[oai(header = "Retry-After")] u64),
    #[oai(status = 502)]
    Failed(Json<ApiError>),
    /// The rate limits could not be checked (their store is down); retry after `Retry-After`.
    #[oai(status = 503)]
    Unavailable(Json<ApiError>, #[oai(header = "Retry-After")] u64),
}

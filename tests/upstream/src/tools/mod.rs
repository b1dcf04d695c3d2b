//! `tools/call`: argument decoding and dispatch to the conformance and gateway test tools.

mod conformance;
mod elicitation;
mod gateway;

use rmcp::model::{CallToolRequestParams, CallToolResult, ContentBlock, JsonObject};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer};
use serde::de::DeserializeOwned;

use crate::catalog::BuiltinTool;
use crate::server::Upstream;

/// Runs tool `request.name`.
///
/// Errors (JSON-RPC): `-32602` for an unknown tool or arguments that do not match the tool's schema.
/// A tool that runs and fails answers `Ok` with `isError: true`.
pub(crate) async fn call(
    upstream: &Upstream,
    request: CallToolRequestParams,
    cx: RequestContext<RoleServer>,
) -> Result<CallToolResult, ErrorData> {
    let arguments = request.arguments.unwrap_or_default();
    let Some(tool) = BuiltinTool::from_name(&request.name) else {
        return match upstream.shared.dynamic_tool(&request.name) {
            Some(tool) => Ok(CallToolResult::success(vec![ContentBlock::text(tool.name)])),
            None => Err(ErrorData::invalid_params(
                format!("unknown tool `{}`", request.name.chars().take(128).collect::<String>()),
                None,
            )),
        };
    };
    match tool {
        BuiltinTool::SimpleText => Ok(conformance::simple_text()),
        BuiltinTool::ImageContent => Ok(conformance::image()),
        BuiltinTool::AudioContent => Ok(conformance::audio()),
        BuiltinTool::EmbeddedResource => Ok(conformance::embedded_resource()),
        BuiltinTool::MultipleContentTypes => Ok(conformance::multiple_content_types()),
        BuiltinTool::ToolWithLogging => conformance::with_logging(upstream, &cx).await,
        BuiltinTool::ErrorHandling => Ok(conformance::error_handling()),
        BuiltinTool::ToolWithProgress => conformance::with_progress(&cx).await,
        BuiltinTool::Sampling => conformance::sampling(decode(arguments)?, &cx).await,
        BuiltinTool::Elicitation => elicitation::simple(decode(arguments)?, &cx).await,
        BuiltinTool::ElicitationSep1034Defaults => elicitation::defaults(&cx).await,
        BuiltinTool::ElicitationSep1330Enums => elicitation::enums(&cx).await,
        BuiltinTool::JsonSchema202012 => Ok(CallToolResult::success(text(format!(
            "JSON Schema 2020-12 tool called with: {}",
            serde_json::Value::Object(arguments)
        )))),
        BuiltinTool::Echo => Ok(gateway::echo(decode(arguments)?)),
        BuiltinTool::Whoami => Ok(gateway::whoami(&cx)),
        BuiltinTool::Transfer => Ok(gateway::transfer(decode(arguments)?)),
        BuiltinTool::AddTool => Ok(gateway::add_tool(upstream, decode(arguments)?).await),
        BuiltinTool::Hang => gateway::hang(upstream, &cx).await,
        BuiltinTool::Sleep => gateway::sleep(upstream, decode(arguments)?, &cx).await,
        BuiltinTool::Crash => gateway::crash(upstream).await,
    }
}

/// The arguments as `T`; `-32602` naming the mismatch otherwise.
fn decode<T: DeserializeOwned>(arguments: JsonObject) -> Result<T, ErrorData> {
    serde_json::from_value(serde_json::Value::Object(arguments))
        .map_err(|e| ErrorData::invalid_params(format!("invalid arguments: {e}"), None))
}

fn text(s: impl Into<String>) -> Vec<ContentBlock> {
    vec![ContentBlock::text(s)]
}

//! The tools of the conformance suite's `tools-call-*` scenarios.
#![allow(
    deprecated,
    reason = "logging and sampling are deprecated by SEP-2577 but are what the scenarios test"
)]

use std::time::Duration;

use rmcp::model::{
    CallToolResult, ContentBlock, CreateMessageRequestParams, LoggingLevel, LoggingMessageNotificationParam,
    ProgressNotificationParam, ResourceContents, SamplingMessage,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer};
use serde::Deserialize;
use serde_json::json;

use super::text;
use crate::catalog::{PNG_BASE64, WAV_BASE64};
use crate::server::Upstream;

/// Pause between the log messages and the progress steps.
const STEP: Duration = Duration::from_millis(50);
/// `maxTokens` of the sampling request.
const SAMPLING_MAX_TOKENS: u32 = 100;

pub(super) fn simple_text() -> CallToolResult {
    CallToolResult::success(text("This is a simple text response for testing."))
}

pub(super) fn image() -> CallToolResult {
    CallToolResult::success(vec![ContentBlock::image(PNG_BASE64, "image/png")])
}

pub(super) fn audio() -> CallToolResult {
    CallToolResult::success(vec![ContentBlock::audio(WAV_BASE64, "audio/wav")])
}

pub(super) fn embedded_resource() -> CallToolResult {
    CallToolResult::success(vec![ContentBlock::resource(
        ResourceContents::text("This is an embedded resource content.", "test://embedded-resource")
            .with_mime_type("text/plain"),
    )])
}

pub(super) fn multiple_content_types() -> CallToolResult {
    CallToolResult::success(vec![
        ContentBlock::text("Multiple content types test:"),
        ContentBlock::image(PNG_BASE64, "image/png"),
        ContentBlock::resource(
            ResourceContents::text(
                json!({"test": "data", "value": 123}).to_string(),
                "test://mixed-content-resource",
            )
            .with_mime_type("application/json"),
        ),
    ])
}

pub(super) fn error_handling() -> CallToolResult {
    CallToolResult::error(text("This tool intentionally returns an error for testing"))
}

/// Three `notifications/message` at info level, 50 ms apart (filtered by `logging/setLevel`).
pub(super) async fn with_logging(
    upstream: &Upstream,
    cx: &RequestContext<RoleServer>,
) -> Result<CallToolResult, ErrorData> {
    let messages = [
        "Tool execution started",
        "Tool processing data",
        "Tool execution completed",
    ];
    for (i, message) in messages.into_iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(STEP).await;
        }
        if upstream.logs(LoggingLevel::Info) {
            cx.peer
                .notify_logging_message(
                    LoggingMessageNotificationParam::new(LoggingLevel::Info, json!(message))
                        .with_logger("test_tool_with_logging"),
                )
                .await
                .map_err(|e| ErrorData::internal_error(format!("sending a log message: {e}"), None))?;
        }
    }
    Ok(CallToolResult::success(text("Tool with logging executed successfully")))
}

/// Progress 0, 50, 100 of 100 for the request's `_meta.progressToken` (none without a token).
pub(super) async fn with_progress(cx: &RequestContext<RoleServer>) -> Result<CallToolResult, ErrorData> {
    let token = cx.meta.get_progress_token();
    for (i, progress) in [0.0, 50.0, 100.0].into_iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(STEP).await;
        }
        if let Some(token) = &token {
            cx.peer
                .notify_progress(ProgressNotificationParam::new(token.clone(), progress).with_total(100.0))
                .await
                .map_err(|e| ErrorData::internal_error(format!("sending progress: {e}"), None))?;
        }
    }
    Ok(CallToolResult::success(text(format!(
        "Tool with progress executed successfully (progress token: {})",
        token.map_or_else(|| "none".to_owned(), |t| json!(t).to_string())
    ))))
}

#[derive(Deserialize)]
pub(super) struct SamplingArgs {
    prompt: String,
}

/// Asks the client to sample `prompt` (`sampling/createMessage`); the answer's text comes back.
pub(super) async fn sampling(args: SamplingArgs, cx: &RequestContext<RoleServer>) -> Result<CallToolResult, ErrorData> {
    let supported = cx
        .peer
        .peer_info()
        .is_some_and(|info| info.capabilities.sampling.is_some());
    if !supported {
        return Ok(CallToolResult::error(text(
            "the client did not declare the sampling capability",
        )));
    }
    let params = CreateMessageRequestParams::new(vec![SamplingMessage::user_text(args.prompt)], SAMPLING_MAX_TOKENS);
    match cx.peer.create_message(params).await {
        Ok(result) => {
            let answer = serde_json::to_value(&result.message.content).unwrap_or_default();
            let answer = answer
                .get("text")
                .and_then(|t| t.as_str())
                .map_or_else(|| answer.to_string(), str::to_owned);
            Ok(CallToolResult::success(text(format!("LLM response: {answer}"))))
        }
        Err(e) => Ok(CallToolResult::error(text(format!("sampling failed: {e}")))),
    }
}

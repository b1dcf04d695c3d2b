//! The tools gateway tests use: cheap echo, the caller's token claims, typed arguments for policies,
//! tools added at run time, and calls that hang, sleep or crash the server.

use std::sync::atomic::Ordering;
use std::time::Duration;

use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer};
use serde::Deserialize;

use super::text;
use crate::catalog::MAX_SLEEP_MS;
use crate::claims;
use crate::server::Upstream;

#[derive(Deserialize)]
pub(super) struct EchoArgs {
    text: String,
}

pub(super) fn echo(args: EchoArgs) -> CallToolResult {
    CallToolResult::success(text(args.text))
}

/// The claims [`claims::WHOAMI_CLAIMS`] of the bearer token on the HTTP request that carried this call,
/// as JSON (text and structured content); `isError` when there is no HTTP request (stdio) or no
/// decodable bearer token.
pub(super) fn whoami(cx: &RequestContext<RoleServer>) -> CallToolResult {
    let Some(parts) = cx.extensions.get::<http::request::Parts>() else {
        return CallToolResult::error(text(
            "whoami needs streamable HTTP: this request carried no HTTP headers",
        ));
    };
    match claims::request_claims(&parts.headers) {
        Ok(claims) => CallToolResult::structured(claims::whoami(&claims)),
        Err(e) => CallToolResult::error(text(e.to_string())),
    }
}

/// A `transfer` currency (the schema's enum).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub(super) enum Currency {
    #[serde(rename = "EUR")]
    Eur,
    #[serde(rename = "USD")]
    Usd,
}

impl Currency {
    fn code(self) -> &'static str {
        match self {
            Self::Eur => "EUR",
            Self::Usd => "USD",
        }
    }
}

#[derive(Deserialize)]
pub(super) struct TransferArgs {
    amount: i64,
    currency: Currency,
}

pub(super) fn transfer(args: TransferArgs) -> CallToolResult {
    CallToolResult::success(text(format!("transferred {} {}", args.amount, args.currency.code())))
}

#[derive(Deserialize)]
pub(super) struct AddToolArgs {
    name: String,
}

pub(super) async fn add_tool(upstream: &Upstream, args: AddToolArgs) -> CallToolResult {
    if let Err(e) = upstream.shared.add_tool(&args.name) {
        return CallToolResult::error(text(e.to_string()));
    }
    let notified = upstream.shared.notify_tools_changed().await;
    CallToolResult::success(text(format!(
        "added tool `{}`; notified {notified} session(s)",
        args.name
    )))
}

/// Waits for the call's cancellation (`notifications/cancelled`, or the session ending).
pub(super) async fn hang(upstream: &Upstream, cx: &RequestContext<RoleServer>) -> Result<CallToolResult, ErrorData> {
    cx.ct.cancelled().await;
    upstream.shared.cancelled_calls.fetch_add(1, Ordering::Relaxed);
    Err(ErrorData::internal_error("cancelled", None))
}

#[derive(Deserialize)]
pub(super) struct SleepArgs {
    ms: u64,
}

pub(super) async fn sleep(
    upstream: &Upstream,
    args: SleepArgs,
    cx: &RequestContext<RoleServer>,
) -> Result<CallToolResult, ErrorData> {
    if args.ms > MAX_SLEEP_MS {
        return Err(ErrorData::invalid_params(format!("ms is at most {MAX_SLEEP_MS}"), None));
    }
    tokio::select! {
        () = tokio::time::sleep(Duration::from_millis(args.ms)) => {
            Ok(CallToolResult::success(text(format!("slept {} ms", args.ms))))
        }
        () = cx.ct.cancelled() => {
            upstream.shared.cancelled_calls.fetch_add(1, Ordering::Relaxed);
            Err(ErrorData::internal_error("cancelled", None))
        }
    }
}

/// Ends the server (see [`crate::server::CrashFn`]); the call never answers.
pub(super) async fn crash(upstream: &Upstream) -> Result<CallToolResult, ErrorData> {
    tracing::warn!("crash called: ending the server");
    (upstream.shared.crash)();
    std::future::pending().await
}

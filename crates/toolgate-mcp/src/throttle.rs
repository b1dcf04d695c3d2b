//! Rate limits as MCP speaks them: the JSON-RPC error a refused request gets, and how the gate
//! asks the limiter ([`admit`]) before policy.
//!
//! JSON-RPC 2.0 §5.1 leaves `-32000` to `-32099` to implementations ("server error"); MCP does
//! not define a rate-limit error, so toolgate answers [`RATE_LIMITED`] (`-32029`, after HTTP
//! 429) with `data: { "retryAfterSeconds": n, "limit": "tool" | "upstream" | "principal" }`.
//! When the counters cannot be read and limits fail closed, the answer is an internal error
//! (`-32603`) with `data: { "retryAfterSeconds": 1, "reason": "rate_limits_unavailable" }`.

use rmcp::ErrorData as McpError;
use rmcp::model::ErrorCode;
use serde_json::json;
use toolgate_core::{AuditOutcome, LimitScope, LimitedItem, Principal, RateLimited, RateLimiter, Throttled};

/// The JSON-RPC error code of a rate-limited request.
pub const RATE_LIMITED: ErrorCode = ErrorCode(-32029);

/// `data.reason` when the limits could not be checked.
pub const LIMITS_UNAVAILABLE_REASON: &str = "rate_limits_unavailable";

/// `-32029` with when to retry and which limit refused.
pub fn rate_limited_error(limited: &RateLimited) -> McpError {
    McpError::new(
        RATE_LIMITED,
        format!(
            "rate limit exceeded ({} limit); retry after {} s",
            limited.scope,
            limited.retry_after_seconds()
        ),
        Some(json!({
            "retryAfterSeconds": limited.retry_after_seconds(),
            "limit": limited.scope.as_str(),
        })),
    )
}

/// `-32603` with `retryAfterSeconds: 1`: the limiter's store did not answer (fail closed).
pub fn limits_unavailable_error() -> McpError {
    McpError::internal_error(
        "rate limits unavailable; retry shortly",
        Some(json!({ "retryAfterSeconds": 1, "reason": LIMITS_UNAVAILABLE_REASON })),
    )
}

/// The JSON-RPC error, the audit outcome and the reason code of a request the limiter did not
/// admit.
pub(crate) struct Refused {
    pub error: McpError,
    pub outcome: AuditOutcome,
    pub reason: &'static str,
}

/// Asks `limiter` about one call of `item` by `principal`.
pub(crate) async fn admit(
    limiter: &dyn RateLimiter,
    principal: &Principal,
    item: LimitedItem<'_>,
) -> Result<(), Refused> {
    match limiter.admit_item(principal, item).await {
        Ok(()) => Ok(()),
        Err(Throttled::Limited(limited)) => {
            tracing::info!(limit = %limited.scope, retry_after_ms = limited.retry_after.as_millis() as u64,
                item = %toolgate_core::text::bounded(item.name, 128), "request refused by a rate limit");
            Err(Refused {
                error: rate_limited_error(&limited),
                outcome: AuditOutcome::RateLimited,
                reason: limited.scope.reason_code(),
            })
        }
        Err(Throttled::StoreUnavailable) => Err(Refused {
            error: limits_unavailable_error(),
            outcome: AuditOutcome::Error,
            reason: "rate_limit_store_unavailable",
        }),
    }
}

/// Reads a gate error back as a rate-limit refusal (for the REST API), if it is one.
pub(crate) fn classify(error: &McpError) -> Option<toolgate_core::ToolCallError> {
    use toolgate_core::ToolCallError;
    let data = error.data.as_ref()?;
    let seconds = data.get("retryAfterSeconds")?.as_u64()?;
    let retry_after = std::time::Duration::from_secs(seconds);
    if error.code == RATE_LIMITED {
        let scope = match data.get("limit")?.as_str()? {
            "principal" => LimitScope::Principal,
            "tool" => LimitScope::Tool,
            "upstream" => LimitScope::Upstream,
            _ => return None,
        };
        return Some(ToolCallError::RateLimited { retry_after, scope });
    }
    if error.code == ErrorCode::INTERNAL_ERROR
        && data.get("reason").and_then(|r| r.as_str()) == Some(LIMITS_UNAVAILABLE_REASON)
    {
        return Some(ToolCallError::Unavailable { retry_after });
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_error_carries_retry_information_and_reads_back() {
        let limited = RateLimited {
            scope: LimitScope::Tool,
            retry_after: Duration::from_millis(1500),
        };
        let error = rate_limited_error(&limited);
        assert_eq!(error.code.0, -32029);
        let data = error.data.clone().unwrap();
        assert_eq!(data["retryAfterSeconds"], 2);
        assert_eq!(data["limit"], "tool");
        assert_eq!(
            classify(&error),
            Some(toolgate_core::ToolCallError::RateLimited {
                retry_after: Duration::from_secs(2),
                scope: LimitScope::Tool
            })
        );
        assert_eq!(
            classify(&limits_unavailable_error()),
            Some(toolgate_core::ToolCallError::Unavailable {
                retry_after: Duration::from_secs(1)
            })
        );
        assert_eq!(classify(&McpError::internal_error("boom", None)), None);
    }
}

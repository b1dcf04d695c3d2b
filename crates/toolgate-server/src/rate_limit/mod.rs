//! Rate limits (issue #11 §4, `docs/rate-limits.md`): the rules ([`rules`]), counted in the
//! shared state store ([`limiter`], GCRA), enforced per principal at the HTTP edge
//! ([`middleware`]: REST operations, and the MCP edge once it has routed a request) and per tool and upstream in the MCP gate
//! ([`toolgate_mcp::GateShared::with_rate_limits`]).
//!
//! ```text
//! request → provider → principal → per-principal limit → MCP edge → gate: tool/upstream limits → policy → tool
//! ```

mod limiter;
mod middleware;
mod rules;

pub use limiter::RateLimits;
pub(crate) use middleware::refuse_mcp_if_limited;
pub use middleware::{PrincipalRateLimit, PrincipalRateLimitEndpoint, RequestRateLimit, provide};
pub use rules::{InvalidPattern, Limits, RateLimitRules, StoreFailure, ToolPattern, ToolRule, UpstreamRule};

//! `[rate_limits]` as users write it (see `docs/rate-limits.md`); checked into
//! [`toolgate_server::rate_limit::RateLimitRules`] by `build::rate_limits`.

use serde::Deserialize;

/// `[rate_limits]`: nothing is limited unless a limit is written here.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitsSection {
    /// Every MCP `POST` and every REST operation of one principal.
    #[serde(default)]
    pub per_principal: Option<RateSection>,
    /// `refuse` (default: 503, fail closed) or `allow` (unlimited while the store is down).
    #[serde(default)]
    pub on_store_unavailable: OnStoreUnavailable,
    /// `[[rate_limits.tool]]`: limits on calls of tools by name or glob.
    #[serde(default)]
    pub tool: Vec<ScopedRateSection>,
    /// `[[rate_limits.upstream]]`: limits on every request forwarded to one upstream.
    #[serde(default)]
    pub upstream: Vec<ScopedRateSection>,
}

/// `{ requests = 600, per_seconds = 60, burst = 100 }`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateSection {
    pub requests: u64,
    pub per_seconds: u64,
    /// Requests admitted at once after a quiet spell. Default: `requests`.
    #[serde(default)]
    pub burst: Option<u64>,
}

/// A tool pattern or an upstream name, with each principal's limit and everyone's together.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopedRateSection {
    pub name: String,
    #[serde(default)]
    pub per_principal: Option<RateSection>,
    #[serde(default)]
    pub total: Option<RateSection>,
}

/// What to do while the state store holding the counters does not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnStoreUnavailable {
    #[default]
    Refuse,
    Allow,
}

//! `[rate_limits]` → the rules in force, counted in the state store. Every zero, every pattern
//! that is not a tool name or glob, and every upstream name that no `[[upstream]]` (or in-process
//! handler) has is an error naming its key; an exact tool name the discovered catalog does not
//! have is a warning (an upstream may still be starting).

use std::sync::Arc;
use std::time::Duration;

use toolgate_server::rate_limit::{
    Limits, RateLimitRules, RateLimits, StoreFailure, ToolPattern, ToolRule, UpstreamRule,
};
use toolgate_store::{Gcra, InvalidLimit, StateStore};

use crate::config::rate_limits::{OnStoreUnavailable, RateSection, ScopedRateSection};
use crate::config::{ConfigError, LoadedConfig};

/// The limiter, or `None` when `[rate_limits]` limits nothing.
pub(crate) fn rate_limits(
    config: &LoadedConfig,
    store: Arc<dyn StateStore>,
    upstream_names: &[String],
    tool_names: &[String],
) -> Result<Option<Arc<RateLimits>>, ConfigError> {
    let section = &config.raw.rate_limits;
    let per_principal = section
        .per_principal
        .map(|rate| gcra(config, None, "rate_limits.per_principal", rate))
        .transpose()?;
    let mut tools = Vec::new();
    for (i, rule) in section.tool.iter().enumerate() {
        let key = format!("rate_limits.tool[{i}]");
        let pattern = ToolPattern::parse(&rule.name)
            .map_err(|e| config.error_in_section("rate_limits.tool", &format!("{key}.name"), e))?;
        if !pattern.is_glob() && !tool_names.iter().any(|t| t == pattern.as_str()) {
            tracing::warn!(tool = pattern.as_str(), key = %key,
                "a rate-limited tool is not in the catalog (yet): the limit applies once it appears");
        }
        let limits = limits(config, "rate_limits.tool", &key, rule)?;
        tools.push(ToolRule { pattern, limits });
    }
    let mut upstreams = Vec::new();
    for (i, rule) in section.upstream.iter().enumerate() {
        let key = format!("rate_limits.upstream[{i}]");
        if !upstream_names.iter().any(|n| n == &rule.name) {
            return Err(config.error_in_section(
                "rate_limits.upstream",
                &format!("{key}.name"),
                format!(
                    "no upstream is named {:?} (the upstreams are: {})",
                    rule.name,
                    upstream_names.join(", ")
                ),
            ));
        }
        let limits = limits(config, "rate_limits.upstream", &key, rule)?;
        upstreams.push(UpstreamRule {
            name: rule.name.clone(),
            limits,
        });
    }
    let rules = RateLimitRules {
        per_principal,
        tools,
        upstreams,
        on_store_unavailable: match section.on_store_unavailable {
            OnStoreUnavailable::Refuse => StoreFailure::Refuse,
            OnStoreUnavailable::Allow => StoreFailure::Allow,
        },
    };
    if rules.is_empty() {
        return Ok(None);
    }
    Ok(Some(Arc::new(RateLimits::new(rules, store))))
}

fn limits(config: &LoadedConfig, section: &str, key: &str, rule: &ScopedRateSection) -> Result<Limits, ConfigError> {
    if rule.per_principal.is_none() && rule.total.is_none() {
        return Err(config.error_in_section(
            section,
            key,
            "needs `per_principal`, `total` or both (e.g. per_principal = { requests = 10, per_seconds = 60 })",
        ));
    }
    let per_principal = rule
        .per_principal
        .map(|rate| gcra(config, Some(section), &format!("{key}.per_principal"), rate))
        .transpose()?;
    let total = rule
        .total
        .map(|rate| gcra(config, Some(section), &format!("{key}.total"), rate))
        .transpose()?;
    Ok(Limits { per_principal, total })
}

fn gcra(config: &LoadedConfig, section: Option<&str>, key: &str, rate: RateSection) -> Result<Gcra, ConfigError> {
    let error = |field: &str, message: String| {
        let key = format!("{key}.{field}");
        match section {
            Some(section) => config.error_in_section(section, &key, message),
            None => config.error(&key, message),
        }
    };
    // `Gcra::new` owns every check; each refusal is reported at the key it is about.
    Gcra::new(
        rate.requests,
        Duration::from_secs(rate.per_seconds),
        rate.burst.unwrap_or(rate.requests),
    )
    .map_err(|invalid| {
        let field = match invalid {
            InvalidLimit::NoRequests | InvalidLimit::TooFast => "requests",
            InvalidLimit::NoPeriod => "per_seconds",
            InvalidLimit::NoBurst | InvalidLimit::TooLong => "burst",
        };
        error(field, invalid.to_string())
    })
}

//! Latency of the stages a request passes through, as histograms shared by the whole process.
//!
//! The stages are timed where they run — authentication in the HTTP middleware, the policy
//! decision and the wrapped handler's (upstream's) answer in the gate — by code that has no
//! handle on a particular gateway's registry; so the histograms are process-wide (like a
//! Prometheus client's default registry) and every gateway's registry exposes them. One process
//! normally runs one gateway; an embedder running two sees both in each.

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use prometheus_client::metrics::histogram::Histogram;

/// Bucket bounds in seconds: 100 µs to 30 s. Authentication and policy decisions live in the
/// lower half (a cached-key JWT check, a Cedar evaluation), upstream calls in the upper.
pub const BUCKETS: [f64; 17] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// A timed stage of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The auth provider authenticating a request (token validation, key look-up).
    Auth,
    /// A policy decision on one tool call, prompt or resource.
    Policy,
    /// The wrapped handler answering an allowed request (in gateway mode: the upstream call).
    Upstream,
}

impl Stage {
    pub const ALL: [Stage; 3] = [Stage::Auth, Stage::Policy, Stage::Upstream];

    /// The metric's name (without the `toolgate_` prefix and `_seconds` unit suffix).
    pub fn metric_name(self) -> &'static str {
        match self {
            Stage::Auth => "auth_duration",
            Stage::Policy => "policy_duration",
            Stage::Upstream => "upstream_duration",
        }
    }

    pub fn help(self) -> &'static str {
        match self {
            Stage::Auth => "Time the auth provider took to authenticate a request",
            Stage::Policy => "Time one policy decision took (tool call, prompt, resource)",
            Stage::Upstream => {
                "Time the wrapped handler (in gateway mode, the upstream) took to answer an allowed request"
            }
        }
    }

    /// The process-wide histogram of this stage.
    pub fn histogram(self) -> &'static Histogram {
        match self {
            Stage::Auth => &AUTH,
            Stage::Policy => &POLICY,
            Stage::Upstream => &UPSTREAM,
        }
    }

    /// Records one run of this stage that took `elapsed`.
    pub fn observe(self, elapsed: Duration) {
        self.histogram().observe(elapsed.as_secs_f64());
    }

    /// Starts timing a run; it is recorded when the timer is dropped (so an early return or a
    /// cancelled future is timed too).
    pub fn timer(self) -> StageTimer {
        StageTimer {
            stage: self,
            started: Instant::now(),
        }
    }
}

fn histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

static AUTH: LazyLock<Histogram> = LazyLock::new(histogram);
static POLICY: LazyLock<Histogram> = LazyLock::new(histogram);
static UPSTREAM: LazyLock<Histogram> = LazyLock::new(histogram);

/// Times one run of a [`Stage`] until dropped.
#[derive(Debug)]
pub struct StageTimer {
    stage: Stage,
    started: Instant,
}

impl Drop for StageTimer {
    fn drop(&mut self) {
        self.stage.observe(self.started.elapsed());
    }
}

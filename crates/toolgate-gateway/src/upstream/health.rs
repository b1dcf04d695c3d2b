//! Each upstream's state, for readiness (`/api/v1/ready`) and the logs.

use std::time::Duration;

use parking_lot::Mutex;
use serde::Serialize;
use tokio::time::Instant;

/// Whether an upstream answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UpstreamState {
    /// Not contacted yet.
    Unknown,
    Up,
    /// The last attempt failed; the next one is held back until the backoff has passed.
    Down,
}

/// What readiness shows of an upstream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpstreamStatus {
    pub name: String,
    pub transport: &'static str,
    pub state: UpstreamState,
    /// Why it is down (no secrets: an error kind and a bounded message).
    pub last_error: Option<String>,
    /// Consecutive failed attempts.
    pub failures: u32,
}

/// Shortest and longest wait between attempts to reach a failing upstream.
pub const BACKOFF_MIN: Duration = Duration::from_millis(500);
pub const BACKOFF_MAX: Duration = Duration::from_secs(30);

#[derive(Debug)]
struct Inner {
    state: UpstreamState,
    last_error: Option<String>,
    failures: u32,
    retry_at: Option<Instant>,
}

/// The health of one upstream, shared by its catalog connection and every session.
#[derive(Debug)]
pub struct Health {
    name: String,
    transport: &'static str,
    inner: Mutex<Inner>,
}

impl Health {
    pub fn new(name: &str, transport: &'static str) -> Self {
        Self {
            name: name.to_owned(),
            transport,
            inner: Mutex::new(Inner {
                state: UpstreamState::Unknown,
                last_error: None,
                failures: 0,
                retry_at: None,
            }),
        }
    }

    pub fn up(&self) {
        let mut inner = self.inner.lock();
        if inner.state != UpstreamState::Up {
            tracing::info!(upstream = %self.name, "upstream is up");
        }
        inner.state = UpstreamState::Up;
        inner.failures = 0;
        inner.retry_at = None;
        inner.last_error = None;
    }

    /// Records a failure; returns how long to wait before the next attempt.
    pub fn down(&self, error: &str) -> Duration {
        let mut inner = self.inner.lock();
        inner.failures = inner.failures.saturating_add(1);
        let exponent = inner.failures.saturating_sub(1).min(16);
        let wait = BACKOFF_MIN.saturating_mul(1u32 << exponent).min(BACKOFF_MAX);
        if inner.state != UpstreamState::Down || inner.failures.is_power_of_two() {
            tracing::warn!(upstream = %self.name, failures = inner.failures, retry_in = ?wait, error, "upstream unavailable");
        }
        inner.state = UpstreamState::Down;
        inner.last_error = Some(toolgate_core::text::bounded_string(error, 300));
        inner.retry_at = Some(Instant::now() + wait);
        wait
    }

    /// `Some(wait)` while a failing upstream's backoff runs: callers fail fast instead of
    /// queueing behind a dead upstream.
    pub fn backing_off(&self) -> Option<Duration> {
        let inner = self.inner.lock();
        inner
            .retry_at
            .and_then(|at| at.checked_duration_since(Instant::now()))
            .filter(|wait| !wait.is_zero())
    }

    pub fn state(&self) -> UpstreamState {
        self.inner.lock().state
    }

    pub fn status(&self) -> UpstreamStatus {
        let inner = self.inner.lock();
        UpstreamStatus {
            name: self.name.clone(),
            transport: self.transport,
            state: inner.state,
            last_error: inner.last_error.clone(),
            failures: inner.failures,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn failures_back_off_exponentially_up_to_a_ceiling() {
        let health = Health::new("x", "stdio");
        assert_eq!(health.down("boom"), BACKOFF_MIN);
        assert_eq!(health.down("boom"), BACKOFF_MIN * 2);
        assert!(health.backing_off().is_some());
        for _ in 0..20 {
            health.down("boom");
        }
        assert_eq!(health.down("boom"), BACKOFF_MAX);
        health.up();
        assert_eq!(health.backing_off(), None);
        assert_eq!(health.status().state, UpstreamState::Up);
    }
}

//! The writer's configuration, as embedded in the application config (`[audit]`).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::AuditError;

/// What `record()` does when the database is down and the spool has reached `spool_max_bytes`
/// (or the in-memory queue is full).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpoolFullPolicy {
    /// Wait until there is room again: requests stall, none goes unaudited.
    Block,
    /// Return `AuditUnavailable` at once: the gate refuses the request.
    #[default]
    FailClosed,
}

/// How far an SQLite commit goes before `record_durable` returns (SQLite's `synchronous` in WAL
/// mode: <https://www.sqlite.org/pragma.html#pragma_synchronous>). PostgreSQL ignores it (its
/// own `synchronous_commit` applies).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SqliteSync {
    /// The write-ahead log is written at each commit and synced at checkpoints: a committed row
    /// survives toolgate crashing or being killed, not a power cut or kernel crash in the moment
    /// after its commit. No fsync on the request path.
    #[default]
    Normal,
    /// The write-ahead log is synced at each commit: a committed row survives a power cut too.
    /// Every allowed call then waits for an fsync (group-committed with concurrent calls).
    Full,
}

/// Where audit events go and how they are batched and spooled.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditConfig {
    /// `sqlite://path/audit.db?mode=rwc` or `postgres://user:pass@host/db`.
    pub database_url: String,
    /// The spool file (JSON lines) used while the database is unreachable.
    pub spool_path: PathBuf,
    /// Above this size the spool takes no more events and `on_spool_full` applies.
    #[serde(default = "default_spool_max_bytes")]
    pub spool_max_bytes: u64,
    #[serde(default)]
    pub on_spool_full: SpoolFullPolicy,
    /// Most events per batch (one transaction; statements of up to 1,000 rows). Each batch
    /// costs one commit, so under load larger batches mean more events per second.
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// Longest an event waits in memory before its batch is written.
    #[serde(default = "default_flush_interval", deserialize_with = "duration")]
    pub flush_interval: Duration,
    /// Events waiting to be written, beyond which `on_spool_full` applies.
    #[serde(default = "default_queue_capacity")]
    pub queue_capacity: usize,
    /// How often the spool is replayed while the database is down.
    #[serde(default = "default_replay_interval", deserialize_with = "duration")]
    pub replay_interval: Duration,
    /// How long to wait for a database connection before spooling.
    #[serde(default = "default_connect_timeout", deserialize_with = "duration")]
    pub connect_timeout: Duration,
    /// SQLite only: what a commit waits for (see [`SqliteSync`]).
    #[serde(default)]
    pub sqlite_synchronous: SqliteSync,
}

impl AuditConfig {
    /// A configuration with every default, for embedders and tests.
    pub fn new(database_url: impl Into<String>, spool_path: impl Into<PathBuf>) -> Self {
        Self {
            database_url: database_url.into(),
            spool_path: spool_path.into(),
            spool_max_bytes: default_spool_max_bytes(),
            on_spool_full: SpoolFullPolicy::default(),
            batch_size: default_batch_size(),
            flush_interval: default_flush_interval(),
            queue_capacity: default_queue_capacity(),
            replay_interval: default_replay_interval(),
            connect_timeout: default_connect_timeout(),
            sqlite_synchronous: SqliteSync::default(),
        }
    }

    /// Checks every bound (all must be above 0); the error names the key.
    pub fn validate(&self) -> Result<(), AuditError> {
        let zero = |what: &str| Err(AuditError::InvalidConfig(format!("{what} must be above 0")));
        if self.batch_size == 0 {
            return zero("batch_size");
        }
        if self.queue_capacity == 0 {
            return zero("queue_capacity");
        }
        if self.spool_max_bytes == 0 {
            return zero("spool_max_bytes");
        }
        if self.flush_interval.is_zero() {
            return zero("flush_interval");
        }
        if self.replay_interval.is_zero() {
            return zero("replay_interval");
        }
        if self.connect_timeout.is_zero() {
            return zero("connect_timeout");
        }
        Ok(())
    }
}

/// The database password must not reach logs through `{:?}`.
impl fmt::Debug for AuditConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditConfig")
            .field("database_url", &redact_url(&self.database_url))
            .field("spool_path", &self.spool_path)
            .field("spool_max_bytes", &self.spool_max_bytes)
            .field("on_spool_full", &self.on_spool_full)
            .field("batch_size", &self.batch_size)
            .field("flush_interval", &self.flush_interval)
            .field("queue_capacity", &self.queue_capacity)
            .field("replay_interval", &self.replay_interval)
            .field("connect_timeout", &self.connect_timeout)
            .field("sqlite_synchronous", &self.sqlite_synchronous)
            .finish()
    }
}

/// `scheme://user:secret@host` → `scheme://user:[redacted]@host`.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:[redacted]@{host}"),
        None => url.to_owned(),
    }
}

fn default_spool_max_bytes() -> u64 {
    64 * 1024 * 1024
}
fn default_batch_size() -> usize {
    1_000
}
fn default_flush_interval() -> Duration {
    Duration::from_millis(200)
}
fn default_queue_capacity() -> usize {
    10_000
}
fn default_replay_interval() -> Duration {
    Duration::from_secs(2)
}
fn default_connect_timeout() -> Duration {
    Duration::from_secs(5)
}

/// A duration written as milliseconds (`200`) or with a unit (`"200ms"`, `"2s"`, `"1m"`).
fn duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Millis(u64),
        Text(String),
    }
    match Raw::deserialize(deserializer)? {
        Raw::Millis(ms) => Ok(Duration::from_millis(ms)),
        Raw::Text(text) => parse_duration(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "invalid duration {text:?}: use milliseconds or a number with ms, s or m"
            ))
        }),
    }
}

fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    match unit.trim() {
        "ms" => Some(Duration::from_millis(number)),
        "s" => Some(Duration::from_secs(number)),
        "m" => Some(Duration::from_secs(number.checked_mul(60)?)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_apply_and_durations_take_units() {
        let config: AuditConfig = serde_json::from_value(json!({
            "database_url": "sqlite://a.db?mode=rwc",
            "spool_path": "/tmp/spool",
            "flush_interval": "50ms",
            "replay_interval": 3000
        }))
        .unwrap();
        assert_eq!(config.batch_size, 1_000);
        assert_eq!(config.queue_capacity, 10_000);
        assert_eq!(config.flush_interval, Duration::from_millis(50));
        assert_eq!(config.replay_interval, Duration::from_secs(3));
        assert_eq!(config.on_spool_full, SpoolFullPolicy::FailClosed);
        config.validate().unwrap();
    }

    #[test]
    fn unknown_keys_and_bad_durations_are_rejected() {
        let unknown = serde_json::from_value::<AuditConfig>(json!({
            "database_url": "x", "spool_path": "y", "batchsize": 1
        }));
        assert!(unknown.is_err());
        let bad = serde_json::from_value::<AuditConfig>(json!({
            "database_url": "x", "spool_path": "y", "flush_interval": "soon"
        }));
        assert!(bad.is_err());
        let policy: SpoolFullPolicy = serde_json::from_value(json!("block")).unwrap();
        assert_eq!(policy, SpoolFullPolicy::Block);
    }

    #[test]
    fn debug_hides_the_database_password() {
        let config = AuditConfig::new("postgres://audit:s3cret@db:5432/toolgate", "/tmp/s");
        let printed = format!("{config:?}");
        assert!(!printed.contains("s3cret"), "{printed}");
        assert!(printed.contains("audit:[redacted]@db:5432"), "{printed}");
    }
}

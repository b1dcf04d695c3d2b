//! What can go wrong in a state store, split so the proxy can tell "answer 503" from "this is a bug".

use std::time::Duration;

use crate::Namespace;

/// Boxed source error; keeps the backend's error type out of the public API.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A state store failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend cannot be reached (connection refused, timed out, reconnecting): the caller should answer
    /// 503 and let the client retry; the state itself is not known to be lost.
    #[error("state store unavailable during {op}")]
    Unavailable {
        op: &'static str,
        #[source]
        source: BoxError,
    },
    /// The backend answered, but with an error (e.g. INCR on a value that is not a counter).
    /// Only the namespace is named: keys are often secrets (codes, token hashes) and errors end up in logs.
    #[error("state store {op} in namespace {ns} failed")]
    Backend {
        op: &'static str,
        ns: Namespace,
        #[source]
        source: BoxError,
    },
    /// A TTL of zero would mean "never stored" on one backend and an error on another; refuse it everywhere.
    #[error("TTL must be at least 1 ms, got {ttl:?} in namespace {ns}")]
    InvalidTtl { ns: Namespace, ttl: Duration },
    /// The store could not be set up (bad URL, bad key prefix).
    #[error("invalid state store configuration: {reason}")]
    Config {
        reason: String,
        #[source]
        source: Option<BoxError>,
    },
    /// A typed helper could not (de)serialize a value.
    #[error("could not {action} JSON value in namespace {ns}")]
    Codec {
        action: &'static str,
        ns: Namespace,
        #[source]
        source: serde_json::Error,
    },
}

impl StoreError {
    /// True when the backend could not be reached, i.e. the proxy should answer 503.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable { .. })
    }
}

//! The state store contract shared by every backend.

use std::time::Duration;

use async_trait::async_trait;

use crate::{Gcra, Namespace, StoreError, Verdict};

/// Short-lived, TTL-bound key/value state, possibly shared between processes.
///
/// Values are opaque bytes. Every write carries a TTL; expired entries are absent for every operation.
/// An entry is addressed by `(namespace, key)`; equal keys in different namespaces never collide.
#[async_trait]
pub trait StateStore: Send + Sync + 'static {
    /// Stores `value`, replacing any previous value and its TTL.
    async fn put(&self, ns: Namespace, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError>;

    /// Stores `value` only if no live entry exists; `false` means someone else got there first
    /// (replay detection, "first writer wins").
    async fn put_new(&self, ns: Namespace, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError>;

    /// Reads a live entry without consuming it.
    async fn get(&self, ns: Namespace, key: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Atomically reads and removes an entry: of any number of concurrent `take`s of one key, across every
    /// process sharing the backend, exactly one gets the value (single-use codes, `state`).
    async fn take(&self, ns: Namespace, key: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Removes an entry; `true` if a live one existed.
    async fn delete(&self, ns: Namespace, key: &str) -> Result<bool, StoreError>;

    /// Increments a counter and returns the new value. The first increment creates it with `ttl`; later
    /// increments keep that expiry (a fixed window, for rate limits). The value reads back as decimal text.
    async fn incr(&self, ns: Namespace, key: &str, ttl: Duration) -> Result<u64, StoreError>;

    /// Counts one request against the GCRA `limit` kept under `key`, atomically across every
    /// process sharing the backend: admitted (and counted) or refused with how long to wait
    /// (and not counted). The entry expires once the key is back to a full burst. See
    /// [`crate::Gcra`] and `docs/rate-limits.md`.
    async fn throttle(&self, ns: Namespace, key: &str, limit: Gcra) -> Result<Verdict, StoreError>;
}

/// The TTL in whole milliseconds, rounded up; zero is refused so both backends agree.
pub(crate) fn ttl_millis(ns: Namespace, ttl: Duration) -> Result<u64, StoreError> {
    if ttl.is_zero() {
        return Err(StoreError::InvalidTtl { ns, ttl });
    }
    let millis = ttl.as_nanos().div_ceil(1_000_000);
    Ok(u64::try_from(millis).unwrap_or(u64::MAX))
}

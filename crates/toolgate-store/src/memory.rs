//! In-process store for a single toolgate process (development, tests, one-replica deployments).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use parking_lot::Mutex;
use toolgate_core::Clock;

use crate::store::ttl_millis;
use crate::throttle::step;
use crate::{Gcra, Namespace, StateStore, StoreError, Verdict};

/// Every this many writes, expired entries that were never read again are swept, so memory stays bounded.
const SWEEP_EVERY: u32 = 1024;

/// A `HashMap` behind one lock; every operation (including `take`) is atomic under that lock.
///
/// Expired entries are treated as absent and purged lazily. By default time is a monotonic clock with
/// millisecond precision; [`MemoryStore::with_clock`] uses an injected [`Clock`] (seconds), in which case TTLs
/// are rounded up to whole seconds.
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Mutex<Inner>>,
    time: Arc<TimeSource>,
}

struct Inner {
    entries: HashMap<(Namespace, String), Entry>,
    writes_since_sweep: u32,
}

struct Entry {
    value: Vec<u8>,
    /// Expiry in the time source's milliseconds.
    expires_at: u128,
}

enum TimeSource {
    Monotonic(Instant),
    Clock(Arc<dyn Clock>),
}

impl TimeSource {
    fn now_ms(&self) -> u128 {
        match self {
            TimeSource::Monotonic(start) => start.elapsed().as_millis(),
            TimeSource::Clock(clock) => u128::try_from(clock.now_unix()).unwrap_or(0) * 1000,
        }
    }

    /// Now in microseconds, on the same origin as [`TimeSource::now_ms`].
    fn now_us(&self) -> u64 {
        match self {
            TimeSource::Monotonic(start) => u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX),
            TimeSource::Clock(clock) => u64::try_from(clock.now_unix_ms()).unwrap_or(0).saturating_mul(1000),
        }
    }

    /// Absolute expiry for a TTL starting now; whole seconds when the clock only knows seconds.
    fn expiry(&self, ns: Namespace, ttl: Duration) -> Result<u128, StoreError> {
        let millis = u128::from(ttl_millis(ns, ttl)?);
        let millis = match self {
            TimeSource::Monotonic(_) => millis,
            TimeSource::Clock(_) => millis.div_ceil(1000) * 1000,
        };
        Ok(self.now_ms() + millis)
    }
}

impl MemoryStore {
    /// A store on the monotonic clock.
    pub fn new() -> Self {
        Self::with_time(TimeSource::Monotonic(Instant::now()))
    }

    /// A store on an injected clock, so tests can expire entries by advancing a `ManualClock`.
    /// TTLs are rounded up to whole seconds.
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Self::with_time(TimeSource::Clock(clock))
    }

    fn with_time(time: TimeSource) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                entries: HashMap::new(),
                writes_since_sweep: 0,
            })),
            time: Arc::new(time),
        }
    }

    /// Number of live entries (diagnostics, tests).
    pub fn len(&self) -> usize {
        let now = self.time.now_ms();
        self.inner
            .lock()
            .entries
            .values()
            .filter(|e| e.expires_at > now)
            .count()
    }

    /// True when no live entry exists.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Values are secrets (codes, tokens): never print them.
        f.debug_struct("MemoryStore")
            .field("entries", &self.inner.lock().entries.len())
            .finish()
    }
}

impl Inner {
    /// The live entry for `k`, dropping it first if it has expired.
    fn live(&mut self, k: &(Namespace, String), now: u128) -> Option<&mut Entry> {
        if self.entries.get(k).is_some_and(|e| e.expires_at <= now) {
            self.entries.remove(k);
        }
        self.entries.get_mut(k)
    }

    fn insert(&mut self, k: (Namespace, String), entry: Entry, now: u128) {
        self.writes_since_sweep += 1;
        if self.writes_since_sweep >= SWEEP_EVERY {
            self.writes_since_sweep = 0;
            self.entries.retain(|_, e| e.expires_at > now);
        }
        self.entries.insert(k, entry);
    }
}

#[async_trait]
impl StateStore for MemoryStore {
    async fn put(&self, ns: Namespace, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError> {
        let expires_at = self.time.expiry(ns, ttl)?;
        let now = self.time.now_ms();
        self.inner.lock().insert(
            (ns, key.to_owned()),
            Entry {
                value: value.to_vec(),
                expires_at,
            },
            now,
        );
        Ok(())
    }

    async fn put_new(&self, ns: Namespace, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError> {
        let expires_at = self.time.expiry(ns, ttl)?;
        let now = self.time.now_ms();
        let k = (ns, key.to_owned());
        let mut inner = self.inner.lock();
        if inner.live(&k, now).is_some() {
            return Ok(false);
        }
        inner.insert(
            k,
            Entry {
                value: value.to_vec(),
                expires_at,
            },
            now,
        );
        Ok(true)
    }

    async fn get(&self, ns: Namespace, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let now = self.time.now_ms();
        Ok(self
            .inner
            .lock()
            .live(&(ns, key.to_owned()), now)
            .map(|e| e.value.clone()))
    }

    async fn take(&self, ns: Namespace, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let now = self.time.now_ms();
        let mut inner = self.inner.lock();
        let k = (ns, key.to_owned());
        if inner.live(&k, now).is_none() {
            return Ok(None);
        }
        Ok(inner.entries.remove(&k).map(|e| e.value))
    }

    async fn delete(&self, ns: Namespace, key: &str) -> Result<bool, StoreError> {
        let now = self.time.now_ms();
        let mut inner = self.inner.lock();
        let k = (ns, key.to_owned());
        if inner.live(&k, now).is_none() {
            return Ok(false);
        }
        Ok(inner.entries.remove(&k).is_some())
    }

    async fn incr(&self, ns: Namespace, key: &str, ttl: Duration) -> Result<u64, StoreError> {
        let expires_at = self.time.expiry(ns, ttl)?;
        let now = self.time.now_ms();
        let k = (ns, key.to_owned());
        let mut inner = self.inner.lock();
        if let Some(entry) = inner.live(&k, now) {
            let next = std::str::from_utf8(&entry.value)
                .ok()
                .and_then(|s| s.parse::<u64>().ok())
                .and_then(|n| n.checked_add(1))
                .ok_or_else(|| StoreError::Backend {
                    op: "incr",
                    ns,
                    source: "value is not a counter or would overflow".into(),
                })?;
            entry.value = next.to_string().into_bytes();
            return Ok(next);
        }
        inner.insert(
            k,
            Entry {
                value: b"1".to_vec(),
                expires_at,
            },
            now,
        );
        Ok(1)
    }

    async fn throttle(&self, ns: Namespace, key: &str, limit: Gcra) -> Result<Verdict, StoreError> {
        let k = (ns, key.to_owned());
        let mut inner = self.inner.lock();
        // Both readings under the lock, so concurrent requests see time in the order they count.
        let now_ms = self.time.now_ms();
        let now_us = self.time.now_us();
        let tat = inner
            .live(&k, now_ms)
            .and_then(|entry| std::str::from_utf8(&entry.value).ok()?.parse::<u64>().ok());
        let (verdict, new_tat) = step(tat, now_us, limit);
        if let Some(new_tat) = new_tat {
            let ttl_ms = u128::from(new_tat.saturating_sub(now_us).div_ceil(1000).max(1));
            inner.insert(
                k,
                Entry {
                    value: new_tat.to_string().into_bytes(),
                    expires_at: now_ms + ttl_ms,
                },
                now_ms,
            );
        }
        Ok(verdict)
    }
}

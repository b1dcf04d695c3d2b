//! Redis-backed store (fred), shared by every toolgate process pointing at the same Redis.
//!
//! Atomicity comes from Redis itself: `SET NX` for `put_new`, `GETDEL` (Redis ≥ 6.2) for `take`, and
//! `MULTI`/`INCR`/`PEXPIRE NX` (Redis ≥ 7.0) for `incr`, one Lua script (`EVAL`) for `throttle`.

use std::time::Duration;

use async_trait::async_trait;
use fred::bytes::Bytes;
use fred::error::{Error as FredError, ErrorKind};
use fred::prelude::{
    Builder, ClientLike, Config, Expiration, KeysInterface, LuaInterface, Pool, ReconnectPolicy, SetOptions,
    TransactionInterface, Value,
};
use fred::types::ExpireOptions;

use crate::store::ttl_millis;
use crate::throttle::REDIS_SCRIPT;
use crate::{Gcra, Namespace, StateStore, StoreError, Verdict};

/// How long one command may take, including waiting for a reconnect, before the caller gets `Unavailable`.
/// Short on purpose: a down Redis should produce a quick 503, not a hung login.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
/// URL schemes fred understands; anything else is a typo we refuse instead of guessing.
const SCHEMES: [&str; 6] = [
    "redis://",
    "rediss://",
    "redis-cluster://",
    "rediss-cluster://",
    "redis-sentinel://",
    "rediss-sentinel://",
];
/// Connections in the pool; commands are spread round-robin.
const POOL_SIZE: usize = 4;

/// A [`crate::StateStore`] on Redis; keys are `{prefix}:{namespace}:{key}`.
///
/// Connecting is lazy: [`RedisStore::connect`] succeeds while Redis is down, the pool keeps reconnecting in
/// the background, and each command fails with [`StoreError::Unavailable`] after at most ~2 s until Redis is
/// back. Cheap to clone (clones share the pool).
#[derive(Clone)]
pub struct RedisStore {
    pool: Pool,
    prefix: String,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: print the prefix only.
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Builds the pool for `url` (`redis://` or `rediss://`, optionally with credentials and database) and
    /// starts connecting in the background. Fails only on configuration errors, never because Redis is down.
    /// Must be called inside a Tokio runtime.
    pub async fn connect(url: &str, key_prefix: &str) -> Result<Self, StoreError> {
        if key_prefix.is_empty() {
            return Err(StoreError::Config {
                reason: "Redis key prefix must not be empty".to_owned(),
                source: None,
            });
        }
        if !SCHEMES.iter().any(|scheme| url.starts_with(scheme)) {
            return Err(StoreError::Config {
                reason: format!("Redis URL must start with one of {SCHEMES:?}"),
                source: None,
            });
        }
        let mut config = Config::from_url(url).map_err(|e| StoreError::Config {
            // Not echoing the URL: it may contain a password.
            reason: "invalid Redis URL".to_owned(),
            source: Some(Box::new(e)),
        })?;
        // Reconnect policy applies to the first connection too, so start-up does not depend on Redis.
        config.fail_fast = false;
        let pool = Builder::from_config(config)
            .with_connection_config(|c| {
                c.connection_timeout = COMMAND_TIMEOUT;
                c.internal_command_timeout = COMMAND_TIMEOUT;
                // No silent re-send of a command whose connection dropped mid-flight: a retried SET NX would
                // report a false replay, a retried INCR would count twice. The caller gets Unavailable instead.
                c.max_command_attempts = 1;
            })
            .with_performance_config(|p| {
                p.default_command_timeout = COMMAND_TIMEOUT;
            })
            // max_attempts 0 = forever; 100 ms doubling up to 2 s between attempts.
            .set_policy(ReconnectPolicy::new_exponential(0, 100, 2_000, 2))
            .build_pool(POOL_SIZE)
            .map_err(|e| StoreError::Config {
                reason: "could not build Redis client pool".to_owned(),
                source: Some(Box::new(e)),
            })?;
        // The connection tasks run until the pool is dropped or `quit`; their handle is not needed.
        drop(pool.connect());
        Ok(Self {
            pool,
            prefix: key_prefix.to_owned(),
        })
    }

    /// Closes the connections (graceful shutdown).
    pub async fn quit(&self) -> Result<(), StoreError> {
        self.pool
            .quit()
            .await
            .map_err(|e| classify("quit", Namespace::CLIENT, e))
    }

    fn key(&self, ns: Namespace, key: &str) -> String {
        format!("{}:{}:{}", self.prefix, ns, key)
    }
}

/// Connection-level failures become `Unavailable` (the proxy answers 503); anything Redis itself said no to
/// is a `Backend` error.
fn classify(op: &'static str, ns: Namespace, e: FredError) -> StoreError {
    match e.kind() {
        ErrorKind::IO
        | ErrorKind::Timeout
        | ErrorKind::Canceled
        | ErrorKind::Tls
        | ErrorKind::Backpressure
        | ErrorKind::Routing
        | ErrorKind::Auth
        | ErrorKind::Cluster
        | ErrorKind::Sentinel => StoreError::Unavailable {
            op,
            source: Box::new(e),
        },
        _ => StoreError::Backend {
            op,
            ns,
            source: Box::new(e),
        },
    }
}

fn bytes_of(op: &'static str, ns: Namespace, value: Value) -> Result<Option<Vec<u8>>, StoreError> {
    match value {
        Value::Null => Ok(None),
        Value::Bytes(b) => Ok(Some(b.to_vec())),
        Value::String(s) => Ok(Some(s.as_bytes().to_vec())),
        other => Err(StoreError::Backend {
            op,
            ns,
            source: format!("unexpected Redis reply of type {:?}", other.kind()).into(),
        }),
    }
}

fn px(ns: Namespace, ttl: Duration) -> Result<i64, StoreError> {
    Ok(i64::try_from(ttl_millis(ns, ttl)?).unwrap_or(i64::MAX))
}

#[async_trait]
impl StateStore for RedisStore {
    async fn put(&self, ns: Namespace, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError> {
        let ms = px(ns, ttl)?;
        let value = Value::Bytes(Bytes::copy_from_slice(value));
        self.pool
            .set::<Value, _, _>(self.key(ns, key), value, Some(Expiration::PX(ms)), None, false)
            .await
            .map_err(|e| classify("put", ns, e))?;
        Ok(())
    }

    async fn put_new(&self, ns: Namespace, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError> {
        let ms = px(ns, ttl)?;
        let value = Value::Bytes(Bytes::copy_from_slice(value));
        let reply = self
            .pool
            .set::<Value, _, _>(
                self.key(ns, key),
                value,
                Some(Expiration::PX(ms)),
                Some(SetOptions::NX),
                false,
            )
            .await
            .map_err(|e| classify("put_new", ns, e))?;
        // SET NX answers OK when it wrote and nil when the key existed.
        Ok(!reply.is_null())
    }

    async fn get(&self, ns: Namespace, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let reply = self
            .pool
            .get::<Value, _>(self.key(ns, key))
            .await
            .map_err(|e| classify("get", ns, e))?;
        bytes_of("get", ns, reply)
    }

    async fn take(&self, ns: Namespace, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let reply = self
            .pool
            .getdel::<Value, _>(self.key(ns, key))
            .await
            .map_err(|e| classify("take", ns, e))?;
        bytes_of("take", ns, reply)
    }

    async fn delete(&self, ns: Namespace, key: &str) -> Result<bool, StoreError> {
        let removed = self
            .pool
            .del::<i64, _>(self.key(ns, key))
            .await
            .map_err(|e| classify("delete", ns, e))?;
        Ok(removed > 0)
    }

    async fn incr(&self, ns: Namespace, key: &str, ttl: Duration) -> Result<u64, StoreError> {
        let ms = px(ns, ttl)?;
        let key = self.key(ns, key);
        // One transaction, so a counter never exists without a TTL; PEXPIRE NX keeps the first window's expiry.
        let trx = self.pool.next().multi();
        trx.incr::<Value, _>(&key).await.map_err(|e| classify("incr", ns, e))?;
        trx.pexpire::<Value, _>(&key, ms, Some(ExpireOptions::NX))
            .await
            .map_err(|e| classify("incr", ns, e))?;
        let replies: Vec<Value> = trx.exec(true).await.map_err(|e| classify("incr", ns, e))?;
        replies
            .first()
            .and_then(Value::as_u64)
            .ok_or_else(|| StoreError::Backend {
                op: "incr",
                ns,
                source: "INCR returned no integer".into(),
            })
    }

    async fn throttle(&self, ns: Namespace, key: &str, limit: Gcra) -> Result<Verdict, StoreError> {
        let args = vec![
            i64::try_from(limit.interval_us()).unwrap_or(i64::MAX),
            i64::try_from(limit.tolerance_us()).unwrap_or(i64::MAX),
        ];
        // EVAL rather than EVALSHA: Redis caches the compiled script by its hash either way, and
        // there is no NOSCRIPT round trip after a Redis restart.
        let reply: Vec<i64> = self
            .pool
            .eval(REDIS_SCRIPT, self.key(ns, key), args)
            .await
            .map_err(|e| classify("throttle", ns, e))?;
        match reply.as_slice() {
            [1, _] => Ok(Verdict::Admitted),
            [0, wait_us] => Ok(Verdict::Refused {
                retry_after: Duration::from_micros(u64::try_from(*wait_us).unwrap_or(0)),
            }),
            _ => Err(StoreError::Backend {
                op: "throttle",
                ns,
                source: "the GCRA script answered an unexpected shape".into(),
            }),
        }
    }
}

//! `RedisStore` against a real Redis (redis://127.0.0.1:6379, or `TOOLGATE_TEST_REDIS_URL`).
//!
//! These tests FAIL when Redis is unreachable: CI must start it, e.g.
//! `redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no`.
//! Each test uses its own uuid key prefix and deletes its keys at the end.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] fns"
)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use fred::prelude::{Builder, ClientLike, Config, KeysInterface};
use fred::types::scan::Scanner;
use futures::StreamExt;
use toolgate_store::{Namespace, RedisStore, StateStore, StoreError};

fn redis_url() -> String {
    std::env::var("TOOLGATE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A raw client for checks and cleanup; panics with instructions if Redis is not there.
async fn raw_client() -> fred::clients::Client {
    let url = redis_url();
    let client = Builder::from_config(Config::from_url(&url).unwrap()).build().unwrap();
    match tokio::time::timeout(Duration::from_secs(3), client.init()).await {
        Ok(Ok(_)) => client,
        other => panic!(
            "Redis is not reachable at {url} ({other:?}). These tests need a real Redis: start one with \
             `redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\" --appendonly no` \
             or set TOOLGATE_TEST_REDIS_URL"
        ),
    }
}

/// A fresh prefix plus a guard-like cleanup call at the end of each test.
struct TestPrefix {
    prefix: String,
    raw: fred::clients::Client,
}

impl TestPrefix {
    async fn new() -> Self {
        let raw = raw_client().await;
        Self {
            prefix: format!("toolgate-test-{}", uuid::Uuid::new_v4()),
            raw,
        }
    }

    async fn store(&self) -> RedisStore {
        RedisStore::connect(&redis_url(), &self.prefix).await.unwrap()
    }

    async fn keys(&self) -> Vec<String> {
        let mut keys = Vec::new();
        let mut scan = self.raw.scan(format!("{}:*", self.prefix), Some(100), None);
        while let Some(page) = scan.next().await {
            let mut page = page.unwrap();
            for key in page.take_results().unwrap_or_default() {
                keys.push(key.into_string().unwrap());
            }
        }
        keys
    }

    async fn cleanup(self) {
        let keys = self.keys().await;
        if !keys.is_empty() {
            let _: i64 = self.raw.del(keys).await.unwrap();
        }
        assert!(self.keys().await.is_empty());
        self.raw.quit().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_store_meets_the_contract() {
    let t = TestPrefix::new().await;
    let store = Arc::new(t.store().await);
    common::contract(store.clone(), async |d| tokio::time::sleep(d).await).await;
    store.quit().await.unwrap();
    t.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn keys_are_prefixed_namespaced_and_carry_a_ttl() {
    let t = TestPrefix::new().await;
    let store = t.store().await;
    store
        .put(Namespace::CODE, "abc", b"v", Duration::from_secs(30))
        .await
        .unwrap();
    store
        .incr(Namespace::RATE, "ip:1", Duration::from_secs(30))
        .await
        .unwrap();
    let mut keys = t.keys().await;
    keys.sort();
    assert_eq!(
        keys,
        vec![format!("{}:code:abc", t.prefix), format!("{}:rate:ip:1", t.prefix)]
    );
    for key in &keys {
        let pttl: i64 = t.raw.pttl(key).await.unwrap();
        assert!(pttl > 0 && pttl <= 30_000, "{key} has PTTL {pttl}");
    }
    let raw: Option<String> = t.raw.get(format!("{}:code:abc", t.prefix)).await.unwrap();
    assert_eq!(raw.as_deref(), Some("v"));
    t.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_share_state_and_a_take_happens_once() {
    let t = TestPrefix::new().await;
    // Two independent pools stand in for two toolgate processes.
    let a = t.store().await;
    let b = t.store().await;
    a.put(Namespace::CODE, "shared", b"code-from-a", Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(
        b.take(Namespace::CODE, "shared").await.unwrap().as_deref(),
        Some(&b"code-from-a"[..])
    );
    assert_eq!(a.take(Namespace::CODE, "shared").await.unwrap(), None);

    assert!(
        b.put_new(Namespace::REFRESH, "rt", b"b", Duration::from_secs(30))
            .await
            .unwrap()
    );
    assert!(
        !a.put_new(Namespace::REFRESH, "rt", b"a", Duration::from_secs(30))
            .await
            .unwrap()
    );
    assert_eq!(a.incr(Namespace::RATE, "n", Duration::from_secs(30)).await.unwrap(), 1);
    assert_eq!(b.incr(Namespace::RATE, "n", Duration::from_secs(30)).await.unwrap(), 2);

    // 32 takes from each process race for one key.
    for round in 0..5 {
        let key = format!("race-{round}");
        a.put(Namespace::CODE, &key, b"v", Duration::from_secs(30))
            .await
            .unwrap();
        let barrier = Arc::new(tokio::sync::Barrier::new(64));
        let tasks: Vec<_> = (0..64)
            .map(|i| {
                let store = if i % 2 == 0 { a.clone() } else { b.clone() };
                let (barrier, key) = (barrier.clone(), key.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    store.take(Namespace::CODE, &key).await.unwrap()
                })
            })
            .collect();
        let mut winners = 0;
        for task in tasks {
            winners += usize::from(task.await.unwrap().is_some());
        }
        assert_eq!(winners, 1, "round {round}");
    }
    t.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_down_answers_unavailable_fast() {
    // A port nothing listens on: bind, read it back, close.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);

    let started = Instant::now();
    let store = RedisStore::connect(&format!("redis://127.0.0.1:{port}"), "toolgate-down")
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "connect must not wait for Redis"
    );

    let ttl = Duration::from_secs(10);
    let ns = Namespace::CODE;
    let checks: Vec<(&str, Result<(), StoreError>, Duration)> = vec![
        timed("put", store.put(ns, "k", b"v", ttl)).await,
        timed("put_new", async { store.put_new(ns, "k", b"v", ttl).await.map(drop) }).await,
        timed("get", async { store.get(ns, "k").await.map(drop) }).await,
        timed("take", async { store.take(ns, "k").await.map(drop) }).await,
        timed("delete", async { store.delete(ns, "k").await.map(drop) }).await,
        timed("incr", async { store.incr(Namespace::RATE, "k", ttl).await.map(drop) }).await,
    ];
    for (op, result, elapsed) in checks {
        let err = result.expect_err(op);
        assert!(err.is_unavailable(), "{op}: expected Unavailable, got {err:?}");
        assert!(
            matches!(err, StoreError::Unavailable { op: o, .. } if o == op),
            "{op}: {err:?}"
        );
        assert!(elapsed < Duration::from_secs(3), "{op} took {elapsed:?}");
    }
}

async fn timed<T>(
    op: &'static str,
    fut: impl std::future::Future<Output = Result<T, StoreError>>,
) -> (&'static str, Result<(), StoreError>, Duration) {
    let started = Instant::now();
    let result = tokio::time::timeout(Duration::from_secs(10), fut)
        .await
        .unwrap_or_else(|_| panic!("{op} hung"));
    (op, result.map(drop), started.elapsed())
}

#[tokio::test]
async fn bad_configuration_is_a_config_error() {
    let err = RedisStore::connect("not a url", "p").await.unwrap_err();
    assert!(matches!(err, StoreError::Config { .. }), "{err:?}");
    let err = RedisStore::connect("redis://127.0.0.1:6379", "").await.unwrap_err();
    assert!(matches!(err, StoreError::Config { .. }), "{err:?}");
    // the URL (which may hold a password) is not echoed
    let err = RedisStore::connect("bogus://user:hunter2@host", "p").await.unwrap_err();
    assert!(!format!("{err} {err:?}").contains("hunter2"), "{err:?}");
}

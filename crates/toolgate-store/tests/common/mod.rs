//! The contract every `StateStore` backend must meet; run against `MemoryStore` and `RedisStore`.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Barrier;
use toolgate_store::{Gcra, Namespace, StateStore, StateStoreJson, StoreError, Verdict};

const LONG: Duration = Duration::from_secs(60);
const SHORT: Duration = Duration::from_secs(1);

/// Runs the whole contract. `wait` lets time pass: a manual clock for memory, a real sleep for Redis.
pub async fn contract(store: Arc<dyn StateStore>, wait: impl AsyncFn(Duration)) {
    put_get_overwrite(store.as_ref()).await;
    namespaces_do_not_collide(store.as_ref()).await;
    put_new_refuses_second_write(store.as_ref()).await;
    take_is_single_use(store.as_ref()).await;
    delete_reports_presence(store.as_ref()).await;
    incr_counts(store.as_ref()).await;
    throttle_admits_a_burst_then_refuses_with_the_wait(store.as_ref()).await;
    concurrent_throttles_admit_exactly_the_burst(store.clone(), 40).await;
    zero_ttl_is_refused(store.as_ref()).await;
    json_helpers_round_trip(store.as_ref()).await;
    refresh_family_rotation_and_replay(store.as_ref()).await;
    concurrent_takes_yield_one_value(store.clone(), 64).await;
    ttl_expiry(store.as_ref(), wait).await;
}

async fn put_get_overwrite(store: &dyn StateStore) {
    assert_eq!(store.get(Namespace::TRANSACTION, "pgo").await.unwrap(), None);
    store.put(Namespace::TRANSACTION, "pgo", b"one", LONG).await.unwrap();
    assert_eq!(
        store.get(Namespace::TRANSACTION, "pgo").await.unwrap().as_deref(),
        Some(&b"one"[..])
    );
    // get does not consume
    assert_eq!(
        store.get(Namespace::TRANSACTION, "pgo").await.unwrap().as_deref(),
        Some(&b"one"[..])
    );
    store.put(Namespace::TRANSACTION, "pgo", b"two", LONG).await.unwrap();
    assert_eq!(
        store.get(Namespace::TRANSACTION, "pgo").await.unwrap().as_deref(),
        Some(&b"two"[..])
    );
    // binary-safe values
    let binary = [0u8, 255, 10, 13, 0, 58];
    store.put(Namespace::TRANSACTION, "bin", &binary, LONG).await.unwrap();
    assert_eq!(
        store.get(Namespace::TRANSACTION, "bin").await.unwrap().as_deref(),
        Some(&binary[..])
    );
}

async fn namespaces_do_not_collide(store: &dyn StateStore) {
    store.put(Namespace::CODE, "same", b"code", LONG).await.unwrap();
    store.put(Namespace::REFRESH, "same", b"refresh", LONG).await.unwrap();
    assert_eq!(
        store.get(Namespace::CODE, "same").await.unwrap().as_deref(),
        Some(&b"code"[..])
    );
    assert_eq!(
        store.get(Namespace::REFRESH, "same").await.unwrap().as_deref(),
        Some(&b"refresh"[..])
    );
    assert_eq!(
        store.take(Namespace::CODE, "same").await.unwrap().as_deref(),
        Some(&b"code"[..])
    );
    assert_eq!(
        store.get(Namespace::REFRESH, "same").await.unwrap().as_deref(),
        Some(&b"refresh"[..])
    );
    // a key that looks like it crosses a namespace boundary stays in its own namespace
    store
        .put(Namespace::CODE, "refresh:same", b"sneaky", LONG)
        .await
        .unwrap();
    assert_eq!(
        store.get(Namespace::REFRESH, "same").await.unwrap().as_deref(),
        Some(&b"refresh"[..])
    );
    let custom = Namespace::new("custom").unwrap();
    assert_eq!(store.get(custom, "same").await.unwrap(), None);
}

async fn put_new_refuses_second_write(store: &dyn StateStore) {
    assert!(store.put_new(Namespace::CONSENT, "pn", b"first", LONG).await.unwrap());
    assert!(!store.put_new(Namespace::CONSENT, "pn", b"second", LONG).await.unwrap());
    assert_eq!(
        store.get(Namespace::CONSENT, "pn").await.unwrap().as_deref(),
        Some(&b"first"[..])
    );
    assert!(store.delete(Namespace::CONSENT, "pn").await.unwrap());
    assert!(store.put_new(Namespace::CONSENT, "pn", b"third", LONG).await.unwrap());
}

async fn take_is_single_use(store: &dyn StateStore) {
    store.put(Namespace::CODE, "once", b"secret", LONG).await.unwrap();
    assert_eq!(
        store.take(Namespace::CODE, "once").await.unwrap().as_deref(),
        Some(&b"secret"[..])
    );
    assert_eq!(store.take(Namespace::CODE, "once").await.unwrap(), None);
    assert_eq!(store.get(Namespace::CODE, "once").await.unwrap(), None);
    assert_eq!(store.take(Namespace::CODE, "never-stored").await.unwrap(), None);
}

async fn delete_reports_presence(store: &dyn StateStore) {
    store.put(Namespace::CLIENT, "del", b"x", LONG).await.unwrap();
    assert!(store.delete(Namespace::CLIENT, "del").await.unwrap());
    assert!(!store.delete(Namespace::CLIENT, "del").await.unwrap());
    assert_eq!(store.get(Namespace::CLIENT, "del").await.unwrap(), None);
}

async fn incr_counts(store: &dyn StateStore) {
    for expected in 1..=3u64 {
        assert_eq!(store.incr(Namespace::RATE, "ip", LONG).await.unwrap(), expected);
    }
    assert_eq!(
        store.get(Namespace::RATE, "ip").await.unwrap().as_deref(),
        Some(&b"3"[..])
    );
    assert_eq!(store.incr(Namespace::RATE, "other", LONG).await.unwrap(), 1);
    store.put(Namespace::RATE, "text", b"not a number", LONG).await.unwrap();
    let err = store.incr(Namespace::RATE, "text", LONG).await.unwrap_err();
    assert!(matches!(err, StoreError::Backend { op: "incr", .. }), "{err:?}");
}

async fn throttle_admits_a_burst_then_refuses_with_the_wait(store: &dyn StateStore) {
    // 3 per minute, all at once: one every 20 s after the burst.
    let limit = Gcra::new(3, Duration::from_secs(60), 3).unwrap();
    for _ in 0..3 {
        assert_eq!(
            store.throttle(Namespace::RATE, "gcra", limit).await.unwrap(),
            Verdict::Admitted
        );
    }
    for _ in 0..2 {
        match store.throttle(Namespace::RATE, "gcra", limit).await.unwrap() {
            Verdict::Refused { retry_after } => assert!(
                retry_after > Duration::from_secs(19) && retry_after <= Duration::from_secs(20),
                "{retry_after:?}"
            ),
            Verdict::Admitted => panic!("a fourth request within the burst's minute was admitted"),
        }
    }
    // Another key has its own budget.
    assert_eq!(
        store.throttle(Namespace::RATE, "gcra-other", limit).await.unwrap(),
        Verdict::Admitted
    );
    // The counter is stored as decimal microseconds and carries a TTL (it is readable).
    let tat = store.get(Namespace::RATE, "gcra").await.unwrap().unwrap();
    assert!(std::str::from_utf8(&tat).unwrap().parse::<u64>().is_ok());
}

async fn concurrent_throttles_admit_exactly_the_burst(store: Arc<dyn StateStore>, n: usize) {
    let limit = Gcra::new(10, Duration::from_secs(60), 10).unwrap();
    let barrier = Arc::new(Barrier::new(n));
    let mut tasks = Vec::new();
    for _ in 0..n {
        let store = store.clone();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            store.throttle(Namespace::RATE, "gcra-race", limit).await.unwrap()
        }));
    }
    let mut admitted = 0;
    for task in tasks {
        if task.await.unwrap().is_admitted() {
            admitted += 1;
        }
    }
    assert_eq!(admitted, 10, "exactly the burst is admitted under concurrency");
}

async fn zero_ttl_is_refused(store: &dyn StateStore) {
    let err = store
        .put(Namespace::CODE, "zero", b"x", Duration::ZERO)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidTtl { .. }), "{err:?}");
    let err = store
        .put_new(Namespace::CODE, "zero", b"x", Duration::ZERO)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidTtl { .. }), "{err:?}");
    let err = store.incr(Namespace::RATE, "zero", Duration::ZERO).await.unwrap_err();
    assert!(matches!(err, StoreError::InvalidTtl { .. }), "{err:?}");
    assert_eq!(store.get(Namespace::CODE, "zero").await.unwrap(), None);
}

#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Tx {
    client_id: String,
    challenge: String,
}

async fn json_helpers_round_trip(store: &dyn StateStore) {
    let tx = Tx {
        client_id: "c1".into(),
        challenge: "abc".into(),
    };
    store.put_json(Namespace::TRANSACTION, "json", &tx, LONG).await.unwrap();
    assert_eq!(
        store
            .get_json::<Tx>(Namespace::TRANSACTION, "json")
            .await
            .unwrap()
            .as_ref(),
        Some(&tx)
    );
    assert!(
        !store
            .put_new_json(Namespace::TRANSACTION, "json", &tx, LONG)
            .await
            .unwrap()
    );
    assert_eq!(
        store.take_json::<Tx>(Namespace::TRANSACTION, "json").await.unwrap(),
        Some(tx)
    );
    assert_eq!(
        store.take_json::<Tx>(Namespace::TRANSACTION, "json").await.unwrap(),
        None
    );
    store.put(Namespace::TRANSACTION, "notjson", b"{", LONG).await.unwrap();
    let err = store
        .get_json::<Tx>(Namespace::TRANSACTION, "notjson")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Codec { action: "decode", .. }), "{err:?}");
}

/// The refresh-token recipe from docs/state-store.md, built from the primitives alone.
async fn refresh_family_rotation_and_replay(store: &dyn StateStore) {
    /// Redeems `token`: Some(family) if valid, None if unknown, replayed (family revoked) or revoked.
    async fn redeem(store: &dyn StateStore, token: &str) -> Option<String> {
        let family = String::from_utf8(store.get(Namespace::REFRESH, token).await.unwrap()?).unwrap();
        if !store
            .put_new(Namespace::REFRESH_USED, token, family.as_bytes(), LONG)
            .await
            .unwrap()
        {
            store.delete(Namespace::REFRESH_FAMILY, &family).await.unwrap();
            return None;
        }
        store.get(Namespace::REFRESH_FAMILY, &family).await.unwrap()?;
        Some(family)
    }
    store
        .put(Namespace::REFRESH_FAMILY, "fam1", b"active", LONG)
        .await
        .unwrap();
    store.put(Namespace::REFRESH, "rt1", b"fam1", LONG).await.unwrap();
    assert_eq!(redeem(store, "rt1").await.as_deref(), Some("fam1"));
    store.put(Namespace::REFRESH, "rt2", b"fam1", LONG).await.unwrap();
    // rt1 presented again (stolen copy): refused, and the whole family dies, so rt2 is refused too
    assert_eq!(redeem(store, "rt1").await, None);
    assert_eq!(redeem(store, "rt2").await, None);
    assert_eq!(redeem(store, "unknown").await, None);
}

/// `n` tasks race to `take` one code: exactly one must win.
pub async fn concurrent_takes_yield_one_value(store: Arc<dyn StateStore>, n: usize) {
    for round in 0..5 {
        let key = format!("race-{round}");
        store.put(Namespace::CODE, &key, b"the-code", LONG).await.unwrap();
        let barrier = Arc::new(Barrier::new(n));
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let (store, barrier, key) = (store.clone(), barrier.clone(), key.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    store.take(Namespace::CODE, &key).await.unwrap()
                })
            })
            .collect();
        let mut winners = 0;
        for task in tasks {
            if let Some(value) = task.await.unwrap() {
                assert_eq!(value, b"the-code");
                winners += 1;
            }
        }
        assert_eq!(
            winners, 1,
            "round {round}: {winners} of {n} concurrent takes got the value"
        );
    }
}

async fn ttl_expiry(store: &dyn StateStore, wait: impl AsyncFn(Duration)) {
    store.put(Namespace::TRANSACTION, "short", b"x", SHORT).await.unwrap();
    assert!(store.put_new(Namespace::CODE, "short", b"x", SHORT).await.unwrap());
    assert_eq!(store.incr(Namespace::RATE, "short", SHORT).await.unwrap(), 1);
    // a later increment keeps the first window's expiry
    assert_eq!(store.incr(Namespace::RATE, "short", LONG).await.unwrap(), 2);
    // an overwrite replaces the TTL
    store.put(Namespace::CLIENT, "renewed", b"x", SHORT).await.unwrap();
    store.put(Namespace::CLIENT, "renewed", b"y", LONG).await.unwrap();
    store.put(Namespace::CLIENT, "long", b"x", LONG).await.unwrap();
    assert!(store.get(Namespace::TRANSACTION, "short").await.unwrap().is_some());

    wait(Duration::from_millis(1500)).await;

    assert_eq!(store.get(Namespace::TRANSACTION, "short").await.unwrap(), None);
    assert_eq!(store.take(Namespace::TRANSACTION, "short").await.unwrap(), None);
    assert!(!store.delete(Namespace::TRANSACTION, "short").await.unwrap());
    assert_eq!(store.get(Namespace::CODE, "short").await.unwrap(), None);
    assert!(
        store.put_new(Namespace::CODE, "short", b"again", SHORT).await.unwrap(),
        "expired entry blocks put_new"
    );
    assert_eq!(
        store.incr(Namespace::RATE, "short", SHORT).await.unwrap(),
        1,
        "counter did not restart"
    );
    assert_eq!(
        store.get(Namespace::CLIENT, "renewed").await.unwrap().as_deref(),
        Some(&b"y"[..])
    );
    assert_eq!(
        store.get(Namespace::CLIENT, "long").await.unwrap().as_deref(),
        Some(&b"x"[..])
    );
}

//! `MemoryStore` against the shared contract, with a manual clock for expiry.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] fns"
)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use toolgate_core::ManualClock;
use toolgate_store::{MemoryStore, Namespace, StateStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_store_meets_the_contract() {
    let clock = ManualClock::new(1_700_000_000);
    let store = Arc::new(MemoryStore::with_clock(Arc::new(clock.clone())));
    let advance = {
        let clock = clock.clone();
        async move |d: Duration| clock.advance(i64::try_from(d.as_millis().div_ceil(1000)).unwrap())
    };
    common::contract(store, advance).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_store_on_the_monotonic_clock_meets_the_contract() {
    common::contract(Arc::new(MemoryStore::new()), async |d| tokio::time::sleep(d).await).await;
}

#[tokio::test]
async fn clock_ttls_round_up_to_whole_seconds() {
    let clock = ManualClock::new(1_700_000_000);
    let store = MemoryStore::with_clock(Arc::new(clock.clone()));
    store
        .put(Namespace::CODE, "ms", b"x", Duration::from_millis(1))
        .await
        .unwrap();
    assert!(
        store.get(Namespace::CODE, "ms").await.unwrap().is_some(),
        "1 ms rounds up to 1 s"
    );
    clock.advance(1);
    assert_eq!(store.get(Namespace::CODE, "ms").await.unwrap(), None);

    store
        .put(Namespace::CODE, "1.5s", b"x", Duration::from_millis(1500))
        .await
        .unwrap();
    clock.advance(1);
    assert!(
        store.get(Namespace::CODE, "1.5s").await.unwrap().is_some(),
        "1.5 s rounds up to 2 s"
    );
    clock.advance(1);
    assert_eq!(store.get(Namespace::CODE, "1.5s").await.unwrap(), None);
}

#[tokio::test]
async fn monotonic_clock_keeps_millisecond_ttls() {
    let store = MemoryStore::new();
    store
        .put(Namespace::CODE, "ms", b"x", Duration::from_millis(30))
        .await
        .unwrap();
    assert!(store.get(Namespace::CODE, "ms").await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert_eq!(store.get(Namespace::CODE, "ms").await.unwrap(), None);
}

#[tokio::test]
async fn expired_entries_are_purged_without_being_read() {
    let clock = ManualClock::new(1_700_000_000);
    let store = MemoryStore::with_clock(Arc::new(clock.clone()));
    for i in 0..2000 {
        store
            .put(Namespace::CODE, &format!("k{i}"), b"x", Duration::from_secs(1))
            .await
            .unwrap();
        if i == 999 {
            clock.advance(5);
        }
    }
    assert_eq!(store.len(), 1000);
    // Debug shows the raw map size (expired entries included) and never the values.
    assert_eq!(format!("{store:?}"), "MemoryStore { entries: 1000 }");
}

#[test]
fn custom_namespaces_are_validated() {
    assert_eq!(Namespace::new("grants").map(|n| n.as_str()), Some("grants"));
    assert_eq!(Namespace::new(""), None);
    assert_eq!(Namespace::new("a:b"), None);
    assert_eq!(Namespace::CODE.to_string(), "code");
}

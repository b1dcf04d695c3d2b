//! Signing keys: single-flight refresh on an unknown kid, throttling, rollover, outages.

use std::sync::Arc;

use futures::future::join_all;
use serde_json::Value;
use toolgate_core::RejectReason;
use toolgate_emulator::demo;
use toolgate_jose::encode_compact;

use crate::harness::*;

#[tokio::test]
async fn many_concurrent_requests_with_an_unknown_kid_cause_one_fetch() {
    let emulator = emulator().await;
    let validator = Arc::new(validator(api_settings(&emulator)));
    // Load the keys once, as at start-up.
    validator.start().await.unwrap();
    let fetches_at_start = emulator.jwks_fetch_count();

    // Rotate: every token now carries a kid the cache has never seen.
    emulator.rotate_keys(false);
    let token = sign_in(&emulator, "alice", &[demo::API_SCOPE_ACCESS_AS_USER]).await;
    let results = join_all((0..64).map(|_| {
        let validator = validator.clone();
        let token = token.clone();
        tokio::spawn(async move { validator.validate(&token).await })
    }))
    .await;
    for result in results {
        result.unwrap().expect("the rotated-in key is found by the one refresh");
    }
    assert_eq!(
        emulator.jwks_fetch_count() - fetches_at_start,
        1,
        "exactly one JWKS fetch for 64 requests"
    );
}

#[tokio::test]
async fn random_kids_cannot_cause_a_fetch_storm() {
    let emulator = emulator().await;
    let validator = validator(api_settings(&emulator));
    validator.start().await.unwrap();
    let before = emulator.jwks_fetch_count();
    let claims = Value::Object(user_claims(&emulator, "alice"));
    for i in 0..20 {
        let key = toolgate_jose::RsaSigningKey::generate(format!("attacker-{i}")).unwrap();
        let token = encode_compact(serde_json::Map::new(), &claims, &key).unwrap();
        assert_rejected(validator.validate(&token).await, RejectReason::UnknownSigningKey);
    }
    assert_eq!(
        emulator.jwks_fetch_count() - before,
        1,
        "one on-demand refresh per 5 minutes"
    );
}

#[tokio::test]
async fn rollover_right_after_start_is_picked_up() {
    let emulator = emulator().await;
    let validator = validator(api_settings(&emulator));
    validator.start().await.unwrap();
    let old = sign_in(&emulator, "alice", &[demo::API_SCOPE_ACCESS_AS_USER]).await;
    validator.validate(&old).await.unwrap();

    let new_kid = emulator.rotate_keys(true);
    let new = sign_in(&emulator, "bob", &[demo::API_SCOPE_ACCESS_AS_USER]).await;
    assert_eq!(
        toolgate_jose::CompactJws::parse(&new).unwrap().header_str("kid"),
        Some(new_kid.as_str())
    );
    // The first on-demand refresh is not held back by the start-up fetch.
    let principal = validator.validate(&new).await.unwrap().principal("entra-jwt").unwrap();
    assert_eq!(principal.object_id.as_deref(), Some(demo::BOB_OID));
    // The retired key is gone from the JWKS the cache now holds: old tokens stop validating.
    assert!(validator.key_cache().snapshot().keys.contains_key(&new_kid));
    assert_rejected(validator.validate(&old).await, RejectReason::UnknownSigningKey);
}

#[tokio::test]
async fn an_outage_is_served_from_the_last_known_good_keys() {
    let emulator = emulator().await;
    let validator = validator(api_settings(&emulator));
    validator.start().await.unwrap();
    let token = sign_in(&emulator, "alice", &[demo::API_SCOPE_ACCESS_AS_USER]).await;

    emulator.set_outage(true);
    let refresh = validator.key_cache().refresh().await;
    assert!(refresh.is_err(), "the refresh itself fails during the outage");
    let health = validator.key_cache().health();
    assert_eq!(health.consecutive_failures, 1);
    assert!(health.last_error.unwrap().contains("503"));
    assert!(health.key_count > 0);
    validator
        .validate(&token)
        .await
        .expect("last known good keys still validate");

    emulator.set_outage(false);
    validator.key_cache().refresh().await.unwrap();
    assert_eq!(validator.key_cache().health().consecutive_failures, 0);
}

#[tokio::test]
async fn no_keys_ever_loaded_fails_closed() {
    let emulator = emulator().await;
    emulator.set_outage(true);
    let validator = validator(api_settings(&emulator));
    assert!(validator.start().await.is_err());
    let token = sign(&emulator, user_claims(&emulator, "alice"));
    assert_rejected(validator.validate(&token).await, RejectReason::KeysUnavailable);
}

#[tokio::test]
async fn providers_trusting_one_authority_share_one_cache() {
    let emulator = emulator().await;
    let settings = api_settings(&emulator);
    let a = toolgate_entra::KeyCache::shared(settings.key_source(), settings.unknown_kid_refresh_interval);
    let b = toolgate_entra::KeyCache::shared(settings.key_source(), settings.unknown_kid_refresh_interval);
    assert!(Arc::ptr_eq(&a, &b));
}

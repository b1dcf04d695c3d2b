//! Accepted tokens are cached until they expire, and never beyond.

use std::sync::Arc;

use toolgate_core::{ManualClock, RejectReason};
use toolgate_emulator::demo;
use toolgate_entra::providers::{AccessRequirements, EntraJwtConfig, EntraJwtProvider};
use toolgate_entra::{EntraValidator, KeyCache};

use crate::harness::*;

#[tokio::test]
async fn a_cached_token_is_served_until_it_expires_and_then_refused() {
    let emulator = emulator().await;
    let settings = api_settings(&emulator);
    let clock = ManualClock::new(now());
    let keys = KeyCache::new(settings.key_source(), settings.unknown_kid_refresh_interval);
    let validator = EntraValidator::with_key_cache(settings, keys, Arc::new(clock.clone()));
    let provider = EntraJwtProvider::new(
        validator,
        EntraJwtConfig {
            resource: "http://127.0.0.1/mcp".into(),
            scopes: vec!["access_as_user".into()],
            requirements: AccessRequirements {
                required_scopes: vec!["access_as_user".into()],
                ..Default::default()
            },
            resource_name: None,
        },
    );
    let token = sign_in(&emulator, "alice", &[demo::API_SCOPE_ACCESS_AS_USER]).await;
    let first = provider.authenticate_token(&token).await.unwrap();
    let second = provider.authenticate_token(&token).await.unwrap();
    assert!(Arc::ptr_eq(&first, &second), "the second call is served from the cache");
    assert_eq!(provider.cached_tokens(), 1);

    // A refused token is never cached.
    let other = sign_in(&emulator, "alice", &[demo::API_SCOPE_TASKS_READ]).await;
    assert_eq!(
        provider.authenticate_token(&other).await.unwrap_err().reason,
        RejectReason::MissingScope
    );
    assert_eq!(provider.cached_tokens(), 1);

    // Past expiry (and the leeway) the cache no longer answers and validation refuses.
    clock.set(first.expires_at + 3600);
    assert_eq!(
        provider.authenticate_token(&token).await.unwrap_err().reason,
        RejectReason::Expired
    );
}

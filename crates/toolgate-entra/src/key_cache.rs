//! Signing keys per authority: discovered from OIDC metadata, refreshed in the background,
//! refreshed on an unknown `kid` at most once per interval (single-flight), and kept when a
//! refresh fails (last known good).
//!
//! Entra rolls keys over at any time and key order in the JWKS means nothing, so lookups are by
//! `kid` only. Attackers can send random `kid`s: the on-demand refresh is throttled so that they
//! cannot cause a fetch storm, and concurrent requests share one fetch.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Weak};
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use serde::Deserialize;
use toolgate_jose::{JwkSet, RsaPublicKey};

use crate::fetch::{FetchError, get_json, http_client};

/// When no key was ever loaded, waiting minutes between retries would leave the API unusable
/// after one failed start-up fetch; retry sooner.
const RETRY_WITHOUT_KEYS: Duration = Duration::from_secs(10);

/// The metadata documents keys and issuers are read from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeySource {
    /// `{authority}/{tenant}/v2.0/.well-known/openid-configuration`: `jwks_uri` and the v2 issuer.
    pub v2_metadata_url: String,
    /// `{authority}/{tenant}/.well-known/openid-configuration`: the v1 issuer
    /// (`https://sts.windows.net/{tid}/`), when v1 tokens are accepted.
    pub v1_metadata_url: Option<String>,
}

/// A verification key with the JWKS members validation looks at.
#[derive(Debug, Clone)]
pub struct SigningKey {
    pub kid: String,
    pub x5t: Option<String>,
    /// Entra's `issuer` member on the key: exact, or templated with `{tenantid}`.
    pub issuer: Option<String>,
    pub key: RsaPublicKey,
}

/// One consistent view of an authority: keys and issuers loaded together.
#[derive(Debug, Default)]
pub struct AuthoritySnapshot {
    pub keys: HashMap<String, SigningKey>,
    /// The v2 issuer, possibly templated (`…/{tenantid}/v2.0`).
    pub v2_issuer: Option<String>,
    /// The v1 issuer, possibly templated (`https://sts.windows.net/{tenantid}/`).
    pub v1_issuer: Option<String>,
    generation: u64,
}

impl AuthoritySnapshot {
    pub fn is_loaded(&self) -> bool {
        self.generation > 0
    }
}

/// A health signal for readiness probes and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCacheHealth {
    pub key_count: usize,
    pub last_success_unix: Option<u64>,
    pub last_error: Option<String>,
    pub consecutive_failures: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyRefreshError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("the JWKS at {url} holds no usable RSA signing key")]
    NoUsableKeys { url: String },
}

/// Why a key lookup failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyLookupError {
    /// Keys are loaded, but none has this `kid` (even after an allowed refresh).
    UnknownKid,
    /// No keys were ever loaded: fail closed.
    Unavailable,
}

#[derive(Deserialize)]
struct OpenIdConfiguration {
    issuer: String,
    jwks_uri: String,
}

#[derive(Debug, Default)]
struct HealthState {
    last_success_unix: Option<u64>,
    last_error: Option<String>,
    consecutive_failures: u32,
}

/// The key cache for one authority. Share it: [`KeyCache::shared`] hands out one per source.
#[derive(Debug)]
pub struct KeyCache {
    source: KeySource,
    http: reqwest::Client,
    snapshot: RwLock<Arc<AuthoritySnapshot>>,
    /// Held while fetching: one fetch in flight, the others wait and reuse its result.
    refresh_lock: tokio::sync::Mutex<()>,
    last_on_demand: Mutex<Option<Instant>>,
    unknown_kid_interval: Duration,
    health: Mutex<HealthState>,
    fetches: AtomicU64,
}

static REGISTRY: LazyLock<Mutex<HashMap<KeySource, Weak<KeyCache>>>> = LazyLock::new(Default::default);

impl KeyCache {
    pub fn new(source: KeySource, unknown_kid_interval: Duration) -> Arc<Self> {
        Arc::new(Self {
            source,
            http: http_client(),
            snapshot: RwLock::new(Arc::new(AuthoritySnapshot::default())),
            refresh_lock: tokio::sync::Mutex::new(()),
            last_on_demand: Mutex::new(None),
            unknown_kid_interval,
            health: Mutex::new(HealthState::default()),
            fetches: AtomicU64::new(0),
        })
    }

    /// The process-wide cache for `source`, so two providers trusting the same authority share
    /// keys and fetches.
    pub fn shared(source: KeySource, unknown_kid_interval: Duration) -> Arc<Self> {
        let mut registry = REGISTRY.lock();
        registry.retain(|_, cache| cache.strong_count() > 0);
        if let Some(cache) = registry.get(&source).and_then(Weak::upgrade) {
            return cache;
        }
        let cache = Self::new(source.clone(), unknown_kid_interval);
        registry.insert(source, Arc::downgrade(&cache));
        cache
    }

    pub fn source(&self) -> &KeySource {
        &self.source
    }

    pub fn snapshot(&self) -> Arc<AuthoritySnapshot> {
        self.snapshot.read().clone()
    }

    /// How many refreshes ran (each fetches metadata and the JWKS once).
    pub fn refresh_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    pub fn health(&self) -> KeyCacheHealth {
        let health = self.health.lock();
        KeyCacheHealth {
            key_count: self.snapshot().keys.len(),
            last_success_unix: health.last_success_unix,
            last_error: health.last_error.clone(),
            consecutive_failures: health.consecutive_failures,
        }
    }

    /// Fetches metadata and keys now (start-up, background timer). On failure the previous keys
    /// stay in use.
    pub async fn refresh(&self) -> Result<(), KeyRefreshError> {
        let _in_flight = self.refresh_lock.lock().await;
        self.refresh_locked().await
    }

    /// Finds the key for `kid`, refreshing once (shared, throttled) if it is unknown.
    pub async fn key(&self, kid: &str) -> Result<(SigningKey, Arc<AuthoritySnapshot>), KeyLookupError> {
        let snapshot = self.snapshot();
        if let Some(key) = snapshot.keys.get(kid) {
            return Ok((key.clone(), snapshot));
        }
        self.refresh_for_unknown_kid(snapshot.generation).await;
        let snapshot = self.snapshot();
        match snapshot.keys.get(kid) {
            Some(key) => Ok((key.clone(), snapshot.clone())),
            None if snapshot.is_loaded() => Err(KeyLookupError::UnknownKid),
            None => Err(KeyLookupError::Unavailable),
        }
    }

    async fn refresh_for_unknown_kid(&self, seen_generation: u64) {
        let _in_flight = self.refresh_lock.lock().await;
        if self.snapshot.read().generation != seen_generation {
            // Someone refreshed while we waited for the lock: use their result.
            return;
        }
        let interval = if seen_generation == 0 {
            RETRY_WITHOUT_KEYS
        } else {
            self.unknown_kid_interval
        };
        {
            let mut last = self.last_on_demand.lock();
            if last.is_some_and(|at| at.elapsed() < interval) {
                return;
            }
            *last = Some(Instant::now());
        }
        if let Err(error) = self.refresh_locked().await {
            tracing::warn!(%error, source = %self.source.v2_metadata_url, "on-demand signing key refresh failed");
        }
    }

    async fn refresh_locked(&self) -> Result<(), KeyRefreshError> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        match self.load().await {
            Ok(mut fresh) => {
                let mut current = self.snapshot.write();
                fresh.generation = current.generation + 1;
                *current = Arc::new(fresh);
                drop(current);
                let mut health = self.health.lock();
                health.last_success_unix =
                    u64::try_from(toolgate_core::Clock::now_unix(&toolgate_core::SystemClock)).ok();
                health.last_error = None;
                health.consecutive_failures = 0;
                Ok(())
            }
            Err(error) => {
                let mut health = self.health.lock();
                health.last_error = Some(error.to_string());
                health.consecutive_failures += 1;
                tracing::warn!(%error, "signing key refresh failed; keeping the last known good keys");
                Err(error)
            }
        }
    }

    async fn load(&self) -> Result<AuthoritySnapshot, KeyRefreshError> {
        let v2: OpenIdConfiguration = get_json(&self.http, &self.source.v2_metadata_url).await?;
        let v1_issuer = match &self.source.v1_metadata_url {
            Some(url) => Some(get_json::<OpenIdConfiguration>(&self.http, url).await?.issuer),
            None => None,
        };
        let jwks: JwkSet = get_json(&self.http, &v2.jwks_uri).await?;
        let keys: HashMap<String, SigningKey> = jwks
            .keys
            .iter()
            .filter_map(|jwk| {
                let kid = jwk.kid.clone()?;
                if jwk.key_use.as_deref().is_some_and(|u| u != "sig") {
                    return None;
                }
                match RsaPublicKey::from_jwk(jwk) {
                    Ok(key) => Some((
                        kid.clone(),
                        SigningKey {
                            kid,
                            x5t: jwk.x5t.clone(),
                            issuer: jwk.issuer.clone(),
                            key,
                        },
                    )),
                    Err(error) => {
                        tracing::debug!(%error, %kid, "skipping unusable JWK");
                        None
                    }
                }
            })
            .collect();
        if keys.is_empty() {
            return Err(KeyRefreshError::NoUsableKeys { url: v2.jwks_uri });
        }
        Ok(AuthoritySnapshot {
            keys,
            v2_issuer: Some(v2.issuer),
            v1_issuer,
            generation: 0,
        })
    }

    /// Refreshes every `period` until the cache is dropped.
    pub fn spawn_background_refresh(self: &Arc<Self>, period: Duration) {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(period);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticker.tick().await;
            loop {
                ticker.tick().await;
                let Some(cache) = weak.upgrade() else { break };
                // Errors are logged and recorded in health; last known good keys stay.
                let _ = cache.refresh().await;
            }
        });
    }
}

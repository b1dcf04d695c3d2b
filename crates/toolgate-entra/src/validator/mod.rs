//! Entra access-token validation: the rules of `entra-token-rules.md`, each failure with its own
//! [`RejectReason`].
//!
//! Order matters only for which reason is reported: the header is judged before any key is
//! looked up (Graph tokens are never verified), the signature before any claim is trusted, and
//! claims from the cheapest to the most specific.

mod claims;
mod header;
mod principal;

use std::sync::Arc;

use serde_json::{Map, Value};
use toolgate_core::{AuthRejection, Clock, Principal, RejectReason};
use toolgate_jose::CompactJws;

use crate::key_cache::{KeyCache, KeyLookupError, KeyRefreshError};
use crate::settings::EntraSettings;

/// The `ver` claim: v1 (`sts.windows.net` issuer, App ID URI audience) or v2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenVersion {
    V1,
    V2,
}

/// A token whose signature and claims passed every rule. Claims are only reachable from here.
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    pub version: TokenVersion,
    pub tenant_id: String,
    pub expires_at: i64,
    pub claims: Map<String, Value>,
}

impl VerifiedToken {
    /// The caller as toolgate's later stages see it.
    pub fn principal(&self, provider: &str) -> Result<Principal, AuthRejection> {
        principal::from_verified(self, provider)
    }
}

/// Validates Entra access tokens for one API.
#[derive(Clone)]
pub struct EntraValidator {
    settings: Arc<EntraSettings>,
    keys: Arc<KeyCache>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for EntraValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntraValidator")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl EntraValidator {
    /// A validator sharing the process-wide key cache of its authority.
    pub fn new(settings: EntraSettings, clock: Arc<dyn Clock>) -> Self {
        let keys = KeyCache::shared(settings.key_source(), settings.unknown_kid_refresh_interval);
        Self::with_key_cache(settings, keys, clock)
    }

    /// A validator with its own key cache (tests count its fetches).
    pub fn with_key_cache(settings: EntraSettings, keys: Arc<KeyCache>, clock: Arc<dyn Clock>) -> Self {
        Self {
            settings: Arc::new(settings),
            keys,
            clock,
        }
    }

    pub fn settings(&self) -> &EntraSettings {
        &self.settings
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn key_cache(&self) -> &Arc<KeyCache> {
        &self.keys
    }

    /// Loads keys now and keeps them fresh in the background. A failure is returned (to log)
    /// but is not fatal: requests fail closed until keys load.
    pub async fn start(&self) -> Result<(), KeyRefreshError> {
        let result = if self.keys.snapshot().is_loaded() {
            Ok(())
        } else {
            self.keys.refresh().await
        };
        self.keys.spawn_background_refresh(self.settings.key_refresh_interval);
        result
    }

    /// Validates a bearer token.
    pub async fn validate(&self, token: &str) -> Result<VerifiedToken, AuthRejection> {
        let jws =
            CompactJws::parse(token).map_err(|e| AuthRejection::new(RejectReason::MalformedToken, e.to_string()))?;
        let kid = header::check(&jws)?;
        let (key, snapshot) = self.keys.key(kid).await.map_err(|e| match e {
            KeyLookupError::UnknownKid => AuthRejection::new(
                RejectReason::UnknownSigningKey,
                format!("no signing key with kid {kid}"),
            ),
            KeyLookupError::Unavailable => {
                AuthRejection::new(RejectReason::KeysUnavailable, "signing keys could not be loaded")
            }
        })?;
        header::check_thumbprint(&jws, &key)?;
        key.key
            .verify_rs256(jws.signing_input.as_bytes(), &jws.signature)
            .map_err(|_| AuthRejection::new(RejectReason::BadSignature, "signature does not verify"))?;
        // From here on the claims are authentic; now check they are meant for us, now.
        claims::check(jws.payload, &self.settings, &snapshot, &key, self.clock.now_unix())
    }
}

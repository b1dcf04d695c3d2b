//! Dynamically registered clients (RFC 7591) in the state store, bounded: anyone may register,
//! so what registrations can make the server keep is limited on every axis.
//!
//! - **Size**: only the validated, normalised registration is stored (field bounds in
//!   [`crate::registration`]), never the request as sent.
//! - **Duplicates**: a public client registering metadata identical to a live registration gets
//!   that registration's `client_id` back instead of a new record (same metadata → same client;
//!   confidential clients always get a new client and secret). Clients that register on every
//!   connection (the MCP SDKs, Claude Code) therefore cost one record, not one per connection.
//! - **Lifetime**: a registration that never obtains tokens is forgotten after
//!   [`Lifetimes::unused_registration`] (default one hour); the first successful token request
//!   extends it to [`Lifetimes::registration`] (default 90 days) from then.
//! - **Count**: at most `max_unused` registrations that have not obtained tokens are kept;
//!   registering beyond that answers 503 until some expire. Counted in time buckets covering the
//!   unused lifetime (up to 13 counters), so the count can only over-estimate.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use toolgate_core::Clock;
use toolgate_store::{Namespace, StateStore, StateStoreJson, StoreError};

use crate::client::{ClientId, ClientSource, RegisteredClient};
use crate::client_secret::{ClientSecret, ClientSecretDigest};
use crate::config::Lifetimes;
use crate::crypto::digest_b64;
use crate::registration::{RegistrationPolicy, RegistrationRequest, ValidatedRegistration};

/// Most time buckets summed to count live unused registrations.
const MAX_COUNT_BUCKETS: u64 = 12;

/// A dynamically registered client as stored: its normalised registration, re-validated on load.
#[derive(Serialize, Deserialize)]
struct StoredClient {
    request: RegistrationRequest,
    /// SHA-256 of the secret, base64url; never the secret.
    secret_digest: Option<String>,
    issued_at: i64,
    /// When the client first obtained tokens (seconds since the epoch); `None` while unused.
    #[serde(default)]
    first_used_at: Option<i64>,
}

/// What a registration led to.
pub(crate) enum Registered {
    /// A new client; the secret (confidential clients) is returned once.
    New(Box<RegisteredClient>, Option<ClientSecret>),
    /// Identical metadata was registered before: that client.
    Existing(Arc<RegisteredClient>),
    /// `max_unused` unused registrations are live: none is stored.
    Full,
}

/// The store of dynamically registered clients.
pub(crate) struct DynamicClients {
    store: Arc<dyn StateStore>,
    policy: RegistrationPolicy,
    lifetimes: Lifetimes,
    max_unused: u64,
    clock: Arc<dyn Clock>,
}

impl DynamicClients {
    pub fn new(
        store: Arc<dyn StateStore>,
        policy: RegistrationPolicy,
        lifetimes: Lifetimes,
        max_unused: u64,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            policy,
            lifetimes,
            max_unused,
            clock,
        }
    }

    pub fn policy(&self) -> &RegistrationPolicy {
        &self.policy
    }

    pub async fn lookup(&self, client_id: &str) -> Result<Option<Arc<RegisteredClient>>, StoreError> {
        let Some(stored) = self
            .store
            .get_json::<StoredClient>(Namespace::CLIENT, client_id)
            .await?
        else {
            return Ok(None);
        };
        Ok(self.client(client_id, &stored).map(Arc::new))
    }

    fn client(&self, client_id: &str, stored: &StoredClient) -> Option<RegisteredClient> {
        let stored_policy = RegistrationPolicy {
            allow_confidential_clients: true,
            ..self.policy.clone()
        };
        // Registered under the same rules; a failure here means the rules got stricter since.
        let validated = stored.request.validate(&stored_policy).ok()?;
        let digest = stored
            .secret_digest
            .as_deref()
            .and_then(|d| toolgate_jose::base64url_decode(d).ok())
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .map(ClientSecretDigest::from_bytes);
        let mut client = RegisteredClient::from_validated(
            ClientId::new(client_id),
            validated,
            digest,
            stored.issued_at,
            ClientSource::Dynamic,
        );
        client.first_used_at = stored.first_used_at;
        Some(client)
    }

    /// Registers `validated`: the existing client for identical public metadata, or a new one
    /// (unless `max_unused` unused registrations are live).
    pub async fn register(&self, validated: ValidatedRegistration) -> Result<Registered, StoreError> {
        let request = validated.to_request();
        let public = !validated.token_endpoint_auth_method.uses_secret();
        let dedup_key = public.then(|| metadata_digest(&request)).transpose()?;
        if let Some(key) = &dedup_key
            && let Some(existing) = self.by_metadata(key).await?
        {
            return Ok(Registered::Existing(existing));
        }
        if self.unused_count().await? >= self.max_unused {
            return Ok(Registered::Full);
        }
        let (client, secret) = RegisteredClient::register(validated, self.clock.as_ref());
        let stored = StoredClient {
            request,
            secret_digest: client
                .secret_digest
                .as_ref()
                .map(|d| toolgate_jose::base64url_encode(d.as_bytes())),
            issued_at: client.issued_at,
            first_used_at: None,
        };
        let ttl = self.lifetimes.unused_registration;
        let id = client.client_id.as_str();
        self.store.put_json(Namespace::CLIENT, id, &stored, ttl).await?;
        if let Some(key) = &dedup_key
            && !self
                .store
                .put_new(Namespace::CLIENT_DEDUP, key, id.as_bytes(), ttl)
                .await?
        {
            // An identical registration raced this one and won: use it, drop ours.
            if let Some(existing) = self.by_metadata(key).await? {
                self.store.delete(Namespace::CLIENT, id).await?;
                return Ok(Registered::Existing(existing));
            }
            // The index named a client that is gone: it names this one now.
            self.store.put(Namespace::CLIENT_DEDUP, key, id.as_bytes(), ttl).await?;
        }
        self.count_new().await?;
        Ok(Registered::New(Box::new(client), secret))
    }

    /// Marks a dynamically registered client used (it obtained tokens): from now on it is kept
    /// for the long lifetime. Does nothing for clients already used or of another source.
    pub async fn mark_used(&self, client: &RegisteredClient) -> Result<(), StoreError> {
        if client.source != ClientSource::Dynamic || client.first_used_at.is_some() {
            return Ok(());
        }
        let id = client.client_id.as_str();
        let Some(mut stored) = self.store.get_json::<StoredClient>(Namespace::CLIENT, id).await? else {
            return Ok(());
        };
        if stored.first_used_at.is_some() {
            return Ok(());
        }
        stored.first_used_at = Some(self.clock.now_unix());
        let ttl = self.lifetimes.registration;
        self.store.put_json(Namespace::CLIENT, id, &stored, ttl).await?;
        if stored.secret_digest.is_none() {
            let key = metadata_digest(&stored.request)?;
            self.store
                .put(Namespace::CLIENT_DEDUP, &key, id.as_bytes(), ttl)
                .await?;
        }
        Ok(())
    }

    /// The live client registered with the metadata whose digest is `key`.
    async fn by_metadata(&self, key: &str) -> Result<Option<Arc<RegisteredClient>>, StoreError> {
        let Some(id) = self.store.get(Namespace::CLIENT_DEDUP, key).await? else {
            return Ok(None);
        };
        let id = String::from_utf8_lossy(&id).into_owned();
        self.lookup(&id).await
    }

    /// The bucket width for counting unused registrations, in seconds.
    fn bucket_seconds(&self) -> i64 {
        let lifetime = self.lifetimes.unused_registration.as_secs().max(60);
        i64::try_from(lifetime.div_ceil(MAX_COUNT_BUCKETS))
            .unwrap_or(i64::MAX)
            .max(60)
    }

    /// Registrations created within the unused lifetime (an over-estimate of the live unused ones).
    async fn unused_count(&self) -> Result<u64, StoreError> {
        let width = self.bucket_seconds();
        let lifetime = i64::try_from(self.lifetimes.unused_registration.as_secs()).unwrap_or(i64::MAX);
        let now = self.clock.now_unix();
        let first = now.saturating_sub(lifetime).div_euclid(width);
        let last = now.div_euclid(width);
        let mut total = 0u64;
        for bucket in first..=last {
            if let Some(value) = self.store.get(Namespace::RATE, &count_key(bucket)).await? {
                let count = std::str::from_utf8(&value)
                    .ok()
                    .and_then(|text| text.trim().parse::<u64>().ok())
                    .unwrap_or(0);
                total = total.saturating_add(count);
            }
        }
        Ok(total)
    }

    async fn count_new(&self) -> Result<(), StoreError> {
        let width = self.bucket_seconds();
        let bucket = self.clock.now_unix().div_euclid(width);
        let ttl = self
            .lifetimes
            .unused_registration
            .saturating_add(Duration::from_secs(width.unsigned_abs()));
        self.store.incr(Namespace::RATE, &count_key(bucket), ttl).await?;
        Ok(())
    }
}

fn count_key(bucket: i64) -> String {
    format!("registrations:unused:{bucket}")
}

/// The de-duplication key of a normalised registration: SHA-256 of its canonical JSON (list
/// order does not make metadata different).
fn metadata_digest(request: &RegistrationRequest) -> Result<String, StoreError> {
    let mut canonical = request.clone();
    for list in [
        &mut canonical.redirect_uris,
        &mut canonical.grant_types,
        &mut canonical.response_types,
    ]
    .into_iter()
    .flatten()
    {
        list.sort();
    }
    let canonical = serde_json::to_string(&canonical).map_err(|source| StoreError::Codec {
        action: "encode",
        ns: Namespace::CLIENT_DEDUP,
        source,
    })?;
    Ok(digest_b64(&canonical))
}

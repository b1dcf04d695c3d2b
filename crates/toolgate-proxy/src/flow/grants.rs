//! Store operations for grants, codes and refresh tokens. Every single-use step is one atomic
//! store operation, so two processes (or two racing requests) can never both succeed.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use toolgate_core::Clock;
use toolgate_store::{Namespace, StateStore, StateStoreJson, StoreError};

use super::{ClientRequest, EntraTokens, Grant, IssuedCode, UserClaims};
use crate::config::Lifetimes;
use crate::crypto::{DerivedKeys, Sealed, digest_b64, random_token};

/// Redeemed codes, kept a little longer than the codes themselves: a second redemption revokes
/// whatever the first one obtained (RFC 6749 §4.1.2).
const CODE_USED: Namespace = Namespace::CODE_USED;

/// What presenting an authorization code led to.
#[derive(Debug)]
pub(crate) enum CodeOutcome {
    Valid(IssuedCode),
    /// Already redeemed: the grant the first redemption obtained has been revoked.
    Replayed,
    /// Never issued or expired.
    Unknown,
}

/// What presenting a refresh token led to. Looking it up consumes nothing: the token is spent
/// only by [`Grants::claim_refresh_token`] once everything else (Entra included) has succeeded.
#[derive(Debug)]
pub(crate) enum RefreshOutcome {
    /// A live token of a live grant, not yet exchanged.
    Valid { grant_id: String, grant: Box<Grant> },
    /// The token was already exchanged: its whole family has been revoked.
    Replayed,
    /// An exchange of this token is under way (or was interrupted within the last
    /// [`CLAIM_SECONDS`]): try again shortly. Nothing is revoked.
    InProgress,
    /// Never issued, expired, or its grant was revoked.
    Unknown,
}

/// How long an interrupted exchange keeps its token from being presented again. After that an
/// exchange that never completed leaves the token usable (RFC 6749 §6 only requires revoking the
/// family when a token that *was* exchanged comes back).
pub(crate) const CLAIM_SECONDS: u64 = 30;

/// The state of a refresh token's exchange, in [`Namespace::REFRESH_USED`].
#[derive(Debug, Serialize, Deserialize)]
struct Exchange {
    grant_id: String,
    /// `false` while the exchange is under way, `true` once the new tokens were issued.
    done: bool,
}

#[derive(Serialize, Deserialize)]
struct RefreshRecord {
    grant_id: String,
    client_id: String,
}

/// Grant, code and refresh-token bookkeeping over a [`StateStore`].
#[derive(Clone)]
pub(crate) struct Grants {
    store: Arc<dyn StateStore>,
    keys: Arc<DerivedKeys>,
    lifetimes: Lifetimes,
    clock: Arc<dyn Clock>,
}

impl Grants {
    pub fn new(
        store: Arc<dyn StateStore>,
        keys: Arc<DerivedKeys>,
        lifetimes: Lifetimes,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            keys,
            lifetimes,
            clock,
        }
    }

    pub fn store(&self) -> &dyn StateStore {
        self.store.as_ref()
    }

    pub fn seal(&self, tokens: &EntraTokens, record_id: &str) -> Result<Sealed, StoreError> {
        let plain = serde_json::to_vec(tokens).map_err(|source| StoreError::Codec {
            action: "encode",
            ns: Namespace::REFRESH_FAMILY,
            source,
        })?;
        self.keys
            .sealing
            .seal(&plain, record_id.as_bytes())
            .map_err(|_| sealing_failed())
    }

    pub fn open(&self, sealed: &Sealed, record_id: &str) -> Result<EntraTokens, StoreError> {
        let plain = self
            .keys
            .sealing
            .open(sealed, record_id.as_bytes())
            .map_err(|_| sealing_failed())?;
        serde_json::from_slice(&plain).map_err(|source| StoreError::Codec {
            action: "decode",
            ns: Namespace::REFRESH_FAMILY,
            source,
        })
    }

    /// Creates a grant for `user` and `client_id`; returns its id.
    pub async fn create_grant(
        &self,
        client_id: &str,
        user: UserClaims,
        scopes: Vec<String>,
        tokens: &EntraTokens,
    ) -> Result<String, StoreError> {
        let grant_id = random_token(24);
        let grant = Grant {
            client_id: client_id.to_owned(),
            user,
            scopes,
            upstream: self.seal(tokens, &grant_id)?,
            expires_at: self.clock.now_unix().saturating_add(secs(self.lifetimes.refresh_token)),
        };
        self.store
            .put_json(
                Namespace::REFRESH_FAMILY,
                &grant_id,
                &grant,
                self.lifetimes.refresh_token,
            )
            .await?;
        Ok(grant_id)
    }

    pub async fn grant(&self, grant_id: &str) -> Result<Option<Grant>, StoreError> {
        self.store.get_json(Namespace::REFRESH_FAMILY, grant_id).await
    }

    /// Replaces a grant's contents, keeping its end of life.
    pub async fn save_grant(&self, grant_id: &str, grant: &Grant) -> Result<(), StoreError> {
        let Some(ttl) = self.remaining(grant.expires_at) else {
            return Ok(());
        };
        self.store
            .put_json(Namespace::REFRESH_FAMILY, grant_id, grant, ttl)
            .await
    }

    /// Revokes a grant: every refresh token of its family stops working at once.
    pub async fn revoke(&self, grant_id: &str) -> Result<bool, StoreError> {
        self.store.delete(Namespace::REFRESH_FAMILY, grant_id).await
    }

    /// Issues a single-use authorization code for `grant_id`.
    pub async fn issue_code(&self, grant_id: &str, request: &ClientRequest) -> Result<String, StoreError> {
        let code = random_token(32);
        let record = IssuedCode {
            grant_id: grant_id.to_owned(),
            client_id: request.client_id.clone(),
            redirect_uri: request.redirect_uri.clone(),
            challenge: request.challenge.clone(),
        };
        self.store
            .put_json(
                Namespace::CODE,
                &digest_b64(&code),
                &record,
                self.lifetimes.authorization_code,
            )
            .await?;
        Ok(code)
    }

    /// Consumes a code. A second presentation finds the "used" marker and revokes the grant the
    /// first one obtained.
    pub async fn redeem_code(&self, code: &str) -> Result<CodeOutcome, StoreError> {
        let key = digest_b64(code);
        match self.store.take_json::<IssuedCode>(Namespace::CODE, &key).await? {
            Some(issued) => {
                let ttl = self.lifetimes.authorization_code.saturating_mul(2);
                self.store.put(CODE_USED, &key, issued.grant_id.as_bytes(), ttl).await?;
                Ok(CodeOutcome::Valid(issued))
            }
            None => {
                if let Some(grant_id) = self.store.take(CODE_USED, &key).await? {
                    let grant_id = String::from_utf8_lossy(&grant_id).into_owned();
                    self.revoke(&grant_id).await?;
                    tracing::warn!("authorization code replayed: its grant has been revoked");
                    return Ok(CodeOutcome::Replayed);
                }
                Ok(CodeOutcome::Unknown)
            }
        }
    }

    /// Issues a refresh token in `grant_id`'s family.
    pub async fn issue_refresh_token(&self, grant_id: &str, grant: &Grant) -> Result<Option<String>, StoreError> {
        let Some(ttl) = self.remaining(grant.expires_at) else {
            return Ok(None);
        };
        let token = random_token(32);
        let record = RefreshRecord {
            grant_id: grant_id.to_owned(),
            client_id: grant.client_id.clone(),
        };
        self.store
            .put_json(Namespace::REFRESH, &digest_b64(&token), &record, ttl)
            .await?;
        Ok(Some(token))
    }

    /// Looks a refresh token up for `client_id` without consuming it. A token whose exchange
    /// completed before is a replay: the family is revoked.
    pub async fn refresh_token(&self, token: &str, client_id: &str) -> Result<RefreshOutcome, StoreError> {
        let key = digest_b64(token);
        if let Some(exchange) = self.exchange(&key).await? {
            return self.replayed_or_in_progress(exchange).await;
        }
        let Some(record) = self.store.get_json::<RefreshRecord>(Namespace::REFRESH, &key).await? else {
            return Ok(RefreshOutcome::Unknown);
        };
        if !crate::crypto::same(&record.client_id, client_id) {
            return Ok(RefreshOutcome::Unknown);
        }
        let Some(grant) = self.grant(&record.grant_id).await? else {
            return Ok(RefreshOutcome::Unknown);
        };
        Ok(RefreshOutcome::Valid {
            grant_id: record.grant_id,
            grant: Box::new(grant),
        })
    }

    async fn replayed_or_in_progress(&self, exchange: Exchange) -> Result<RefreshOutcome, StoreError> {
        if !exchange.done {
            return Ok(RefreshOutcome::InProgress);
        }
        self.revoke(&exchange.grant_id).await?;
        tracing::warn!("refresh token replayed: its family has been revoked");
        Ok(RefreshOutcome::Replayed)
    }

    /// Claims a refresh token for one exchange: of concurrent claims exactly one wins (`put_new`).
    /// A lost claim is a replay (the other exchange completed; the family is revoked) or an
    /// exchange in progress. A claim that is neither completed nor released lapses after
    /// [`CLAIM_SECONDS`].
    pub async fn claim_refresh_token(&self, token: &str, grant_id: &str) -> Result<Option<RefreshOutcome>, StoreError> {
        let key = digest_b64(token);
        let claim = Exchange {
            grant_id: grant_id.to_owned(),
            done: false,
        };
        let value = serde_json::to_vec(&claim).map_err(|source| StoreError::Codec {
            action: "encode",
            ns: Namespace::REFRESH_USED,
            source,
        })?;
        let ttl = Duration::from_secs(CLAIM_SECONDS);
        if self.store.put_new(Namespace::REFRESH_USED, &key, &value, ttl).await? {
            return Ok(None);
        }
        match self.exchange(&key).await? {
            Some(exchange) => Ok(Some(self.replayed_or_in_progress(exchange).await?)),
            None => Ok(Some(RefreshOutcome::InProgress)),
        }
    }

    /// The exchange state of the token whose digest is `key`. Markers written before exchanges
    /// were tracked hold only the grant id: a completed exchange.
    async fn exchange(&self, key: &str) -> Result<Option<Exchange>, StoreError> {
        let Some(raw) = self.store.get(Namespace::REFRESH_USED, key).await? else {
            return Ok(None);
        };
        Ok(Some(serde_json::from_slice(&raw).unwrap_or_else(|_| Exchange {
            grant_id: String::from_utf8_lossy(&raw).into_owned(),
            done: true,
        })))
    }

    /// Completes a claimed exchange: a new refresh token in the family, the old one marked
    /// exchanged (presenting it again revokes the family) and removed.
    pub async fn complete_refresh(
        &self,
        token: &str,
        grant_id: &str,
        grant: &Grant,
    ) -> Result<Option<String>, StoreError> {
        let new_token = self.issue_refresh_token(grant_id, grant).await?;
        let key = digest_b64(token);
        let ttl = self.remaining(grant.expires_at).unwrap_or(Duration::from_secs(1));
        let done = Exchange {
            grant_id: grant_id.to_owned(),
            done: true,
        };
        self.store.put_json(Namespace::REFRESH_USED, &key, &done, ttl).await?;
        self.store.delete(Namespace::REFRESH, &key).await?;
        Ok(new_token)
    }

    /// Gives a claimed token back after a failure, so the client's retry is not taken for reuse.
    /// Best effort: if the store cannot be reached, the claim lapses after [`CLAIM_SECONDS`].
    pub async fn release_refresh_token(&self, token: &str) {
        if let Err(error) = self.store.delete(Namespace::REFRESH_USED, &digest_b64(token)).await {
            tracing::warn!(error = %error, "could not release a refresh-token claim; it lapses on its own");
        }
    }

    /// The refresh token's grant id, if the token is live and belongs to `client_id` (revocation).
    pub async fn refresh_token_grant(&self, token: &str, client_id: &str) -> Result<Option<String>, StoreError> {
        let key = digest_b64(token);
        let record = self.store.get_json::<RefreshRecord>(Namespace::REFRESH, &key).await?;
        Ok(record
            .filter(|r| crate::crypto::same(&r.client_id, client_id))
            .map(|r| r.grant_id))
    }

    fn remaining(&self, expires_at: i64) -> Option<Duration> {
        let left = expires_at.saturating_sub(self.clock.now_unix());
        (left > 0).then(|| Duration::from_secs(left.unsigned_abs()))
    }
}

fn sealing_failed() -> StoreError {
    StoreError::Backend {
        op: "seal",
        ns: Namespace::REFRESH_FAMILY,
        source: "sealed value could not be opened (wrong proxy secret or tampered record)".into(),
    }
}

pub(crate) fn secs(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use toolgate_core::ManualClock;
    use toolgate_store::MemoryStore;

    use super::*;
    use crate::crypto::ProxySecret;

    async fn grants_with_token() -> Result<(Grants, String, String, Grant), Box<dyn std::error::Error>> {
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(1_800_000_000));
        let store = Arc::new(MemoryStore::with_clock(clock.clone()));
        let keys = Arc::new(ProxySecret::generate().derive().map_err(|_| "keys")?);
        let grants = Grants::new(store, keys, Lifetimes::default(), clock);
        let user = UserClaims {
            sub: "user:t/o".into(),
            tid: "t".into(),
            oid: Some("o".into()),
            name: None,
            preferred_username: None,
            roles: Vec::new(),
            groups: Some(Vec::new()),
            guest: false,
            extra: serde_json::Map::new(),
        };
        let tokens = EntraTokens {
            access_token: "entra".into(),
            refresh_token: Some("entra-refresh".into()),
            expires_at: 1_800_003_600,
        };
        let grant_id = grants
            .create_grant("client-1", user, vec!["access_as_user".into()], &tokens)
            .await?;
        let grant = grants.grant(&grant_id).await?.ok_or("grant")?;
        let token = grants.issue_refresh_token(&grant_id, &grant).await?.ok_or("token")?;
        Ok((grants, grant_id, token, grant))
    }

    #[tokio::test]
    async fn looking_a_refresh_token_up_consumes_nothing() -> Result<(), Box<dyn std::error::Error>> {
        let (grants, _, token, _) = grants_with_token().await?;
        for _ in 0..3 {
            assert!(matches!(
                grants.refresh_token(&token, "client-1").await?,
                RefreshOutcome::Valid { .. }
            ));
        }
        assert!(matches!(
            grants.refresh_token(&token, "client-2").await?,
            RefreshOutcome::Unknown
        ));
        Ok(())
    }

    #[tokio::test]
    async fn a_released_claim_leaves_the_token_usable_and_a_completed_one_makes_reuse_revoke()
    -> Result<(), Box<dyn std::error::Error>> {
        let (grants, grant_id, token, grant) = grants_with_token().await?;
        assert!(
            grants.claim_refresh_token(&token, &grant_id).await?.is_none(),
            "first claim wins"
        );
        assert!(
            matches!(
                grants.claim_refresh_token(&token, &grant_id).await?,
                Some(RefreshOutcome::InProgress)
            ),
            "a concurrent claim is told to retry"
        );
        assert!(matches!(
            grants.refresh_token(&token, "client-1").await?,
            RefreshOutcome::InProgress
        ));
        // The exchange failed after the claim: the token goes back.
        grants.release_refresh_token(&token).await;
        assert!(matches!(
            grants.refresh_token(&token, "client-1").await?,
            RefreshOutcome::Valid { .. }
        ));
        assert!(grants.claim_refresh_token(&token, &grant_id).await?.is_none());
        let rotated = grants
            .complete_refresh(&token, &grant_id, &grant)
            .await?
            .ok_or("rotated")?;
        assert!(matches!(
            grants.refresh_token(&rotated, "client-1").await?,
            RefreshOutcome::Valid { .. }
        ));
        // The exchanged token comes back: replay, the family is revoked.
        assert!(matches!(
            grants.refresh_token(&token, "client-1").await?,
            RefreshOutcome::Replayed
        ));
        assert!(grants.grant(&grant_id).await?.is_none());
        assert!(matches!(
            grants.refresh_token(&rotated, "client-1").await?,
            RefreshOutcome::Unknown
        ));
        Ok(())
    }
}

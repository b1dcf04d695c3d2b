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

/// What presenting a refresh token led to.
#[derive(Debug)]
pub(crate) enum RefreshOutcome {
    /// First use of a live token: here is its grant, now rotated.
    Valid { grant_id: String, grant: Box<Grant> },
    /// The token was already used: its whole family has been revoked.
    Replayed,
    /// Never issued, expired, or its grant was revoked.
    Unknown,
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

    /// Redeems a refresh token for `client_id`. The first redemption wins atomically
    /// (`put_new` on the "used" marker); any later one is a replay and revokes the family.
    pub async fn redeem_refresh_token(&self, token: &str, client_id: &str) -> Result<RefreshOutcome, StoreError> {
        let key = digest_b64(token);
        let Some(record) = self.store.get_json::<RefreshRecord>(Namespace::REFRESH, &key).await? else {
            if let Some(grant_id) = self.store.get(Namespace::REFRESH_USED, &key).await? {
                let grant_id = String::from_utf8_lossy(&grant_id).into_owned();
                self.revoke(&grant_id).await?;
                tracing::warn!("refresh token replayed: its family has been revoked");
                return Ok(RefreshOutcome::Replayed);
            }
            return Ok(RefreshOutcome::Unknown);
        };
        if !crate::crypto::same(&record.client_id, client_id) {
            return Ok(RefreshOutcome::Unknown);
        }
        let Some(grant) = self.grant(&record.grant_id).await? else {
            return Ok(RefreshOutcome::Unknown);
        };
        let ttl = self.remaining(grant.expires_at).unwrap_or(Duration::from_secs(1));
        let first = self
            .store
            .put_new(Namespace::REFRESH_USED, &key, record.grant_id.as_bytes(), ttl)
            .await?;
        if !first {
            self.revoke(&record.grant_id).await?;
            tracing::warn!("refresh token replayed concurrently: its family has been revoked");
            return Ok(RefreshOutcome::Replayed);
        }
        self.store.delete(Namespace::REFRESH, &key).await?;
        Ok(RefreshOutcome::Valid {
            grant_id: record.grant_id,
            grant: Box::new(grant),
        })
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

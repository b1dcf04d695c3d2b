//! The proxy's own access tokens: RS256 JWTs with `kid`, `iss` = the proxy, `aud` = the MCP
//! resource. Entra's tokens never leave the proxy.
//!
//! The signing key lives in the state store, sealed with the proxy secret, so every process that
//! shares the store and the secret signs and verifies with the same key; validation itself needs
//! nothing but memory, so issued tokens keep working while the store is down.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};
use toolgate_core::{AuthRejection, Clock, Principal, RejectReason};
use toolgate_jose::{CompactJws, JwkSet, RsaPublicKey, RsaSigningKey, encode_compact};
use toolgate_store::{Namespace, StateStore, StoreError};

use crate::crypto::{SealingKey, random_token};
use crate::flow::UserClaims;

/// Where the sealed signing key is kept.
const KEY_NS: Namespace = Namespace::SIGNING_KEY;
const KEY_NAME: &str = "current";
/// Kept for ten years; rotation is an operator action (delete the key, restart).
const KEY_TTL: Duration = Duration::from_secs(10 * 365 * 24 * 3600);
/// Clock skew tolerated on `exp`/`nbf`.
const LEEWAY_SECONDS: i64 = 30;
/// RFC 9068 media type of JWT access tokens, so they are never mistaken for ID tokens.
const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// Why the signing key could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SigningKeyError {
    #[error("the state store could not load or save the signing key")]
    Store(#[from] StoreError),
    #[error("the stored signing key cannot be opened with this proxy secret (all processes must share one secret)")]
    WrongSecret,
    #[error("could not generate or parse the RSA signing key: {0}")]
    Key(String),
}

/// What a proxy token says, once verified.
#[derive(Debug, Clone)]
pub struct VerifiedAccessToken {
    pub user: UserClaims,
    pub client_id: String,
    pub scopes: Vec<String>,
    /// The refresh-token family (grant) the token came from; `sid` in the token.
    pub grant_id: Option<String>,
    pub expires_at: i64,
    pub claims: Map<String, Value>,
}

/// Signs and verifies the proxy's access tokens.
pub struct TokenSigner {
    key: RsaSigningKey,
    public: RsaPublicKey,
    issuer: String,
    resource: String,
    lifetime: Duration,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSigner")
            .field("kid", &self.key.kid())
            .field("issuer", &self.issuer)
            .field("resource", &self.resource)
            .finish_non_exhaustive()
    }
}

impl TokenSigner {
    /// Loads the shared signing key from the store, creating it if this is the first process.
    pub(crate) async fn load_or_create(
        store: &dyn StateStore,
        sealing: &SealingKey,
        issuer: String,
        resource: String,
        lifetime: Duration,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, SigningKeyError> {
        let key = match store.get(KEY_NS, KEY_NAME).await? {
            Some(stored) => open_key(&stored, sealing)?,
            None => {
                let kid = random_token(12);
                let fresh = RsaSigningKey::generate(kid.clone()).map_err(|e| SigningKeyError::Key(e.to_string()))?;
                let der = fresh.to_pkcs8_der().map_err(|e| SigningKeyError::Key(e.to_string()))?;
                let mut plain = kid.into_bytes();
                plain.push(b'\n');
                plain.extend_from_slice(&der);
                let sealed = sealing
                    .seal(&plain, KEY_NAME.as_bytes())
                    .map_err(|_| SigningKeyError::Key("sealing failed".into()))?;
                let sealed = serde_json::to_vec(&sealed).map_err(|e| SigningKeyError::Key(e.to_string()))?;
                if store.put_new(KEY_NS, KEY_NAME, &sealed, KEY_TTL).await? {
                    fresh
                } else {
                    // Another process won the race: use its key.
                    let stored = store.get(KEY_NS, KEY_NAME).await?.ok_or(SigningKeyError::WrongSecret)?;
                    open_key(&stored, sealing)?
                }
            }
        };
        let public = key.public_key();
        Ok(Self {
            key,
            public,
            issuer,
            resource,
            lifetime,
            clock,
        })
    }

    pub fn kid(&self) -> &str {
        self.key.kid()
    }

    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// The JWKS the proxy publishes.
    pub fn jwks(&self) -> JwkSet {
        let mut jwk = self.key.public_jwk();
        jwk.key_use = Some("sig".into());
        jwk.alg = Some("RS256".into());
        JwkSet { keys: vec![jwk] }
    }

    /// Mints an access token for `user`, obtained by `client_id`, for this proxy's resource.
    pub fn mint(
        &self,
        user: &UserClaims,
        client_id: &str,
        scopes: &[String],
        grant_id: &str,
    ) -> Result<String, toolgate_jose::JwsError> {
        self.mint_for(&self.resource, user, client_id, scopes, grant_id)
    }

    /// Mints a token for another audience. Only tests use it, to prove such a token is refused.
    #[doc(hidden)]
    pub fn mint_for(
        &self,
        audience: &str,
        user: &UserClaims,
        client_id: &str,
        scopes: &[String],
        grant_id: &str,
    ) -> Result<String, toolgate_jose::JwsError> {
        let now = self.clock.now_unix();
        let lifetime = i64::try_from(self.lifetime.as_secs()).unwrap_or(i64::MAX);
        let mut claims = Map::new();
        user.token_claims(&mut claims);
        let scope = scopes.join(" ");
        let common = json!({
            "iss": self.issuer,
            "aud": audience,
            "iat": now,
            "nbf": now,
            "exp": now.saturating_add(lifetime),
            "jti": random_token(16),
            "client_id": client_id,
            "azp": client_id,
            "scope": scope,
            "scp": scope,
            "sid": grant_id,
            "idtyp": "user",
        });
        if let Value::Object(common) = common {
            claims.extend(common);
        }
        let mut header = Map::new();
        header.insert("typ".into(), Value::from(ACCESS_TOKEN_TYP));
        encode_compact(header, &Value::Object(claims), &self.key)
    }

    /// Verifies a proxy access token: signature by this key, `typ`, issuer, audience, times.
    pub fn verify(&self, token: &str) -> Result<VerifiedAccessToken, AuthRejection> {
        let jws =
            CompactJws::parse(token).map_err(|e| AuthRejection::new(RejectReason::MalformedToken, e.to_string()))?;
        if jws.header_str("alg") != Some("RS256") {
            return Err(AuthRejection::new(
                RejectReason::UnsupportedAlgorithm,
                "alg is not RS256",
            ));
        }
        if jws.header.contains_key("crit") {
            return Err(AuthRejection::new(
                RejectReason::UnsupportedCriticalHeader,
                "crit header present",
            ));
        }
        let Some(kid) = jws.header_str("kid") else {
            return Err(AuthRejection::new(RejectReason::MissingKeyId, "no kid"));
        };
        if kid != self.key.kid() {
            return Err(AuthRejection::new(
                RejectReason::UnknownSigningKey,
                "kid is not the proxy's signing key",
            ));
        }
        self.public
            .verify_rs256(jws.signing_input.as_bytes(), &jws.signature)
            .map_err(|_| AuthRejection::new(RejectReason::BadSignature, "signature does not verify"))?;
        if jws.header_str("typ") != Some(ACCESS_TOKEN_TYP) {
            return Err(AuthRejection::new(RejectReason::MalformedToken, "typ is not at+jwt"));
        }
        let claims = jws.payload;
        let text = |name: &str| claims.get(name).and_then(Value::as_str);
        if text("iss") != Some(self.issuer.as_str()) {
            return Err(AuthRejection::new(RejectReason::WrongIssuer, "iss is not this proxy"));
        }
        if text("aud") != Some(self.resource.as_str()) {
            return Err(AuthRejection::new(
                RejectReason::WrongAudience,
                "aud is not this server's resource URL",
            ));
        }
        let now = self.clock.now_unix();
        let Some(exp) = claims.get("exp").and_then(Value::as_i64) else {
            return Err(AuthRejection::new(RejectReason::MissingExpiry, "no exp"));
        };
        if exp <= now - LEEWAY_SECONDS {
            return Err(AuthRejection::new(RejectReason::Expired, "token expired"));
        }
        if claims
            .get("nbf")
            .and_then(Value::as_i64)
            .is_some_and(|nbf| nbf > now + LEEWAY_SECONDS)
        {
            return Err(AuthRejection::new(RejectReason::NotYetValid, "nbf is in the future"));
        }
        let user = UserClaims::from_token_claims(&claims)
            .ok_or_else(|| AuthRejection::new(RejectReason::MissingClaim, "sub or tid missing"))?;
        let client_id = text("client_id")
            .ok_or_else(|| AuthRejection::new(RejectReason::MissingClaim, "client_id missing"))?
            .to_owned();
        let scopes = text("scope")
            .unwrap_or_default()
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let grant_id = text("sid").map(str::to_owned);
        Ok(VerifiedAccessToken {
            user,
            client_id,
            scopes,
            grant_id,
            expires_at: exp,
            claims,
        })
    }

    /// [`Self::verify`] and the principal later stages see.
    pub fn principal(&self, token: &str, provider: &str) -> Result<Principal, AuthRejection> {
        let verified = self.verify(token)?;
        Ok(verified.user.principal(
            provider,
            Some(verified.client_id),
            verified.scopes,
            verified.expires_at,
            verified.claims,
        ))
    }
}

fn open_key(stored: &[u8], sealing: &SealingKey) -> Result<RsaSigningKey, SigningKeyError> {
    let sealed = serde_json::from_slice(stored).map_err(|_| SigningKeyError::WrongSecret)?;
    let plain = sealing
        .open(&sealed, KEY_NAME.as_bytes())
        .map_err(|_| SigningKeyError::WrongSecret)?;
    let mut parts = plain.splitn(2, |b| *b == b'\n');
    let (Some(kid), Some(der)) = (parts.next(), parts.next()) else {
        return Err(SigningKeyError::WrongSecret);
    };
    let kid = String::from_utf8(kid.to_vec()).map_err(|_| SigningKeyError::WrongSecret)?;
    RsaSigningKey::from_pkcs8_der(kid, der).map_err(|e| SigningKeyError::Key(e.to_string()))
}

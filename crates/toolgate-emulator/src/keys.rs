//! Signing keys: the active key, the published set (rollover keeps old keys), and a key that is
//! never published (for "wrong signing key" tests).

use std::sync::Arc;

use serde_json::{Map, Value};
use toolgate_jose::{JwkSet, KeyError, RsaSigningKey, encode_compact};

/// Keys in publication order; the last one is active.
#[derive(Debug)]
pub(crate) struct KeyRing {
    published: Vec<Arc<RsaSigningKey>>,
    unpublished_der: Vec<u8>,
}

/// Generates a key whose `kid` equals its `x5t`, as Entra's do.
fn generate_key() -> Result<RsaSigningKey, KeyError> {
    let temporary = RsaSigningKey::generate("pending")?;
    let kid = temporary.public_jwk().x5t.ok_or(KeyError::Generation)?;
    RsaSigningKey::from_pkcs8_der(kid, &temporary.to_pkcs8_der()?)
}

impl KeyRing {
    pub(crate) fn new() -> Result<Self, KeyError> {
        let unpublished = RsaSigningKey::generate("unpublished")?;
        Ok(Self {
            published: vec![Arc::new(generate_key()?)],
            unpublished_der: unpublished.to_pkcs8_der()?,
        })
    }

    pub(crate) fn active(&self) -> Result<Arc<RsaSigningKey>, KeyError> {
        self.published.last().cloned().ok_or(KeyError::Generation)
    }

    /// Makes a new key active; the old ones stay published unless `retire_old`.
    pub(crate) fn rotate(&mut self, retire_old: bool) -> Result<String, KeyError> {
        let key = Arc::new(generate_key()?);
        let kid = key.kid().to_owned();
        if retire_old {
            self.published.clear();
        }
        self.published.push(key);
        Ok(kid)
    }

    /// The published keys, newest first (order means nothing to validators).
    pub(crate) fn jwks(&self, issuer: Option<&str>) -> JwkSet {
        let keys = self
            .published
            .iter()
            .rev()
            .map(|k| {
                let mut jwk = k.public_jwk();
                jwk.issuer = issuer.map(str::to_owned);
                jwk
            })
            .collect();
        JwkSet { keys }
    }

    /// The published key with this `kid`, for verifying OBO assertions.
    pub(crate) fn published(&self, kid: &str) -> Option<Arc<RsaSigningKey>> {
        self.published.iter().find(|k| k.kid() == kid).cloned()
    }

    /// A key outside the JWKS that presents the active `kid`.
    pub(crate) fn unpublished_with_active_kid(&self) -> Result<RsaSigningKey, KeyError> {
        let active = self.active()?;
        RsaSigningKey::from_pkcs8_der(active.kid(), &self.unpublished_der)
    }
}

/// Signs claims; `x5t` joins the header when asked (v1 tokens carry it).
pub(crate) fn sign(
    key: &RsaSigningKey,
    mut header: Map<String, Value>,
    claims: &Value,
    with_x5t: bool,
) -> Result<String, toolgate_jose::JwsError> {
    if with_x5t && let Some(x5t) = key.public_jwk().x5t {
        header.entry("x5t").or_insert(Value::from(x5t));
    }
    encode_compact(header, claims, key)
}

//! One configured secret, several keys: HKDF derives an independent key per purpose, so the cookie
//! MAC key can never decrypt sealed tokens and vice versa. Processes sharing a state store must
//! share this secret (it also unseals the shared token-signing key).

use std::fmt;

use aws_lc_rs::hkdf::{HKDF_SHA256, KeyType, Salt};
use aws_lc_rs::hmac;
use thiserror::Error;

use super::sealing::SealingKey;

/// Fewest bytes accepted in the configured secret (256 bits).
const MIN_SECRET_BYTES: usize = 32;
/// Fixed HKDF salt: the secret is already uniformly random; the salt only separates toolgate's use.
const HKDF_SALT: &[u8] = b"toolgate entra-proxy v1";

/// Why a configured secret is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProxySecretError {
    #[error("the proxy secret must be at least {MIN_SECRET_BYTES} bytes (e.g. `openssl rand -base64 48`), got {0}")]
    TooShort(usize),
}

/// The proxy's master secret. `Debug` never prints it.
#[derive(Clone)]
pub struct ProxySecret(Vec<u8>);

impl fmt::Debug for ProxySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProxySecret([redacted])")
    }
}

impl ProxySecret {
    /// A secret from configuration; used as bytes, whatever its encoding.
    pub fn new(value: impl AsRef<[u8]>) -> Result<Self, ProxySecretError> {
        let bytes = value.as_ref();
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(ProxySecretError::TooShort(bytes.len()));
        }
        Ok(Self(bytes.to_vec()))
    }

    /// A random secret for one process (`toolgate dev`): nothing survives a restart.
    pub fn generate() -> Self {
        let mut bytes = vec![0u8; 48];
        rand::fill(bytes.as_mut_slice());
        Self(bytes)
    }

    pub(crate) fn derive(&self) -> Result<DerivedKeys, aws_lc_rs::error::Unspecified> {
        let prk = Salt::new(HKDF_SHA256, HKDF_SALT).extract(&self.0);
        let expand = |info: &[u8]| -> Result<[u8; 32], aws_lc_rs::error::Unspecified> {
            let mut out = [0u8; 32];
            prk.expand(&[info], Len32)?.fill(&mut out)?;
            Ok(out)
        };
        Ok(DerivedKeys {
            cookies: hmac::Key::new(hmac::HMAC_SHA256, &expand(b"cookies")?),
            sealing: SealingKey::new(&expand(b"sealing")?)?,
        })
    }
}

struct Len32;

impl KeyType for Len32 {
    fn len(&self) -> usize {
        32
    }
}

/// The keys derived from a [`ProxySecret`].
pub(crate) struct DerivedKeys {
    /// Signs cookies (HMAC-SHA256).
    pub cookies: hmac::Key,
    /// Seals Entra tokens and the signing key at rest (AES-256-GCM).
    pub sealing: SealingKey,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_secrets_are_refused_and_debug_is_redacted() {
        assert_eq!(ProxySecret::new("short").unwrap_err(), ProxySecretError::TooShort(5));
        let secret = ProxySecret::new("x".repeat(40)).unwrap();
        assert_eq!(format!("{secret:?}"), "ProxySecret([redacted])");
    }

    #[test]
    fn equal_secrets_derive_equal_keys_and_different_secrets_do_not() {
        let a = ProxySecret::new("a".repeat(40)).unwrap().derive().unwrap();
        let b = ProxySecret::new("a".repeat(40)).unwrap().derive().unwrap();
        let c = ProxySecret::new("c".repeat(40)).unwrap().derive().unwrap();
        let sealed = a.sealing.seal(b"entra token", b"family-1").unwrap();
        assert_eq!(b.sealing.open(&sealed, b"family-1").unwrap(), b"entra token");
        assert!(c.sealing.open(&sealed, b"family-1").is_err());
        let tag = hmac::sign(&a.cookies, b"v");
        assert!(hmac::verify(&b.cookies, b"v", tag.as_ref()).is_ok());
        assert!(hmac::verify(&c.cookies, b"v", tag.as_ref()).is_err());
    }
}

//! RSA keys: a private signing key (emulator, proxy) and a parsed public verification key.

use std::fmt;

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{self, KeyPair as _, ParsedPublicKey};
use sha2_free_thumbprint::x5t_like;

use crate::base64url;
use crate::jwk::Jwk;

/// Why a key could not be made or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    #[error("RSA key generation failed")]
    Generation,
    #[error("the RSA key was rejected: {0}")]
    Rejected(String),
    #[error("the JWK is not an RSA key with n and e")]
    NotRsaJwk,
    #[error("signing failed")]
    Signing,
    #[error("signature verification failed")]
    BadSignature,
}

/// An RSA private key with its `kid`. `Debug` never prints key material.
pub struct RsaSigningKey {
    kid: String,
    key_pair: KeyPair,
    rng: SystemRandom,
}

impl fmt::Debug for RsaSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RsaSigningKey")
            .field("kid", &self.kid)
            .field("key", &"[redacted]")
            .finish()
    }
}

impl RsaSigningKey {
    /// Generates a fresh 2048-bit key.
    pub fn generate(kid: impl Into<String>) -> Result<Self, KeyError> {
        let key_pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Generation)?;
        Ok(Self {
            kid: kid.into(),
            key_pair,
            rng: SystemRandom::new(),
        })
    }

    /// Loads a PKCS#8 DER private key (for keys that must survive restarts).
    pub fn from_pkcs8_der(kid: impl Into<String>, der: &[u8]) -> Result<Self, KeyError> {
        let key_pair = KeyPair::from_pkcs8(der).map_err(|e| KeyError::Rejected(e.to_string()))?;
        Ok(Self {
            kid: kid.into(),
            key_pair,
            rng: SystemRandom::new(),
        })
    }

    /// The key as PKCS#8 DER, to persist it.
    pub fn to_pkcs8_der(&self) -> Result<Vec<u8>, KeyError> {
        let der = self.key_pair.as_der().map_err(|_| KeyError::Generation)?;
        Ok(der.as_ref().to_vec())
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 (JWS `RS256`).
    pub fn sign_rs256(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let mut signature = vec![0; self.key_pair.public_modulus_len()];
        self.key_pair
            .sign(&signature::RSA_PKCS1_SHA256, &self.rng, message, &mut signature)
            .map_err(|_| KeyError::Signing)?;
        Ok(signature)
    }

    /// The public half as a JWK (`kty`, `use`, `kid`, `n`, `e`, `x5t`).
    pub fn public_jwk(&self) -> Jwk {
        let public = self.key_pair.public_key();
        let n = public.modulus().big_endian_without_leading_zero().to_vec();
        let e = public.exponent().big_endian_without_leading_zero().to_vec();
        Jwk {
            kty: "RSA".into(),
            key_use: Some("sig".into()),
            kid: Some(self.kid.clone()),
            x5t: Some(x5t_like(&n)),
            n: Some(base64url::encode(&n)),
            e: Some(base64url::encode(&e)),
            alg: None,
            issuer: None,
        }
    }

    /// The public half, parsed for verification.
    pub fn public_key(&self) -> RsaPublicKey {
        let public = self.key_pair.public_key();
        let components = PublicKeyComponents {
            n: public.modulus().big_endian_without_leading_zero(),
            e: public.exponent().big_endian_without_leading_zero(),
        };
        // A key pair we generated always yields a valid public key.
        RsaPublicKey::from_components(components.n, components.e).unwrap_or_else(|_| unreachable_public_key())
    }
}

#[expect(clippy::panic, reason = "a generated key pair always has a valid public half")]
fn unreachable_public_key() -> RsaPublicKey {
    panic!("generated RSA key pair has an invalid public key")
}

/// An RSA public key parsed once, verified against many times.
#[derive(Clone)]
pub struct RsaPublicKey {
    parsed: ParsedPublicKey,
    modulus_bits: usize,
}

impl fmt::Debug for RsaPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RsaPublicKey")
            .field("modulus_bits", &self.modulus_bits)
            .finish()
    }
}

impl RsaPublicKey {
    /// Builds a key from big-endian `n` and `e`.
    pub fn from_components(n: &[u8], e: &[u8]) -> Result<Self, KeyError> {
        let n = strip_leading_zeros(n);
        let e = strip_leading_zeros(e);
        let parsed = PublicKeyComponents { n, e }
            .to_parsed_public_key(&signature::RSA_PKCS1_2048_8192_SHA256)
            .map_err(|err| KeyError::Rejected(err.to_string()))?;
        Ok(Self {
            parsed,
            modulus_bits: n.len() * 8,
        })
    }

    /// Builds a key from a JWK's base64url `n` and `e`.
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, KeyError> {
        if jwk.kty != "RSA" {
            return Err(KeyError::NotRsaJwk);
        }
        let (Some(n), Some(e)) = (&jwk.n, &jwk.e) else {
            return Err(KeyError::NotRsaJwk);
        };
        let n = base64url::decode(n).map_err(|_| KeyError::NotRsaJwk)?;
        let e = base64url::decode(e).map_err(|_| KeyError::NotRsaJwk)?;
        Self::from_components(&n, &e)
    }

    /// Verifies an RS256 signature. Keys under 2048 bits are refused by the algorithm itself.
    pub fn verify_rs256(&self, message: &[u8], signature: &[u8]) -> Result<(), KeyError> {
        self.parsed
            .verify_sig(message, signature)
            .map_err(|_| KeyError::BadSignature)
    }
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first_non_zero = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[first_non_zero..]
}

/// A stand-in `x5t` for generated keys, which have no certificate: base64url of the SHA-1-sized
/// prefix of a digest of the modulus. Real Entra `x5t` is the certificate's SHA-1 thumbprint;
/// validators only compare it, so any stable value distinct per key behaves the same.
mod sha2_free_thumbprint {
    use aws_lc_rs::digest;

    pub(super) fn x5t_like(modulus: &[u8]) -> String {
        let digest = digest::digest(&digest::SHA256, modulus);
        crate::base64url::encode(&digest.as_ref()[..20])
    }
}

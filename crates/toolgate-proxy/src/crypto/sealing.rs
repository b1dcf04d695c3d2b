//! Authenticated encryption of values kept in the state store (Entra tokens, the signing key):
//! whoever reads Redis learns nothing and can change nothing without the proxy secret.

use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use aws_lc_rs::error::Unspecified;
use serde::{Deserialize, Serialize};

/// `nonce || ciphertext || tag`, base64url in JSON.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct Sealed(String);

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealed(..)")
    }
}

/// AES-256-GCM with random nonces. The associated data binds a ciphertext to the record it
/// belongs to (e.g. its family id), so sealed values cannot be swapped between records.
pub(crate) struct SealingKey(RandomizedNonceKey);

impl SealingKey {
    pub fn new(key: &[u8; 32]) -> Result<Self, Unspecified> {
        RandomizedNonceKey::new(&AES_256_GCM, key).map(Self)
    }

    pub fn seal(&self, plaintext: &[u8], associated: &[u8]) -> Result<Sealed, Unspecified> {
        let mut in_out = plaintext.to_vec();
        let nonce = self.0.seal_in_place_append_tag(Aad::from(associated), &mut in_out)?;
        let mut out = nonce.as_ref().to_vec();
        out.extend_from_slice(&in_out);
        Ok(Sealed(toolgate_jose::base64url_encode(out)))
    }

    pub fn open(&self, sealed: &Sealed, associated: &[u8]) -> Result<Vec<u8>, Unspecified> {
        let bytes = toolgate_jose::base64url_decode(&sealed.0).map_err(|_| Unspecified)?;
        if bytes.len() < NONCE_LEN {
            return Err(Unspecified);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce)?;
        let mut in_out = ciphertext.to_vec();
        let plaintext = self.0.open_in_place(nonce, Aad::from(associated), &mut in_out)?;
        Ok(plaintext.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_binding() {
        let key = SealingKey::new(&[7u8; 32]).unwrap();
        let sealed = key.seal(b"secret", b"family-a").unwrap();
        assert_eq!(key.open(&sealed, b"family-a").unwrap(), b"secret");
        assert!(key.open(&sealed, b"family-b").is_err(), "bound to its record");
        assert_ne!(key.seal(b"secret", b"family-a").unwrap(), sealed, "random nonce");
        assert!(key.open(&Sealed("AAAA".into()), b"family-a").is_err());
    }
}

//! Client secrets for confidential clients: shown once, stored as a digest, compared in constant time.

use std::fmt;

use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::digest::{SHA256, digest};

/// Random bytes in a generated secret (256 bits).
const SECRET_BYTES: usize = 32;

/// A client secret in clear text. `Debug` prints `ClientSecret([redacted])`; the value comes out only
/// through [`ClientSecret::expose_secret`]. Deliberately not `Clone`.
pub struct ClientSecret(String);

impl ClientSecret {
    /// A fresh random secret: 256 bits, unpadded base64url.
    pub fn generate() -> Self {
        Self(crate::crypto::random_token(SECRET_BYTES))
    }

    /// Wraps a secret from configuration (pre-registered clients).
    pub fn new(value: String) -> Self {
        Self(value)
    }

    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Compares `presented` with this secret in constant time (both are hashed first, so the
    /// comparison does not leak the length either).
    pub fn verify(&self, presented: &str) -> bool {
        self.digest().verify(presented)
    }

    /// The SHA-256 digest to store instead of the secret.
    pub fn digest(&self) -> ClientSecretDigest {
        ClientSecretDigest::of(&self.0)
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret([redacted])")
    }
}

/// SHA-256 of a client secret; what a registry keeps. A 256-bit random secret needs no slow hash.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecretDigest([u8; 32]);

impl ClientSecretDigest {
    fn of(secret: &str) -> Self {
        let mut out = [0u8; 32];
        out.copy_from_slice(digest(&SHA256, secret.as_bytes()).as_ref());
        Self(out)
    }

    /// Constant-time check of a presented secret against this digest.
    pub fn verify(&self, presented: &str) -> bool {
        let presented = Self::of(presented);
        verify_slices_are_equal(&self.0, &presented.0).is_ok()
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
}

impl fmt::Debug for ClientSecretDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecretDigest([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let secret = ClientSecret::new("hunter2".to_owned());
        assert_eq!(format!("{secret:?}"), "ClientSecret([redacted])");
        assert_eq!(format!("{:?}", secret.digest()), "ClientSecretDigest([redacted])");
        assert!(!format!("{secret:?}").contains("hunter2"));
    }

    #[test]
    fn verify_accepts_only_the_same_secret() {
        let secret = ClientSecret::generate();
        let value = secret.expose_secret().to_owned();
        assert!(value.len() >= 43);
        assert!(secret.verify(&value));
        assert!(!secret.verify(""));
        assert!(!secret.verify(&value[1..]));
        assert!(!secret.verify(&format!("{value}x")));
        assert!(secret.digest().verify(&value));
    }

    #[test]
    fn generated_secrets_differ() {
        assert_ne!(
            ClientSecret::generate().expose_secret(),
            ClientSecret::generate().expose_secret()
        );
    }
}

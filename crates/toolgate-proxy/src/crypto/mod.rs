//! The proxy's cryptography: random values, digests, PKCE, the keys derived from its secret, and
//! the sealing of Entra tokens at rest.

mod keys;
mod pkce;
mod sealing;

pub(crate) use keys::DerivedKeys;
pub use keys::{ProxySecret, ProxySecretError};
pub(crate) use pkce::serde_sealed as pkce_sealed;
pub use pkce::{PkceChallenge, PkceError, PkceVerifier};
pub(crate) use sealing::{Sealed, SealingKey};

use aws_lc_rs::digest::{SHA256, digest};

/// A random, URL-safe value with `bytes` bytes of entropy (codes, transaction ids, CSRF tokens).
pub(crate) fn random_token(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::fill(buffer.as_mut_slice());
    toolgate_jose::base64url_encode(buffer)
}

/// SHA-256 as unpadded base64url: how single-use values are keyed in the store, so a leaked store
/// dump does not hand out redeemable codes or refresh tokens.
pub(crate) fn digest_b64(value: &str) -> String {
    toolgate_jose::base64url_encode(digest(&SHA256, value.as_bytes()))
}

/// Constant-time string comparison.
pub(crate) fn same(a: &str, b: &str) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}

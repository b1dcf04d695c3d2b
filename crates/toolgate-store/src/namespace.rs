//! Namespaces keep different kinds of state apart, so a code can never be redeemed as a refresh token.

use std::fmt;

/// The kind of state a key belongs to; becomes the middle part of the Redis key `{prefix}:{ns}:{key}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Namespace(&'static str);

impl Namespace {
    /// Pending authorization transactions (the proxy's `state`), ~10 minutes.
    pub const TRANSACTION: Namespace = Namespace("tx");
    /// Authorization codes, single-use, ~1 minute.
    pub const CODE: Namespace = Namespace("code");
    /// Refresh tokens (by hash), each pointing at its family.
    pub const REFRESH: Namespace = Namespace("refresh");
    /// Refresh tokens already redeemed (by hash): `put_new` here is the atomic "first use wins" of a rotation;
    /// a `false` means replay, and the caller revokes the family.
    pub const REFRESH_USED: Namespace = Namespace("refresh-used");
    /// Refresh-token families: the whole chain of rotated tokens, revoked together on replay.
    pub const REFRESH_FAMILY: Namespace = Namespace("family");
    /// A user's approval of a client (confused-deputy protection).
    pub const CONSENT: Namespace = Namespace("consent");
    /// Registered or fetched client metadata (DCR, CIMD cache).
    pub const CLIENT: Namespace = Namespace("client");
    /// Rate-limit counters.
    pub const RATE: Namespace = Namespace("rate");
    /// Dynamically registered public clients by a digest of their metadata: an identical
    /// registration gets the existing client instead of a new record.
    pub const CLIENT_DEDUP: Namespace = Namespace("client-dedup");
    /// Authorization codes already redeemed (by hash): a second redemption finds the grant to revoke.
    pub const CODE_USED: Namespace = Namespace("code-used");
    /// Sign-ins waiting for the user's decision on the consent page.
    pub const PENDING_CONSENT: Namespace = Namespace("pending-consent");
    /// One-time codes of the browser login (`/auth/login`).
    pub const LOGIN_CODE: Namespace = Namespace("login-code");
    /// The proxy's token-signing key, sealed.
    pub const SIGNING_KEY: Namespace = Namespace("signing-key");
    /// `jti`s of client assertions already used (`private_key_jwt`).
    pub const ASSERTION_JTI: Namespace = Namespace("assertion-jti");

    /// A custom namespace; `None` if empty or containing `:` (which would blur the key layout).
    #[allow(
        clippy::indexing_slicing,
        reason = "a const fn cannot iterate; `i < bytes.len()` bounds every index, and names are constants"
    )]
    pub const fn new(name: &'static str) -> Option<Namespace> {
        let bytes = name.as_bytes();
        if bytes.is_empty() {
            return None;
        }
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b':' {
                return None;
            }
            i += 1;
        }
        Some(Namespace(name))
    }

    /// The namespace's name as it appears in keys.
    pub const fn as_str(&self) -> &'static str {
        self.0
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

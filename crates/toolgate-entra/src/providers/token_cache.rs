//! Validated tokens, remembered until they expire, so a client's every MCP call does not pay
//! for RSA verification and claim checks again. The token string is the key: a different token
//! (even for the same user) is validated afresh.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::RwLock;
use toolgate_core::{Clock, Principal};

/// Enough for every active client of a busy deployment; when full, expired entries are dropped,
/// and if that is not enough the cache starts over (validation is correct without it).
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub struct TokenCache {
    entries: RwLock<HashMap<Box<str>, Arc<Principal>>>,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("entries", &self.entries.read().len())
            .finish()
    }
}

impl TokenCache {
    /// The principal of a token validated before and not yet expired.
    pub fn get(&self, token: &str, clock: &dyn Clock) -> Option<Arc<Principal>> {
        let principal = self.entries.read().get(token).cloned()?;
        (principal.expires_at > clock.now_unix()).then_some(principal)
    }

    pub fn insert(&self, token: &str, principal: Arc<Principal>, clock: &dyn Clock) {
        let mut entries = self.entries.write();
        if entries.len() >= MAX_ENTRIES {
            let now = clock.now_unix();
            entries.retain(|_, p| p.expires_at > now);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(token.into(), principal);
    }

    pub fn len(&self) -> usize {
        self.entries.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

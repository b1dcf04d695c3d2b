//! Fixed one-minute windows on the proxy's clock ([`toolgate_core::Clock`]), counted in the state
//! store so every replica shares them, for the endpoints that store something for an
//! unauthenticated request (registrations, sign-in transactions): a flood cannot fill the store,
//! and one address flooding cannot lock everyone else out.
//!
//! Each event counts against its client address's budget first ([`crate::client_address`]), then
//! against a global ceiling. Sign-ins have two global ceilings: one for clients nobody has used
//! yet (a fresh anonymous registration), one for known clients (pre-registered, metadata-document
//! clients, registrations that have obtained tokens, and the browser login), so a flood of fresh
//! registrations cannot exhaust what known clients need.

use std::time::Duration;

use toolgate_store::{Namespace, StoreError};

use crate::client_address::ClientAddress;
use crate::proxy::ProxyState;

/// Which budget an event counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Budget {
    Registration,
    SignIn { known_client: bool },
}

/// Which limit refused an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Over {
    /// This client address's budget.
    Address,
    /// The global ceiling.
    Everyone,
}

/// Counts one event of `budget` from `address` in the current minute; `Err(Over)` once a limit
/// is exceeded. Without an address (the embedder did not pass the peer) only the global ceiling
/// applies.
pub(crate) async fn admit(
    state: &ProxyState,
    budget: Budget,
    address: Option<&ClientAddress>,
) -> Result<Result<(), Over>, StoreError> {
    let minute = state.clock.now_unix().div_euclid(60);
    let (per_address, global, name, global_name) = match budget {
        Budget::Registration => {
            let limit = state.config.registration.limit;
            (limit.per_address, limit.global, "register", "register:all")
        }
        Budget::SignIn { known_client } => {
            let limits = state.config.sign_ins;
            if known_client {
                (limits.per_address, limits.known_clients, "sign-in", "sign-in:known")
            } else {
                (limits.per_address, limits.new_clients, "sign-in", "sign-in:new")
            }
        }
    };
    if let Some(address) = address {
        let count = count(state, &format!("{name}:addr:{}:{minute}", address.as_str())).await?;
        if count > per_address {
            return Ok(Err(Over::Address));
        }
    }
    let count = count(state, &format!("{global_name}:{minute}")).await?;
    Ok(if count > global { Err(Over::Everyone) } else { Ok(()) })
}

async fn count(state: &ProxyState, key: &str) -> Result<u64, StoreError> {
    state
        .grants
        .store()
        .incr(Namespace::RATE, key, Duration::from_secs(60))
        .await
}

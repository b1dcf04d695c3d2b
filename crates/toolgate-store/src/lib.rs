//! Short-lived security state for toolgate's OAuth proxy: authorization transactions, single-use codes,
//! refresh-token families, consent records and rate-limit counters.
//!
//! Every entry has a TTL and an opaque byte value (callers serialize and, where needed, encrypt).
//! [`MemoryStore`] serves a single process; [`RedisStore`] lets several toolgate processes share state, so a
//! code issued by one replica is redeemed exactly once on any replica. See `docs/state-store.md`.

#![cfg_attr(not(test), deny(clippy::string_slice, clippy::indexing_slicing))]

mod error;
mod json;
mod memory;
mod namespace;
mod redis;
mod store;
mod throttle;

pub use error::{BoxError, StoreError};
pub use json::StateStoreJson;
pub use memory::MemoryStore;
pub use namespace::Namespace;
pub use redis::RedisStore;
pub use store::StateStore;
pub use throttle::{Gcra, InvalidLimit, Verdict};

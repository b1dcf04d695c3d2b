//! Microsoft Entra ID for toolgate: access-token validation that follows Microsoft's rules
//! exactly (see `docs/entra-token-validation.md`), a signing-key cache that survives rollover and
//! outages, and the Entra auth providers.
//!
//! Every Entra quirk lives next to the code that handles it, with the rule it answers.

#![cfg_attr(not(test), deny(clippy::string_slice, clippy::indexing_slicing))]

mod fetch;
mod key_cache;
mod settings;
mod validator;

pub mod providers;

pub use key_cache::{KeyCache, KeyCacheHealth, KeySource, SigningKey};
pub use settings::{AcceptedVersions, EntraSettings, SettingsError, TenantPolicy};
pub use validator::{EntraValidator, TokenVersion, VerifiedToken};

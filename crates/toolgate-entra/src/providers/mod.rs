//! The Entra auth providers, one module each.

pub mod entra_jwt;
mod requirements;
mod token_cache;

pub use entra_jwt::{EntraJwtConfig, EntraJwtProvider};
pub use requirements::AccessRequirements;
pub use token_cache::TokenCache;

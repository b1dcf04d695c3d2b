//! The Entra auth providers, one module each.

pub mod entra_jwt;
mod requirements;

pub use entra_jwt::{EntraJwtConfig, EntraJwtProvider};
pub use requirements::AccessRequirements;

//! The Entra auth providers, one module each.

pub mod azure_bearer;
pub mod entra_jwt;
mod requirements;
mod token_cache;

pub use azure_bearer::{
    ApiKeyConfig, ApiKeyProvider, AzureBearerConfig, AzureBearerConfigError, AzureBearerProvider, OperationRequirement,
    Requirement, StaticTenantAllowList, TenantValidator,
};
pub use entra_jwt::{EntraJwtConfig, EntraJwtProvider};
pub use requirements::AccessRequirements;
pub use token_cache::TokenCache;

//! `azure-bearer`: fastapi-azure-auth's bearer schemes (single-tenant, multi-tenant, B2C), minus
//! its defects. See `docs/azure-bearer.md`.
//!
//! What is kept from it: a multi-tenant issuer hook that receives `tid`, guest refusal, scopes
//! per operation, composition with an API key, OpenID configuration cached 24 h behind one lock,
//! `{error, message}` bodies with `WWW-Authenticate: Bearer`.
//! What is fixed: every check reads **verified** claims only (a forged token is a 401, never a
//! 403); the hook runs after the signature and the issuer-template check; v1 tokens are
//! accepted; an unknown `kid` refetches keys (throttled) and a failed refresh keeps the last
//! good keys (the shared [`crate::KeyCache`]); app-only tokens can satisfy an operation through
//! app roles ("scope or role").

mod api_key;
mod b2c;
mod config;
mod provider;
mod requirement;
mod sha256;
mod tenant_validator;

pub use api_key::{ApiKeyConfig, ApiKeyProvider};
pub use b2c::B2cPolicy;
pub use config::{AzureBearerConfig, AzureBearerConfigError, B2cConfig, RequirementConfig, Tenancy};
pub use provider::AzureBearerProvider;
pub use requirement::{OperationRequirement, Requirement};
pub use tenant_validator::{StaticTenantAllowList, TenantPredicate, TenantValidator};

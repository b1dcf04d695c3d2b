//! `entra-jwt`: a pure resource server. Clients get Entra tokens from Entra directly; toolgate
//! validates them and publishes RFC 9728 metadata naming the tenant's Entra v2.0 authority.

use std::sync::Arc;

use async_trait::async_trait;
use toolgate_core::{AuthProvider, AuthRejection, Principal, ProtectedResourceMetadata, RequestHead, bearer_token};

use super::requirements::AccessRequirements;
use super::token_cache::TokenCache;
use crate::validator::EntraValidator;

/// Configuration of the `entra-jwt` provider.
#[derive(Debug, Clone)]
pub struct EntraJwtConfig {
    /// The canonical URL of the protected resource (e.g. `https://tools.example.com/mcp`).
    pub resource: String,
    /// Scopes exposed by the API (short names like `access_as_user`), advertised as
    /// `api://{client-id}/{scope}`.
    pub scopes: Vec<String>,
    pub requirements: AccessRequirements,
    pub resource_name: Option<String>,
}

/// Validates Entra access tokens presented as bearer tokens.
#[derive(Debug, Clone)]
pub struct EntraJwtProvider {
    validator: EntraValidator,
    config: EntraJwtConfig,
    scope_prefix: String,
    /// Tokens that passed validation *and* the requirements, until they expire.
    accepted: Arc<TokenCache>,
}

impl EntraJwtProvider {
    pub const NAME: &'static str = "entra-jwt";

    pub fn new(validator: EntraValidator, config: EntraJwtConfig) -> Self {
        let scope_prefix = format!(
            "{}/",
            validator
                .settings()
                .identifier_uris
                .first()
                .cloned()
                .unwrap_or_else(|| format!("api://{}", validator.settings().client_id))
                .trim_end_matches('/')
        );
        Self {
            validator,
            config,
            scope_prefix,
            accepted: Arc::default(),
        }
    }

    pub fn validator(&self) -> &EntraValidator {
        &self.validator
    }

    /// Validates a raw token (no HTTP request around it). A token accepted before is served
    /// from the cache until it expires.
    pub async fn authenticate_token(&self, token: &str) -> Result<Arc<Principal>, AuthRejection> {
        let clock = self.validator.clock().as_ref();
        if let Some(principal) = self.accepted.get(token, clock) {
            return Ok(principal);
        }
        let verified = self.validator.validate(token).await?;
        let principal = verified.principal(Self::NAME)?;
        self.config.requirements.check(&principal, &self.scope_prefix)?;
        let principal = Arc::new(principal);
        self.accepted.insert(token, principal.clone(), clock);
        Ok(principal)
    }

    /// How many accepted tokens are cached (tests, metrics).
    pub fn cached_tokens(&self) -> usize {
        self.accepted.len()
    }
}

#[async_trait]
impl AuthProvider for EntraJwtProvider {
    fn name(&self) -> &str {
        Self::NAME
    }

    async fn authenticate(&self, request: RequestHead<'_>) -> Result<Arc<Principal>, AuthRejection> {
        let token = bearer_token(request.headers)?;
        self.authenticate_token(token).await
    }

    fn protected_resource_metadata(&self) -> ProtectedResourceMetadata {
        ProtectedResourceMetadata {
            resource: self.config.resource.clone(),
            authorization_servers: vec![self.validator.settings().v2_authority()],
            scopes_supported: self
                .config
                .scopes
                .iter()
                .map(|s| format!("{}{s}", self.scope_prefix))
                .collect(),
            bearer_methods_supported: vec!["header".into()],
            resource_name: self.config.resource_name.clone(),
            resource_documentation: None,
        }
    }
}

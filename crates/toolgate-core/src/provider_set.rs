//! Several providers guarding one server: the first that accepts the request wins.

use std::sync::Arc;

use async_trait::async_trait;

use crate::principal::Principal;
use crate::provider::{AuthProvider, RequestHead};
use crate::rejection::AuthRejection;
use crate::resource_metadata::ProtectedResourceMetadata;
use crate::route::ProviderRoute;

/// Tries providers in order. When all refuse, the refusal reported is the first one from a
/// provider that recognised the token's issuer (its reason is the precise one), else the first.
#[derive(Clone)]
pub struct ProviderSet {
    name: String,
    providers: Vec<Arc<dyn AuthProvider>>,
}

impl ProviderSet {
    /// An empty set refuses everything (deny by default).
    pub fn new(providers: Vec<Arc<dyn AuthProvider>>) -> Self {
        let name = providers.iter().map(|p| p.name()).collect::<Vec<_>>().join("+");
        Self { name, providers }
    }

    pub fn providers(&self) -> &[Arc<dyn AuthProvider>] {
        &self.providers
    }
}

#[async_trait]
impl AuthProvider for ProviderSet {
    fn name(&self) -> &str {
        &self.name
    }

    async fn authenticate(&self, request: RequestHead<'_>) -> Result<Arc<Principal>, AuthRejection> {
        let mut first: Option<AuthRejection> = None;
        let mut recognised: Option<AuthRejection> = None;
        for provider in &self.providers {
            match provider.authenticate(request).await {
                Ok(principal) => return Ok(principal),
                Err(rejection) => {
                    if recognised.is_none() && rejection.reason.token_was_recognised() {
                        recognised = Some(rejection.clone());
                    }
                    first.get_or_insert(rejection);
                }
            }
        }
        Err(recognised.or(first).unwrap_or_else(AuthRejection::missing_token))
    }

    /// The first provider's resource, with every provider's authorization servers and scopes.
    fn protected_resource_metadata(&self) -> ProtectedResourceMetadata {
        let mut documents = self.providers.iter().map(|p| p.protected_resource_metadata());
        let Some(mut merged) = documents.next() else {
            return ProtectedResourceMetadata {
                resource: String::new(),
                authorization_servers: Vec::new(),
                scopes_supported: Vec::new(),
                bearer_methods_supported: vec!["header".into()],
                resource_name: None,
                resource_documentation: None,
            };
        };
        for document in documents {
            for server in document.authorization_servers {
                if !merged.authorization_servers.contains(&server) {
                    merged.authorization_servers.push(server);
                }
            }
            for scope in document.scopes_supported {
                if !merged.scopes_supported.contains(&scope) {
                    merged.scopes_supported.push(scope);
                }
            }
        }
        merged
    }

    fn challenge_scope(&self) -> Option<String> {
        self.providers.first().and_then(|p| p.challenge_scope())
    }

    fn routes(&self) -> Vec<ProviderRoute> {
        self.providers.iter().flat_map(|p| p.routes()).collect()
    }
}

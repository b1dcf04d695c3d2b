//! `entra-proxy`: the provider object. It owns the proxy's state, validates the proxy's own
//! tokens on every request, and contributes the authorization server's routes.

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use thiserror::Error;
use toolgate_core::{
    AuditSink, AuthProvider, AuthRejection, Clock, Principal, ProtectedResourceMetadata, ProviderRoute, RequestHead,
    bearer_token,
};
use toolgate_entra::EntraValidator;
use toolgate_store::{StateStore, StoreError};

use crate::cimd::{CimdError, CimdFetcher};
use crate::config::ProxyConfig;
use crate::crypto::DerivedKeys;
use crate::dynamic_clients::DynamicClients;
use crate::endpoints;
use crate::flow::Grants;
use crate::registry::{ClientRegistry, PreregisteredClientError};
use crate::scope::Offered;
use crate::tokens::{SigningKeyError, TokenSigner};
use crate::upstream::{Upstream, UpstreamError};

/// Why the proxy could not be built.
#[derive(Debug, Error)]
pub enum ProxyBuildError {
    #[error("could not derive keys from the proxy secret")]
    Keys,
    #[error(transparent)]
    SigningKey(#[from] SigningKeyError),
    #[error(transparent)]
    Client(#[from] PreregisteredClientError),
    #[error("`registration.static_client` names `{0}`, which is not a pre-registered client")]
    UnknownStaticClient(String),
    #[error("issuer `{0}` must be an absolute http(s) URL without query or fragment")]
    BadIssuer(String),
    #[error(transparent)]
    Cimd(#[from] CimdError),
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
}

/// Why an Entra token could not be produced for a principal (On-Behalf-Of).
#[derive(Debug, Error)]
pub enum UpstreamTokenError {
    #[error("the principal was not authenticated by this proxy's tokens")]
    NotAProxyPrincipal,
    #[error("the grant behind this token has been revoked or has expired")]
    GrantGone,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
}

/// A user's Entra access token, for On-Behalf-Of exchanges. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct UpstreamAccessToken(String);

impl UpstreamAccessToken {
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for UpstreamAccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UpstreamAccessToken([redacted])")
    }
}

/// Everything the endpoints share.
pub(crate) struct ProxyState {
    pub config: ProxyConfig,
    pub keys: Arc<DerivedKeys>,
    pub signer: TokenSigner,
    pub upstream: Upstream,
    pub validator: EntraValidator,
    pub registry: ClientRegistry,
    pub grants: Grants,
    pub clock: Arc<dyn Clock>,
    /// Where the authorization server's decisions go; attached once the audit trail runs.
    pub audit: OnceLock<Arc<dyn AuditSink>>,
}

impl ProxyState {
    /// Where Entra sends the browser back.
    pub fn callback_url(&self) -> String {
        format!("{}/auth/callback", self.config.issuer)
    }

    /// The scopes this server offers, for granting and narrowing.
    pub fn offered_scopes(&self) -> Offered<'_> {
        Offered {
            scopes: &self.config.scopes,
            prefix: &self.config.upstream.scope_prefix,
        }
    }
}

/// The `entra-proxy` provider.
#[derive(Clone)]
pub struct EntraProxy {
    state: Arc<ProxyState>,
}

impl std::fmt::Debug for EntraProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntraProxy")
            .field("issuer", &self.state.config.issuer)
            .field("resource", &self.state.config.resource)
            .finish_non_exhaustive()
    }
}

impl EntraProxy {
    pub const NAME: &'static str = "entra-proxy";

    /// Builds the proxy. Loads (or creates) the shared signing key, so the store must answer.
    pub async fn new(
        config: ProxyConfig,
        validator: EntraValidator,
        store: Arc<dyn StateStore>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ProxyBuildError> {
        let issuer_ok = url::Url::parse(&config.issuer)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.query().is_none() && u.fragment().is_none())
            && !config.issuer.ends_with('/');
        if !issuer_ok {
            return Err(ProxyBuildError::BadIssuer(config.issuer.clone()));
        }
        let keys = Arc::new(config.secret.derive().map_err(|_| ProxyBuildError::Keys)?);
        let signer = TokenSigner::load_or_create(
            store.as_ref(),
            &keys.sealing,
            config.issuer.clone(),
            config.resource.clone(),
            config.lifetimes.access_token,
            clock.clone(),
        )
        .await?;
        let cimd = match &config.cimd {
            Some(settings) => Some(CimdFetcher::new(settings.clone(), clock.clone())?),
            None => None,
        };
        let dynamic = DynamicClients::new(
            store.clone(),
            config.registration.policy.clone(),
            config.lifetimes,
            config.registration.max_unused,
            clock.clone(),
        );
        let registry = ClientRegistry::new(&config.clients, cimd, dynamic, clock.as_ref())?;
        if let Some(id) = &config.registration.static_client
            && registry.preregistered(id).is_none()
        {
            return Err(ProxyBuildError::UnknownStaticClient(id.clone()));
        }
        let grants = Grants::new(store, keys.clone(), config.lifetimes, clock.clone());
        let upstream = Upstream::new(config.upstream.clone())?;
        Ok(Self {
            state: Arc::new(ProxyState {
                config,
                keys,
                signer,
                upstream,
                validator,
                registry,
                grants,
                clock,
                audit: OnceLock::new(),
            }),
        })
    }

    /// Sends the authorization server's decisions (consent, tokens, replays, forged submissions)
    /// to the audit trail. Only the first sink attached counts.
    pub fn attach_audit(&self, sink: Arc<dyn AuditSink>) {
        let _ = self.state.audit.set(sink);
    }

    /// The proxy's token signer (its JWKS, and minting in tests).
    pub fn signer(&self) -> &TokenSigner {
        &self.state.signer
    }

    pub fn issuer(&self) -> &str {
        &self.state.config.issuer
    }

    /// An Entra access token for the user behind `principal`, for tools that call downstream
    /// APIs On-Behalf-Of the user. Refreshed at Entra when it is about to expire. The client's
    /// token is never passed upstream; this is the proxy's own Entra token for the user.
    pub async fn upstream_access_token(
        &self,
        principal: &Principal,
    ) -> Result<UpstreamAccessToken, UpstreamTokenError> {
        if principal.provider != Self::NAME {
            return Err(UpstreamTokenError::NotAProxyPrincipal);
        }
        let grant_id = principal
            .claims
            .get("sid")
            .and_then(serde_json::Value::as_str)
            .ok_or(UpstreamTokenError::NotAProxyPrincipal)?;
        let state = &self.state;
        let mut grant = state
            .grants
            .grant(grant_id)
            .await?
            .ok_or(UpstreamTokenError::GrantGone)?;
        let tokens = endpoints::fresh_upstream_tokens(state, grant_id, &mut grant).await?;
        Ok(UpstreamAccessToken(tokens.access_token))
    }
}

#[async_trait]
impl AuthProvider for EntraProxy {
    fn name(&self) -> &str {
        Self::NAME
    }

    /// Verifies the proxy's own JWT. Needs no store: tokens keep validating while Redis is down.
    async fn authenticate(&self, request: RequestHead<'_>) -> Result<Arc<Principal>, AuthRejection> {
        let token = bearer_token(request.headers)?;
        let principal = self.state.signer.principal(token, Self::NAME)?;
        self.state.config.requirements.check(&principal, "")?;
        Ok(Arc::new(principal))
    }

    fn protected_resource_metadata(&self) -> ProtectedResourceMetadata {
        let config = &self.state.config;
        ProtectedResourceMetadata {
            resource: config.resource.clone(),
            authorization_servers: vec![config.issuer.clone()],
            scopes_supported: config.scopes.clone(),
            bearer_methods_supported: vec!["header".into()],
            resource_name: config.resource_name.clone(),
            resource_documentation: None,
        }
    }

    fn routes(&self) -> Vec<ProviderRoute> {
        endpoints::routes(&self.state)
    }
}

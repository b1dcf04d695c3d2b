//! Finding the client behind a `client_id`: pre-registered (configuration), dynamically
//! registered (state store, shared between processes), or a Client ID Metadata Document URL.

use std::collections::HashMap;
use std::sync::Arc;

use thiserror::Error;
use toolgate_core::Clock;
use toolgate_store::StoreError;

use crate::cimd::{CimdError, CimdFetcher, CimdUrl};
use crate::client::{ClientId, RegisteredClient};
use crate::client_secret::ClientSecret;
use crate::config::PreregisteredClient;
use crate::dynamic_clients::DynamicClients;
use crate::registration::{RegistrationError, RegistrationPolicy, RegistrationRequest};

/// Why a client could not be looked up.
#[derive(Debug, Error)]
pub enum LookupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("client metadata document: {0}")]
    Cimd(#[from] CimdError),
}

/// A pre-registered client's configuration is invalid (reported at start-up).
#[derive(Debug, Error)]
#[error("pre-registered client `{client_id}`: {source}")]
pub struct PreregisteredClientError {
    pub client_id: String,
    #[source]
    pub source: RegistrationError,
}

/// Every source of clients.
pub(crate) struct ClientRegistry {
    preregistered: HashMap<String, Arc<RegisteredClient>>,
    cimd: Option<CimdFetcher>,
    dynamic: DynamicClients,
}

impl ClientRegistry {
    pub fn new(
        clients: &[PreregisteredClient],
        cimd: Option<CimdFetcher>,
        dynamic: DynamicClients,
        clock: &dyn Clock,
    ) -> Result<Self, PreregisteredClientError> {
        let mut preregistered = HashMap::new();
        for configured in clients {
            let request = RegistrationRequest {
                redirect_uris: Some(configured.redirect_uris.clone()),
                client_name: Some(configured.client_name.clone()),
                grant_types: Some(vec!["authorization_code".into(), "refresh_token".into()]),
                token_endpoint_auth_method: Some(
                    if configured.client_secret.is_some() {
                        "client_secret_basic"
                    } else {
                        "none"
                    }
                    .into(),
                ),
                ..RegistrationRequest::default()
            };
            let operator_policy = RegistrationPolicy::operator();
            let validated = request
                .validate(&operator_policy)
                .map_err(|source| PreregisteredClientError {
                    client_id: configured.client_id.clone(),
                    source,
                })?;
            let secret = configured.client_secret.clone().map(ClientSecret::new);
            let client = RegisteredClient::preregistered(
                ClientId::new(configured.client_id.clone()),
                validated,
                secret.as_ref(),
                clock,
            );
            preregistered.insert(configured.client_id.clone(), Arc::new(client));
        }
        Ok(Self {
            preregistered,
            cimd,
            dynamic,
        })
    }

    pub fn policy(&self) -> &RegistrationPolicy {
        self.dynamic.policy()
    }

    /// Dynamically registered clients.
    pub fn dynamic(&self) -> &DynamicClients {
        &self.dynamic
    }

    pub fn cimd_enabled(&self) -> bool {
        self.cimd.is_some()
    }

    /// A pre-registered client by id.
    pub fn preregistered(&self, client_id: &str) -> Option<Arc<RegisteredClient>> {
        self.preregistered.get(client_id).cloned()
    }

    /// The client for `client_id`, from whichever source knows it.
    pub async fn lookup(&self, client_id: &str) -> Result<Option<Arc<RegisteredClient>>, LookupError> {
        if let Some(client) = self.preregistered(client_id) {
            return Ok(Some(client));
        }
        match &self.cimd {
            Some(fetcher) if fetcher.handles(client_id) => {
                let url = fetcher.parse_url(client_id).map_err(CimdError::from)?;
                return Ok(Some(fetcher.fetch(&url).await?));
            }
            // CIMD is off: a URL client id names nothing here.
            None if CimdUrl::looks_like_cimd(client_id) => return Ok(None),
            _ => {}
        }
        Ok(self.dynamic.lookup(client_id).await?)
    }
}

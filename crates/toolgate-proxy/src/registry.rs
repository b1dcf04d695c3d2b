//! Finding the client behind a `client_id`: pre-registered (configuration), dynamically
//! registered (state store, shared between processes), or a Client ID Metadata Document URL.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use toolgate_core::Clock;
use toolgate_store::{Namespace, StateStore, StateStoreJson, StoreError};

use crate::cimd::{CimdError, CimdFetcher, CimdUrl};
use crate::client::{ClientId, ClientSource, RegisteredClient};
use crate::client_secret::{ClientSecret, ClientSecretDigest};
use crate::config::{Lifetimes, PreregisteredClient};
use crate::registration::{RegistrationError, RegistrationPolicy, RegistrationRequest, ValidatedRegistration};

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

/// A dynamically registered client as stored: the request it registered with, re-validated on load.
#[derive(Serialize, Deserialize)]
struct StoredClient {
    request: RegistrationRequest,
    /// SHA-256 of the secret, base64url; never the secret.
    secret_digest: Option<String>,
    issued_at: i64,
}

/// Every source of clients.
pub(crate) struct ClientRegistry {
    preregistered: HashMap<String, Arc<RegisteredClient>>,
    store: Arc<dyn StateStore>,
    cimd: Option<CimdFetcher>,
    policy: RegistrationPolicy,
    lifetimes: Lifetimes,
    clock: Arc<dyn Clock>,
}

impl ClientRegistry {
    pub fn new(
        clients: &[PreregisteredClient],
        store: Arc<dyn StateStore>,
        cimd: Option<CimdFetcher>,
        policy: RegistrationPolicy,
        lifetimes: Lifetimes,
        clock: Arc<dyn Clock>,
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
            let operator_policy = RegistrationPolicy {
                allow_confidential_clients: true,
                ..RegistrationPolicy::default()
            };
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
                clock.as_ref(),
            );
            preregistered.insert(configured.client_id.clone(), Arc::new(client));
        }
        Ok(Self {
            preregistered,
            store,
            cimd,
            policy,
            lifetimes,
            clock,
        })
    }

    pub fn policy(&self) -> &RegistrationPolicy {
        &self.policy
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
        let Some(stored) = self
            .store
            .get_json::<StoredClient>(Namespace::CLIENT, client_id)
            .await?
        else {
            return Ok(None);
        };
        let stored_policy = RegistrationPolicy {
            allow_confidential_clients: true,
            ..self.policy.clone()
        };
        // Registered under the same rules; a failure here means the rules got stricter since.
        let Ok(validated) = stored.request.validate(&stored_policy) else {
            return Ok(None);
        };
        let digest = stored
            .secret_digest
            .as_deref()
            .and_then(|d| toolgate_jose::base64url_decode(d).ok())
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .map(ClientSecretDigest::from_bytes);
        Ok(Some(Arc::new(RegisteredClient::from_validated(
            ClientId::new(client_id),
            validated,
            digest,
            stored.issued_at,
            ClientSource::Dynamic,
        ))))
    }

    /// Registers a validated DCR request; the secret (confidential clients) is returned once.
    pub async fn register(
        &self,
        request: RegistrationRequest,
        validated: ValidatedRegistration,
    ) -> Result<(RegisteredClient, Option<ClientSecret>), StoreError> {
        let (client, secret) = RegisteredClient::register(validated, self.clock.as_ref());
        let stored = StoredClient {
            request,
            secret_digest: client
                .secret_digest
                .as_ref()
                .map(|d| toolgate_jose::base64url_encode(d.as_bytes())),
            issued_at: client.issued_at,
        };
        self.store
            .put_json(
                Namespace::CLIENT,
                client.client_id.as_str(),
                &stored,
                self.lifetimes.registration,
            )
            .await?;
        Ok((client, secret))
    }
}

//! Credentials toward upstreams. toolgate never passes the client's token through (MCP
//! authorization spec, "Token Passthrough" is forbidden); per upstream it sends:
//!
//! - `none`;
//! - `header`: a static header whose value comes from an environment variable or a file (never
//!   the configuration file, never logged);
//! - `entra-obo`: an Entra access token for the upstream's `scope`, obtained **On-Behalf-Of** the
//!   calling user (Microsoft identity platform, "OAuth 2.0 On-Behalf-Of flow": `grant_type =
//!   urn:ietf:params:oauth:grant-type:jwt-bearer`, `requested_token_use = on_behalf_of`). The
//!   assertion is the user's Entra token: the request's own bearer token under `entra-jwt` and
//!   `azure-bearer`, the token kept sealed by the proxy under `entra-proxy`;
//! - `entra-app`: an app-only token for `scope` (client credentials, RFC 6749 §4.4).
//!
//! Entra tokens are cached per user (or app) and scope until five minutes before they expire.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use parking_lot::Mutex;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use toolgate_core::{Clock, Principal};

/// `auth = { kind = … }` of an `[[upstream]]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum CredentialSpec {
    #[default]
    None,
    /// A static header; exactly one of `value_env` / `value_file`.
    Header {
        name: String,
        #[serde(default)]
        value_env: Option<String>,
        #[serde(default)]
        value_file: Option<PathBuf>,
    },
    /// On-Behalf-Of the calling user, for `scope` (`api://tickets-api/.default`).
    EntraObo { scope: String },
    /// toolgate's own app-only token for `scope`.
    EntraApp { scope: String },
}

impl CredentialSpec {
    /// Whether these credentials travel in HTTP headers (so a stdio upstream cannot take them).
    pub fn needs_http(&self) -> bool {
        !matches!(self, Self::None)
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        match self {
            Self::None => Ok(()),
            Self::Header {
                name,
                value_env,
                value_file,
            } => {
                http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("`{name}` is not a header name"))?;
                match (value_env, value_file) {
                    (Some(_), None) | (None, Some(_)) => Ok(()),
                    _ => Err("a header takes its value from exactly one of `value_env` or `value_file`".into()),
                }
            }
            Self::EntraObo { scope } | Self::EntraApp { scope } => {
                if scope.trim().is_empty() || scope.contains(' ') {
                    Err("`scope` must be one scope (`api://app/.default`)".into())
                } else {
                    Ok(())
                }
            }
        }
    }
}

/// The Entra application toolgate signs in as (its `[auth.entra]` client and secret).
#[derive(Clone)]
pub struct EntraClient {
    /// `{authority}/{tenant}/oauth2/v2.0/token`.
    pub token_url: url::Url,
    pub client_id: String,
    pub client_secret: SecretString,
}

impl std::fmt::Debug for EntraClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntraClient")
            .field("token_url", &self.token_url.as_str())
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .finish()
    }
}

/// Where a user's own Entra token comes from, for On-Behalf-Of.
#[async_trait]
pub trait UserAssertion: Send + Sync + 'static {
    /// The user's Entra access token, issued to toolgate's Entra app.
    async fn entra_token(&self, principal: &Principal, bearer: Option<&str>) -> Result<SecretString, CredentialError>;
}

/// The request's own bearer token is the user's Entra token (`entra-jwt`, `azure-bearer`).
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestBearer;

#[async_trait]
impl UserAssertion for RequestBearer {
    async fn entra_token(&self, _principal: &Principal, bearer: Option<&str>) -> Result<SecretString, CredentialError> {
        bearer
            .map(|token| SecretString::from(token.to_owned()))
            .ok_or(CredentialError::NoUserToken)
    }
}

/// Why credentials for an upstream could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error("no Entra token of the calling user is available for On-Behalf-Of")]
    NoUserToken,
    #[error("an app-only caller cannot be represented On-Behalf-Of a user")]
    AppOnlyCaller,
    /// Entra refused: its error code (`invalid_grant`), the AADSTS number if any, its message.
    #[error("Entra refused the token request: {error}{}", aadsts.as_ref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Refused {
        error: String,
        aadsts: Option<String>,
        description: String,
    },
    #[error("Entra could not be reached: {0}")]
    Unreachable(String),
    #[error("the header value for `{0}` cannot be read or is not a valid header value")]
    HeaderValue(String),
}

/// A header to send, and until when it is good (Unix seconds; `None`: forever).
#[derive(Clone)]
pub struct UpstreamHeader {
    pub name: http::HeaderName,
    pub value: SecretString,
    pub expires_at: Option<i64>,
}

impl std::fmt::Debug for UpstreamHeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamHeader")
            .field("name", &self.name)
            .field("value", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A cached Entra token.
#[derive(Clone)]
struct Cached {
    token: SecretString,
    expires_at: i64,
}

/// Entra tokens this close to expiry are renewed.
pub const RENEW_MARGIN_SECONDS: i64 = 300;
/// Most cached tokens (users × scopes); expired ones are dropped first.
const CACHE_CAPACITY: usize = 10_000;

/// Obtains upstream credentials; one per gateway, shared by every session.
pub struct Credentials {
    http: reqwest::Client,
    entra: Option<EntraClient>,
    assertion: Arc<dyn UserAssertion>,
    clock: Arc<dyn Clock>,
    cache: Mutex<HashMap<(String, String), Cached>>,
}

impl Credentials {
    pub fn new(entra: Option<EntraClient>, assertion: Arc<dyn UserAssertion>, clock: Arc<dyn Clock>) -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(std::time::Duration::from_secs(15))
                .build()
                .unwrap_or_default(),
            entra,
            assertion,
            clock,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Whether Entra credentials can be had (an `[auth.entra]` client secret is configured).
    pub fn has_entra_client(&self) -> bool {
        self.entra.is_some()
    }

    /// The header for `spec` when `principal` calls (with `bearer`, the request's own token).
    pub async fn header(
        &self,
        spec: &CredentialSpec,
        principal: Option<&Principal>,
        bearer: Option<&str>,
    ) -> Result<Option<UpstreamHeader>, CredentialError> {
        match spec {
            CredentialSpec::None => Ok(None),
            CredentialSpec::Header {
                name,
                value_env,
                value_file,
            } => {
                let value = match (value_env, value_file) {
                    (Some(variable), _) => std::env::var(variable).ok(),
                    (None, Some(path)) => std::fs::read_to_string(path).ok().map(|v| v.trim_end().to_owned()),
                    (None, None) => None,
                };
                let value = value
                    .filter(|v| http::HeaderValue::from_str(v).is_ok())
                    .ok_or_else(|| CredentialError::HeaderValue(name.clone()))?;
                let name = http::HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| CredentialError::HeaderValue(name.clone()))?;
                Ok(Some(UpstreamHeader {
                    name,
                    value: SecretString::from(value),
                    expires_at: None,
                }))
            }
            CredentialSpec::EntraApp { scope } => {
                let token = self
                    .cached_or(("app".to_owned(), scope.clone()), || self.client_credentials(scope))
                    .await?;
                Ok(Some(bearer_header(token)))
            }
            CredentialSpec::EntraObo { scope } => {
                let principal = principal.ok_or(CredentialError::NoUserToken)?;
                if principal.is_app_only() {
                    return Err(CredentialError::AppOnlyCaller);
                }
                let key = (principal.id.clone(), scope.clone());
                let token = self
                    .cached_or(key, || async {
                        let assertion = self.assertion.entra_token(principal, bearer).await?;
                        self.on_behalf_of(&assertion, scope).await
                    })
                    .await?;
                Ok(Some(bearer_header(token)))
            }
        }
    }

    async fn cached_or<F, Fut>(&self, key: (String, String), fetch: F) -> Result<Cached, CredentialError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Cached, CredentialError>>,
    {
        let now = self.clock.now_unix();
        if let Some(cached) = self.cache.lock().get(&key)
            && cached.expires_at - RENEW_MARGIN_SECONDS > now
        {
            return Ok(cached.clone());
        }
        let fresh = fetch().await?;
        let mut cache = self.cache.lock();
        if cache.len() >= CACHE_CAPACITY {
            cache.retain(|_, c| c.expires_at > now);
            if cache.len() >= CACHE_CAPACITY {
                cache.clear();
            }
        }
        cache.insert(key, fresh.clone());
        Ok(fresh)
    }

    fn entra(&self) -> Result<&EntraClient, CredentialError> {
        self.entra.as_ref().ok_or(CredentialError::Refused {
            error: "unauthorized_client".into(),
            aadsts: None,
            description: "toolgate has no Entra client secret ([auth.entra] client_secret)".into(),
        })
    }

    async fn on_behalf_of(&self, assertion: &SecretString, scope: &str) -> Result<Cached, CredentialError> {
        let entra = self.entra()?;
        self.token_request(
            entra,
            &[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("requested_token_use", "on_behalf_of"),
                ("assertion", assertion.expose_secret()),
                ("scope", scope),
            ],
        )
        .await
    }

    async fn client_credentials(&self, scope: &str) -> Result<Cached, CredentialError> {
        let entra = self.entra()?;
        self.token_request(entra, &[("grant_type", "client_credentials"), ("scope", scope)])
            .await
    }

    async fn token_request(&self, entra: &EntraClient, params: &[(&str, &str)]) -> Result<Cached, CredentialError> {
        #[derive(Deserialize)]
        struct Answer {
            access_token: Option<String>,
            expires_in: Option<i64>,
            error: Option<String>,
            error_description: Option<String>,
        }
        let mut form: Vec<(&str, &str)> = params.to_vec();
        form.push(("client_id", &entra.client_id));
        form.push(("client_secret", entra.client_secret.expose_secret()));
        let response = self
            .http
            .post(entra.token_url.clone())
            .form(&form)
            .send()
            .await
            .map_err(|e| CredentialError::Unreachable(e.without_url().to_string()))?;
        let answer: Answer = response
            .json()
            .await
            .map_err(|e| CredentialError::Unreachable(format!("unreadable answer: {}", e.without_url())))?;
        match answer {
            Answer {
                access_token: Some(token),
                expires_in,
                ..
            } => Ok(Cached {
                token: SecretString::from(token),
                expires_at: self.clock.now_unix() + expires_in.unwrap_or(300),
            }),
            Answer {
                error,
                error_description,
                ..
            } => {
                let description = error_description.unwrap_or_default();
                let aadsts = description
                    .split(|c: char| !c.is_ascii_alphanumeric())
                    .find(|word| word.starts_with("AADSTS"))
                    .map(str::to_owned);
                Err(CredentialError::Refused {
                    error: error.unwrap_or_else(|| "invalid_request".into()),
                    aadsts,
                    description: toolgate_core::text::bounded_string(&description, 300),
                })
            }
        }
    }
}

fn bearer_header(cached: Cached) -> UpstreamHeader {
    UpstreamHeader {
        name: http::header::AUTHORIZATION,
        value: SecretString::from(format!("Bearer {}", cached.token.expose_secret())),
        expires_at: Some(cached.expires_at),
    }
}

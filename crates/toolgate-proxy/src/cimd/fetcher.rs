//! Fetches Client ID Metadata Documents without becoming a server-side request forgery tool.
//!
//! Guards (MCP security best practices, "SSRF" for CIMD; CIMD draft §6):
//! - https only; no redirects followed (a redirect could point inside the network);
//! - every address the host resolves to must be public ([`classify_address`]); the check runs in the
//!   resolver the HTTP client connects with, so a DNS answer cannot change between check and connect
//!   (DNS rebinding). An IP literal host is checked before any request is made;
//! - system proxies are ignored (a proxy would resolve and connect on our behalf, unguarded);
//! - connect and total timeouts; the body is read in chunks and abandoned past the size limit;
//! - `Content-Type` must be JSON.

use std::error::Error as _;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE};
use thiserror::Error;
use toolgate_core::Clock;
use url::Host;

use super::address::{AddressClass, classify_address};
use super::cache::{CimdCache, Freshness};
use super::document::{CimdDocument, CimdDocumentError};
use super::url::{CimdUrl, CimdUrlError};
use crate::client::RegisteredClient;

/// Settings of a [`CimdFetcher`]. `Default` is what production should use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CimdFetcherConfig {
    pub connect_timeout: Duration,
    /// Whole request including the body.
    pub total_timeout: Duration,
    pub max_body_bytes: usize,
    /// Let documents be fetched from loopback/private/link-local/… addresses (a trusted internal
    /// deployment only).
    pub allow_private_addresses: bool,
    /// Accept `http://` client ids. Tests only: there are no certificates for a local https server.
    pub danger_allow_http_for_tests: bool,
    /// Lower bound of a cache lifetime taken from `max-age`.
    pub cache_min_ttl: Duration,
    /// Upper bound of a cache lifetime taken from `max-age`.
    pub cache_max_ttl: Duration,
    /// Lifetime when the response has no `Cache-Control` lifetime.
    pub cache_default_ttl: Duration,
    /// Most documents kept.
    pub cache_capacity: usize,
}

impl Default for CimdFetcherConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            total_timeout: Duration::from_secs(5),
            max_body_bytes: 5 * 1024,
            allow_private_addresses: false,
            danger_allow_http_for_tests: false,
            cache_min_ttl: Duration::from_secs(60),
            cache_max_ttl: Duration::from_secs(24 * 60 * 60),
            cache_default_ttl: Duration::from_secs(5 * 60),
            cache_capacity: 1024,
        }
    }
}

/// Why no client could be obtained from a metadata document URL.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CimdError {
    #[error("could not build the HTTP client: {0}")]
    ClientBuild(#[source] reqwest::Error),
    #[error(transparent)]
    Url(#[from] CimdUrlError),
    #[error("{host} resolves to {addr}, a {class:?} address; metadata documents must be on public addresses")]
    ForbiddenAddress {
        host: String,
        addr: IpAddr,
        class: AddressClass,
    },
    #[error("fetching the metadata document timed out")]
    Timeout,
    #[error("the metadata document URL answered with a redirect ({status}); redirects are not followed")]
    Redirect { status: u16 },
    #[error("the metadata document URL answered with HTTP {status}")]
    Status { status: u16 },
    #[error("the metadata document has content type `{0}`, not JSON")]
    ContentType(String),
    #[error("the metadata document is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("fetching the metadata document failed: {0}")]
    Transport(#[source] reqwest::Error),
    #[error(transparent)]
    Document(#[from] CimdDocumentError),
}

impl CimdError {
    /// What a browser or a client may be told. Every failure to reach a public address — a
    /// forbidden (private, loopback, link-local…) address, a name that does not resolve, a refused
    /// connection, a timeout — reads the same, so the answer reveals nothing about internal name
    /// resolution or addresses (the detail goes to the log). Failures after a public server
    /// answered (status, redirect, content type, size, the document's content) are the document
    /// owner's business and are named.
    pub fn public_reason(&self) -> String {
        match self {
            Self::ForbiddenAddress { .. } | Self::Timeout | Self::Transport(_) | Self::ClientBuild(_) => {
                "it could not be fetched from a public address".to_owned()
            }
            Self::Url(error) => error.to_string(),
            Self::Redirect { status } => {
                format!("its URL answered with a redirect (HTTP {status}), which is not followed")
            }
            Self::Status { status } => format!("its URL answered with HTTP {status}"),
            Self::ContentType(_) => "its URL did not answer with JSON".to_owned(),
            Self::TooLarge { limit } => format!("it is larger than {limit} bytes"),
            Self::Document(error) => error.to_string(),
        }
    }
}

/// The error the guarded resolver returns; found again in the client's error chain.
#[derive(Debug, Error)]
#[error("{host} resolves to forbidden address {addr}")]
struct Blocked {
    host: String,
    addr: IpAddr,
    class: AddressClass,
}

/// Resolves with the system resolver and refuses the whole answer if any address is not public.
struct GuardedResolver {
    allow_private_addresses: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private_addresses;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if !allow_private {
                for addr in &addrs {
                    let class = classify_address(addr.ip());
                    if !class.is_public() {
                        return Err(Box::new(Blocked {
                            host,
                            addr: addr.ip(),
                            class,
                        }) as _);
                    }
                }
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Fetches, validates and caches CIMD clients.
pub struct CimdFetcher {
    http: reqwest::Client,
    config: CimdFetcherConfig,
    cache: CimdCache,
    clock: Arc<dyn Clock>,
}

impl CimdFetcher {
    pub fn new(config: CimdFetcherConfig, clock: Arc<dyn Clock>) -> Result<Self, CimdError> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.total_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .https_only(!config.danger_allow_http_for_tests)
            .dns_resolver(GuardedResolver {
                allow_private_addresses: config.allow_private_addresses,
            })
            .user_agent(concat!("toolgate-cimd/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(CimdError::ClientBuild)?;
        Ok(Self {
            cache: CimdCache::new(config.cache_capacity),
            http,
            config,
            clock,
        })
    }

    /// Parses a client id as a CIMD URL under this fetcher's rules (https only unless the test flag is set).
    pub fn parse_url(&self, client_id: &str) -> Result<CimdUrl, CimdUrlError> {
        CimdUrl::parse_inner(client_id, self.config.danger_allow_http_for_tests)
    }

    /// Whether `client_id` is a metadata document URL this fetcher would fetch (https, or http
    /// under the test flag) rather than a DCR or configured id.
    pub fn handles(&self, client_id: &str) -> bool {
        CimdUrl::looks_like_cimd(client_id)
            || (self.config.danger_allow_http_for_tests && client_id.starts_with("http://"))
    }

    /// Number of cached documents.
    pub fn cached_documents(&self) -> usize {
        self.cache.len()
    }

    /// The client described by the document at `url`, from the cache or freshly fetched and validated.
    pub async fn fetch(&self, url: &CimdUrl) -> Result<Arc<RegisteredClient>, CimdError> {
        let now = self.clock.now_unix();
        if let Some(client) = self.cache.get(url.as_str(), now) {
            return Ok(client);
        }
        if url.url().scheme() != "https" && !self.config.danger_allow_http_for_tests {
            return Err(CimdError::Url(CimdUrlError::NotHttps));
        }
        self.check_literal_host(url)?;

        let (body, cache_control) = tokio::time::timeout(self.config.total_timeout, self.download(url))
            .await
            .map_err(|_| CimdError::Timeout)??;
        let client = Arc::new(CimdDocument::from_json(&body)?.validate(url, now)?);

        let freshness = Freshness::from_header(cache_control.as_deref());
        let config = &self.config;
        if let Some(ttl) = freshness.ttl(config.cache_min_ttl, config.cache_max_ttl, config.cache_default_ttl) {
            let expires_at = now.saturating_add(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX));
            self.cache
                .insert(url.as_str().to_owned(), Arc::clone(&client), expires_at, now);
        }
        tracing::debug!(
            client_id = %crate::untrusted::Untrusted::new(url.as_str()).max_chars(300),
            ?freshness,
            "fetched client id metadata document"
        );
        Ok(client)
    }

    /// A host written as an IP address is never resolved, so the resolver guard does not see it.
    fn check_literal_host(&self, url: &CimdUrl) -> Result<(), CimdError> {
        if self.config.allow_private_addresses {
            return Ok(());
        }
        let addr = match url.url().host() {
            Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
            _ => return Ok(()),
        };
        let class = classify_address(addr);
        if class.is_public() {
            Ok(())
        } else {
            Err(CimdError::ForbiddenAddress {
                host: url.host().to_owned(),
                addr,
                class,
            })
        }
    }

    async fn download(&self, url: &CimdUrl) -> Result<(Vec<u8>, Option<String>), CimdError> {
        let mut response = self
            .http
            .get(url.url().clone())
            .header(ACCEPT, "application/json")
            .send()
            .await
            .map_err(map_transport_error)?;
        let status = response.status();
        if status.is_redirection() {
            return Err(CimdError::Redirect {
                status: status.as_u16(),
            });
        }
        if status != reqwest::StatusCode::OK {
            return Err(CimdError::Status {
                status: status.as_u16(),
            });
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        if !is_json(&content_type) {
            return Err(CimdError::ContentType(content_type));
        }
        let limit = self.config.max_body_bytes;
        if response.content_length().is_some_and(|len| len > limit as u64) {
            return Err(CimdError::TooLarge { limit });
        }
        let cache_control = response
            .headers()
            .get(CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(map_transport_error)? {
            if body.len().saturating_add(chunk.len()) > limit {
                return Err(CimdError::TooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok((body, cache_control))
    }
}

impl std::fmt::Debug for CimdFetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CimdFetcher")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// `application/json` or any `+json` type, parameters ignored.
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn map_transport_error(error: reqwest::Error) -> CimdError {
    let mut source = error.source();
    while let Some(current) = source {
        if let Some(blocked) = current.downcast_ref::<Blocked>() {
            return CimdError::ForbiddenAddress {
                host: blocked.host.clone(),
                addr: blocked.addr,
                class: blocked.class,
            };
        }
        source = current.source();
    }
    if error.is_timeout() {
        return CimdError::Timeout;
    }
    CimdError::Transport(error)
}

#[cfg(test)]
mod tests;

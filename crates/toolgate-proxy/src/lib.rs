//! The OAuth 2.1 authorization server that toolgate puts in front of Entra ID for MCP clients
//! (the `entra-proxy` provider). See `docs/entra-proxy.md`.
//!
//! A flow, file by file: [`endpoints`](crate::endpoints) `metadata` → `register` (DCR, or
//! [`cimd`] documents, or pre-registered clients) → `authorize` (validate, bind the browser,
//! go to Entra via `upstream`) → `callback` (check the binding, redeem at Entra, validate) →
//! `consent` (CSRF double submit, grant, single-use code) → `token` (PKCE, rotation, the proxy's
//! own JWT from [`TokenSigner`]) → `revoke`. State lives in a [`toolgate_store::StateStore`]
//! ([`flow`] records, single-use by atomic take).

// No byte-index slicing or indexing outside tests: request input must never panic the proxy.
#![deny(clippy::string_slice, clippy::indexing_slicing)]
#![cfg_attr(test, allow(clippy::string_slice, clippy::indexing_slicing))]

pub mod cimd;
mod client;
mod client_address;
mod client_secret;
mod config;
mod crypto;
mod dynamic_clients;
mod endpoints;
mod flow;
mod oauth_error;
mod proxy;
mod redirect_uri;
mod registration;
mod registry;
mod scope;
mod tokens;
mod untrusted;
mod upstream;
mod web;

pub use client::{ClientId, ClientKind, ClientSource, RegisteredClient, RegistrationResponse};
pub use client_address::{IpNetwork, IpNetworkError};
pub use client_secret::{ClientSecret, ClientSecretDigest};
pub use config::{
    Lifetimes, PROXY_TOKEN_CLAIMS, PreregisteredClient, ProxyConfig, RateLimit, RegistrationMode, RegistrationSettings,
    SignInLimits, UpstreamConfig,
};
pub use crypto::{PkceChallenge, PkceError, PkceVerifier, ProxySecret, ProxySecretError};
pub use flow::UserClaims;
pub use oauth_error::{Busy, Description, OAuthError};
pub use proxy::{EntraProxy, ProxyBuildError, UpstreamAccessToken, UpstreamTokenError};
pub use redirect_uri::{Destination, RedirectUri, RedirectUriError, RedirectUriKind, UNSAFE_SCHEMES};
pub use registration::{
    ApplicationType, GrantType, RegistrationError, RegistrationErrorCode, RegistrationPolicy, RegistrationRequest,
    ResponseType, TokenEndpointAuthMethod, ValidatedRegistration,
};
pub use registry::{LookupError, PreregisteredClientError};
pub use tokens::{SigningKeyError, TokenSigner, VerifiedAccessToken};
pub use upstream::UpstreamError;

/// The client id recorded in tokens obtained through `/auth/login` + `/auth/exchange`.
pub const BROWSER_LOGIN_CLIENT: &str = endpoints::BROWSER_LOGIN_CLIENT;

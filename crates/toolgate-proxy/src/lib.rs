//! The OAuth 2.1 authorization server that toolgate puts in front of Entra ID for MCP clients
//! (the `entra-proxy` provider).
//!
//! This crate holds the pure building blocks first; the HTTP endpoints come later:
//! - [`RedirectUri`]: a redirect URI validated once (RFC 6749 §3.1.2, RFC 8252 §7/§8) and matched
//!   exactly, loopback ports excepted (RFC 8252 §7.3).
//! - [`RegistrationRequest`] → [`ValidatedRegistration`] → [`RegisteredClient`]: Dynamic Client
//!   Registration (RFC 7591) with its error codes.
//! - [`cimd`]: Client ID Metadata Documents, fetched through an SSRF-guarded client and cached.
//!
//! See `docs/entra-proxy.md` for what is built and what is not.

pub mod cimd;
mod client;
mod client_secret;
mod redirect_uri;
mod registration;

pub use client::{ClientId, ClientKind, ClientSource, RegisteredClient, RegistrationResponse};
pub use client_secret::{ClientSecret, ClientSecretDigest};
pub use redirect_uri::{RedirectUri, RedirectUriError, RedirectUriKind};
pub use registration::{
    ApplicationType, GrantType, RegistrationError, RegistrationErrorCode, RegistrationPolicy, RegistrationRequest,
    ResponseType, TokenEndpointAuthMethod, ValidatedRegistration,
};

//! The OAuth2 security scheme as OpenAPI declares it, and how an operation gets its caller.

use std::sync::Arc;

use poem::Request;
use poem_openapi::auth::Bearer;
use poem_openapi::{OAuthScopes, SecurityScheme};
use toolgate_core::Principal;

/// Placeholders in the generated spec, replaced from configuration at start-up.
pub mod placeholders {
    pub const AUTHORIZATION_URL: &str = "https://toolgate.invalid/placeholder/authorize";
    pub const TOKEN_URL: &str = "https://toolgate.invalid/placeholder/token";
    pub const SCOPE: &str = "toolgate-placeholder-scope";
}

/// The scope Swagger UI requests (its real name is set at start-up).
#[derive(Debug, OAuthScopes)]
pub enum ApiScopes {
    /// Access the toolgate API as the signed-in user.
    #[oai(rename = "toolgate-placeholder-scope")]
    AccessAsUser,
}

/// Sign in with Microsoft Entra ID (authorization code + PKCE; no client secret in the browser).
//
// The request was already authenticated by the provider (the operation's `authenticated`
// transform); the checker only hands the principal over, and refuses (fail closed) otherwise.
#[derive(SecurityScheme)]
#[oai(
    ty = "oauth2",
    flows(authorization_code(
        authorization_url = "https://toolgate.invalid/placeholder/authorize",
        token_url = "https://toolgate.invalid/placeholder/token",
        scopes = "ApiScopes"
    )),
    checker = "principal_of"
)]
pub struct EntraAuth(pub Arc<Principal>);

async fn principal_of(req: &Request, _bearer: Bearer) -> Option<Arc<Principal>> {
    req.extensions().get::<Arc<Principal>>().cloned()
}

/// An API key in the `X-API-Key` header, where the deployment configures API keys.
//
// Authenticated by the provider (azure-bearer with `api_keys`) like a bearer token.
#[derive(SecurityScheme)]
#[oai(
    ty = "api_key",
    key_name = "X-API-Key",
    key_in = "header",
    checker = "principal_of_key"
)]
pub struct ApiKeyAuth(pub Arc<Principal>);

async fn principal_of_key(req: &Request, _key: poem_openapi::auth::ApiKey) -> Option<Arc<Principal>> {
    req.extensions().get::<Arc<Principal>>().cloned()
}

/// Either scheme; the first that the provider accepted.
#[derive(SecurityScheme)]
pub enum Caller {
    Entra(EntraAuth),
    ApiKey(ApiKeyAuth),
}

impl Caller {
    pub fn principal(&self) -> &Arc<Principal> {
        match self {
            Self::Entra(EntraAuth(principal)) | Self::ApiKey(ApiKeyAuth(principal)) => principal,
        }
    }
}

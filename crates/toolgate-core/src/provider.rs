//! The authentication seam: every provider turns a request into a [`Principal`] or a refusal.

use std::sync::Arc;

use async_trait::async_trait;
use http::{HeaderMap, Method, Uri, header};

use crate::principal::Principal;
use crate::rejection::{AuthRejection, RejectReason};
use crate::resource_metadata::ProtectedResourceMetadata;
use crate::route::ProviderRoute;

/// The parts of a request a provider may look at. Bodies are not offered: credentials travel in
/// headers only (tokens in query strings are refused by the MCP spec).
#[derive(Debug, Clone, Copy)]
pub struct RequestHead<'a> {
    pub method: &'a Method,
    pub uri: &'a Uri,
    pub headers: &'a HeaderMap,
}

/// Authenticates requests and describes itself to clients.
///
/// Several providers can guard one server at once (for example an OAuth proxy for people and a
/// plain JWT validator for service accounts): see [`crate::ProviderSet`].
#[async_trait]
pub trait AuthProvider: Send + Sync + 'static {
    /// Stable name used in config, logs and audit rows (`entra-jwt`, `entra-proxy`, …).
    fn name(&self) -> &str;

    /// Authenticates a request. Must fail closed and never panic on any input.
    /// The principal is shared (`Arc`): providers may cache it until the token expires.
    async fn authenticate(&self, request: RequestHead<'_>) -> Result<Arc<Principal>, AuthRejection>;

    /// The RFC 9728 document describing the resource this provider protects.
    fn protected_resource_metadata(&self) -> ProtectedResourceMetadata;

    /// Scopes a client should request, advertised in 401 challenges.
    fn challenge_scope(&self) -> Option<String> {
        let scopes = self.protected_resource_metadata().scopes_supported;
        (!scopes.is_empty()).then(|| scopes.join(" "))
    }

    /// Extra HTTP routes this provider owns (OAuth endpoints, discovery documents).
    fn routes(&self) -> Vec<ProviderRoute> {
        Vec::new()
    }
}

/// Extracts the bearer token from `Authorization` (RFC 6750 §2.1).
///
/// No header, another scheme (`Basic …`) or an empty `Bearer` are refusals *without* bearer
/// credentials (401 with the challenge, so MCP clients start discovery); a token with spaces in
/// it is an invalid token (401); two `Authorization` headers or a non-ASCII value are a
/// malformed request (400).
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, AuthRejection> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(AuthRejection::missing_token());
    };
    if values.next().is_some() {
        return Err(AuthRejection::new(
            RejectReason::MalformedRequest,
            "more than one Authorization header",
        ));
    }
    let value = value
        .to_str()
        .map_err(|_| AuthRejection::new(RejectReason::MalformedRequest, "Authorization header is not ASCII"))?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthRejection::new(
            RejectReason::UnsupportedScheme,
            "Authorization scheme is not Bearer",
        ));
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(AuthRejection::new(
            RejectReason::EmptyToken,
            "Bearer credentials are empty",
        ));
    }
    if token.contains(' ') {
        return Err(AuthRejection::new(
            RejectReason::MalformedToken,
            "Bearer credentials contain spaces",
        ));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn bearer_token_extraction() {
        assert_eq!(bearer_token(&headers(&["Bearer abc.def.ghi"])).unwrap(), "abc.def.ghi");
        assert_eq!(bearer_token(&headers(&["bearer abc"])).unwrap(), "abc");
        assert_eq!(
            bearer_token(&headers(&[])).unwrap_err().reason,
            RejectReason::MissingToken
        );
        for (bad, reason) in [
            ("Basic abc", RejectReason::UnsupportedScheme),
            ("Bearer", RejectReason::EmptyToken),
            ("Bearer ", RejectReason::EmptyToken),
            ("Bearer a b", RejectReason::MalformedToken),
        ] {
            let rejection = bearer_token(&headers(&[bad])).unwrap_err();
            assert_eq!(rejection.reason, reason, "{bad}");
            assert_eq!(rejection.status(), http::StatusCode::UNAUTHORIZED, "{bad}");
        }
        assert_eq!(
            bearer_token(&headers(&["Bearer a", "Bearer b"])).unwrap_err().reason,
            RejectReason::MalformedRequest
        );
    }
}

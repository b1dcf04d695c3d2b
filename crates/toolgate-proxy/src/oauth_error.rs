//! The authorization server's errors as protocol vocabulary: one type whose variants are the
//! registered OAuth error codes. Where an error is answered (JSON body, redirect to the client, or
//! toolgate's own page) is decided by the handler and carried out in one place,
//! [`crate::web::refusal`].
//!
//! Codes and their sources:
//! - RFC 6749 §4.1.2.1 (authorization endpoint): `invalid_request`, `unauthorized_client`,
//!   `access_denied`, `unsupported_response_type`, `invalid_scope`, `server_error`,
//!   `temporarily_unavailable`;
//! - RFC 6749 §5.2 (token endpoint): `invalid_request`, `invalid_client`, `invalid_grant`,
//!   `unauthorized_client`, `unsupported_grant_type`, `invalid_scope`;
//! - RFC 7591 §3.2.2 (registration): `invalid_redirect_uri`, `invalid_client_metadata`;
//! - RFC 7009 §2.2.1 (revocation): `unsupported_token_type`;
//! - RFC 8707 §2 (resource indicators): `invalid_target`;
//! - OpenID Connect Core §3.1.2.6: `request_not_supported`.

use std::borrow::Cow;
use std::fmt;

use http::StatusCode;
use toolgate_store::StoreError;

use crate::untrusted::Untrusted;

/// Longest `error_description` sent, in characters.
const MAX_DESCRIPTION_CHARS: usize = 300;

/// Seconds a client should wait when the state store is unreachable.
const STORE_RETRY_AFTER_SECONDS: u32 = 5;

/// A human-readable `error_description`, restricted to the characters RFC 6749 §5.2 allows
/// (`%x20-21 / %x23-5B / %x5D-7E`: printable ASCII without `"` and `\`). Anything else — including
/// text an attacker put in a request — is replaced by `?`, and the text is cut at 300 characters,
/// so a description can never carry markup, control characters or bidirectional overrides.
#[derive(Clone, PartialEq, Eq)]
pub struct Description(Cow<'static, str>);

impl Description {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn clean(text: &str) -> String {
        let mut out = String::with_capacity(text.len().min(MAX_DESCRIPTION_CHARS));
        for (count, c) in text.chars().enumerate() {
            if count == MAX_DESCRIPTION_CHARS {
                out.push_str("...");
                break;
            }
            let allowed = matches!(c, '\x20'..='\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e');
            out.push(if allowed { c } else { '?' });
        }
        out
    }
}

impl From<&'static str> for Description {
    fn from(text: &'static str) -> Self {
        let clean = Self::clean(text);
        if clean == text {
            Self(Cow::Borrowed(text))
        } else {
            Self(Cow::Owned(clean))
        }
    }
}

impl From<String> for Description {
    fn from(text: String) -> Self {
        Self(Cow::Owned(Self::clean(&text)))
    }
}

impl fmt::Display for Description {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Description {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0.as_ref(), f)
    }
}

/// Why a client should wait before trying again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Busy {
    /// A rate limit or a capacity ceiling was reached (HTTP 429).
    Limited,
    /// A dependency (state store, Entra) is unavailable (HTTP 503).
    Unavailable,
}

/// An OAuth error, by its registered code, with a description safe to show the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthError {
    /// A required parameter is missing, repeated, malformed or otherwise unacceptable.
    #[error("invalid_request: {0}")]
    InvalidRequest(Description),
    /// Client authentication failed (401; a `Basic` challenge when Basic was tried, RFC 6749 §5.2).
    #[error("invalid_client: {description}")]
    InvalidClient {
        description: Description,
        basic_challenge: bool,
    },
    /// The code, refresh token or grant is invalid, expired, revoked or belongs to someone else.
    #[error("invalid_grant: {0}")]
    InvalidGrant(Description),
    /// The client may not use this grant or response type.
    #[error("unauthorized_client: {0}")]
    UnauthorizedClient(Description),
    #[error("unsupported_grant_type: {0}")]
    UnsupportedGrantType(Description),
    #[error("unsupported_response_type: {0}")]
    UnsupportedResponseType(Description),
    /// The requested scope exceeds what was granted (unknown scopes are ignored, RFC 6749 §3.3).
    #[error("invalid_scope: {0}")]
    InvalidScope(Description),
    /// The user, or Entra on the user's behalf, refused.
    #[error("access_denied: {0}")]
    AccessDenied(Description),
    /// Something went wrong inside toolgate or in its configuration (500); details go to the log.
    #[error("server_error: {0}")]
    ServerError(Description),
    /// Try again later: `Retry-After` seconds, 429 or 503.
    #[error("temporarily_unavailable: {description}")]
    TemporarilyUnavailable {
        description: Description,
        retry_after: u32,
        busy: Busy,
    },
    /// RFC 7591 §3.2.2.
    #[error("invalid_redirect_uri: {0}")]
    InvalidRedirectUri(Description),
    /// RFC 7591 §3.2.2.
    #[error("invalid_client_metadata: {0}")]
    InvalidClientMetadata(Description),
    /// RFC 7009 §2.2.1.
    #[error("unsupported_token_type: {0}")]
    UnsupportedTokenType(Description),
    /// RFC 8707 §2: `resource` is not this server's MCP endpoint.
    #[error("invalid_target: {0}")]
    InvalidTarget(Description),
    /// OIDC Core §3.1.2.6: `request` / `request_uri` objects.
    #[error("request_not_supported: {0}")]
    RequestNotSupported(Description),
}

impl OAuthError {
    pub fn invalid_request(description: impl Into<Description>) -> Self {
        Self::InvalidRequest(description.into())
    }

    pub fn invalid_grant(description: impl Into<Description>) -> Self {
        Self::InvalidGrant(description.into())
    }

    pub fn access_denied(description: impl Into<Description>) -> Self {
        Self::AccessDenied(description.into())
    }

    pub fn server_error(description: impl Into<Description>) -> Self {
        Self::ServerError(description.into())
    }

    pub fn invalid_client(description: impl Into<Description>, basic_challenge: bool) -> Self {
        Self::InvalidClient {
            description: description.into(),
            basic_challenge,
        }
    }

    /// 503 with `Retry-After`: a dependency is down.
    pub fn unavailable(description: impl Into<Description>, retry_after: u32) -> Self {
        Self::TemporarilyUnavailable {
            description: description.into(),
            retry_after,
            busy: Busy::Unavailable,
        }
    }

    /// 429 with `Retry-After`: a limit was reached.
    pub fn limited(description: impl Into<Description>, retry_after: u32) -> Self {
        Self::TemporarilyUnavailable {
            description: description.into(),
            retry_after,
            busy: Busy::Limited,
        }
    }

    /// A state-store failure: `temporarily_unavailable` (503) while it is unreachable,
    /// `server_error` otherwise. Logged here, without keys or values.
    pub fn from_store(error: &StoreError) -> Self {
        if error.is_unavailable() {
            tracing::warn!(error = %Untrusted::new(&error.to_string()), "state store unavailable");
            Self::unavailable(
                "the sign-in service is temporarily unavailable; try again in a moment",
                STORE_RETRY_AFTER_SECONDS,
            )
        } else {
            tracing::error!(error = %Untrusted::new(&error.to_string()), "state store error");
            Self::server_error("internal error")
        }
    }

    /// The registered code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidClient { .. } => "invalid_client",
            Self::InvalidGrant(_) => "invalid_grant",
            Self::UnauthorizedClient(_) => "unauthorized_client",
            Self::UnsupportedGrantType(_) => "unsupported_grant_type",
            Self::UnsupportedResponseType(_) => "unsupported_response_type",
            Self::InvalidScope(_) => "invalid_scope",
            Self::AccessDenied(_) => "access_denied",
            Self::ServerError(_) => "server_error",
            Self::TemporarilyUnavailable { .. } => "temporarily_unavailable",
            Self::InvalidRedirectUri(_) => "invalid_redirect_uri",
            Self::InvalidClientMetadata(_) => "invalid_client_metadata",
            Self::UnsupportedTokenType(_) => "unsupported_token_type",
            Self::InvalidTarget(_) => "invalid_target",
            Self::RequestNotSupported(_) => "request_not_supported",
        }
    }

    pub fn description(&self) -> &Description {
        match self {
            Self::InvalidRequest(d)
            | Self::InvalidGrant(d)
            | Self::UnauthorizedClient(d)
            | Self::UnsupportedGrantType(d)
            | Self::UnsupportedResponseType(d)
            | Self::InvalidScope(d)
            | Self::AccessDenied(d)
            | Self::ServerError(d)
            | Self::InvalidRedirectUri(d)
            | Self::InvalidClientMetadata(d)
            | Self::UnsupportedTokenType(d)
            | Self::InvalidTarget(d)
            | Self::RequestNotSupported(d) => d,
            Self::InvalidClient { description, .. } | Self::TemporarilyUnavailable { description, .. } => description,
        }
    }

    /// The HTTP status of a JSON answer (RFC 6749 §5.2: 400, or 401 for `invalid_client`).
    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidClient { .. } => StatusCode::UNAUTHORIZED,
            Self::ServerError(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::TemporarilyUnavailable {
                busy: Busy::Limited, ..
            } => StatusCode::TOO_MANY_REQUESTS,
            Self::TemporarilyUnavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The status of toolgate's own error page for this error.
    pub fn page_status(&self) -> StatusCode {
        match self {
            Self::AccessDenied(_) => StatusCode::FORBIDDEN,
            _ => self.status(),
        }
    }

    /// `Retry-After` seconds, for `temporarily_unavailable`.
    pub fn retry_after(&self) -> Option<u32> {
        match self {
            Self::TemporarilyUnavailable { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }
}

impl From<StoreError> for OAuthError {
    fn from(error: StoreError) -> Self {
        Self::from_store(&error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_keep_to_the_rfc_6749_character_set() {
        let d = Description::from("redirect_uri is required".to_owned());
        assert_eq!(d.as_str(), "redirect_uri is required");
        for (input, expected) in [
            ("quote \" and backslash \\", "quote ? and backslash ?"),
            ("line\nbreak\r", "line?break?"),
            ("bidi \u{202e}txt", "bidi ?txt"),
            ("zero\u{200b}width", "zero?width"),
            ("Ünïcode", "?n?code"),
            ("<script>", "<script>"),
        ] {
            assert_eq!(Description::from(input.to_owned()).as_str(), expected, "{input:?}");
        }
        let long = Description::from("x".repeat(1000));
        assert_eq!(long.as_str().len(), MAX_DESCRIPTION_CHARS + 3);
        assert!(long.as_str().ends_with("..."));
    }

    #[test]
    fn codes_and_statuses_follow_the_rfcs() {
        let cases = [
            (OAuthError::invalid_request("x"), "invalid_request", 400, 400),
            (OAuthError::invalid_client("x", true), "invalid_client", 401, 401),
            (OAuthError::invalid_grant("x"), "invalid_grant", 400, 400),
            (OAuthError::access_denied("x"), "access_denied", 400, 403),
            (OAuthError::server_error("x"), "server_error", 500, 500),
            (OAuthError::unavailable("x", 5), "temporarily_unavailable", 503, 503),
            (OAuthError::limited("x", 60), "temporarily_unavailable", 429, 429),
            (OAuthError::InvalidTarget("x".into()), "invalid_target", 400, 400),
            (
                OAuthError::InvalidClientMetadata("x".into()),
                "invalid_client_metadata",
                400,
                400,
            ),
        ];
        for (error, code, json, page) in cases {
            assert_eq!(error.code(), code);
            assert_eq!(error.status().as_u16(), json, "{code}");
            assert_eq!(error.page_status().as_u16(), page, "{code}");
        }
        assert_eq!(OAuthError::limited("x", 60).retry_after(), Some(60));
        assert_eq!(OAuthError::invalid_request("x").retry_after(), None);
        assert_eq!(OAuthError::invalid_grant("gone").to_string(), "invalid_grant: gone");
    }
}

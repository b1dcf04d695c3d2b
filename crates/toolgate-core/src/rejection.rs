//! Why a request was not authenticated, and how that is said over HTTP (RFC 6750 §3).
//!
//! Two audiences, two levels of detail: the HTTP answer stays terse (a status, a
//! `WWW-Authenticate` challenge, a short JSON body), while [`RejectReason`] is a precise,
//! machine-readable code for logs and the audit trail.

use http::StatusCode;

/// The precise reason a token or request was refused. `as_str` is stable: it is stored in audit
/// rows and matched by dashboards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectReason {
    MissingToken,
    /// `Authorization` carries another scheme (`Basic …`): no bearer credentials were presented.
    UnsupportedScheme,
    /// `Authorization: Bearer` with nothing after it.
    EmptyToken,
    /// `Authorization` sent twice, or not ASCII.
    MalformedRequest,
    /// Not a compact JWS, bad base64url, or not JSON.
    MalformedToken,
    UnsupportedAlgorithm,
    UnsupportedCriticalHeader,
    MissingKeyId,
    UnknownSigningKey,
    BadSignature,
    /// The key's own `issuer` (from the JWKS) does not cover the token's issuer.
    KeyIssuerMismatch,
    /// A Microsoft Graph token (its header carries `nonce`): not issued for this API.
    GraphToken,
    /// An ID token presented as an access token.
    IdToken,
    MissingExpiry,
    Expired,
    NotYetValid,
    IssuedInFuture,
    UnsupportedVersion,
    WrongIssuer,
    /// `tid` missing, not a GUID, or not the tenant named in `iss`.
    BadTenantId,
    TenantNotAllowed,
    WrongAudience,
    /// `api://…/.default` is a scope, never an audience.
    AudienceIsScope,
    /// A list-valued `aud`, refused unless configured.
    AudienceList,
    MissingClaim,
    GuestNotAllowed,
    AppOnlyNotAllowed,
    MissingScope,
    MissingRole,
    /// Signing keys could not be loaded at all: fail closed.
    KeysUnavailable,
    /// A provider's own state store or upstream is down.
    Unavailable,
}

impl RejectReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissingToken => "missing_token",
            Self::UnsupportedScheme => "unsupported_scheme",
            Self::EmptyToken => "empty_token",
            Self::MalformedRequest => "malformed_request",
            Self::MalformedToken => "malformed_token",
            Self::UnsupportedAlgorithm => "unsupported_algorithm",
            Self::UnsupportedCriticalHeader => "unsupported_critical_header",
            Self::MissingKeyId => "missing_key_id",
            Self::UnknownSigningKey => "unknown_signing_key",
            Self::BadSignature => "bad_signature",
            Self::KeyIssuerMismatch => "key_issuer_mismatch",
            Self::GraphToken => "graph_token",
            Self::IdToken => "id_token",
            Self::MissingExpiry => "missing_exp",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::IssuedInFuture => "issued_in_future",
            Self::UnsupportedVersion => "unsupported_version",
            Self::WrongIssuer => "wrong_issuer",
            Self::BadTenantId => "bad_tenant_id",
            Self::TenantNotAllowed => "tenant_not_allowed",
            Self::WrongAudience => "wrong_audience",
            Self::AudienceIsScope => "audience_is_scope",
            Self::AudienceList => "audience_list",
            Self::MissingClaim => "missing_claim",
            Self::GuestNotAllowed => "guest_not_allowed",
            Self::AppOnlyNotAllowed => "app_only_not_allowed",
            Self::MissingScope => "missing_scope",
            Self::MissingRole => "missing_role",
            Self::KeysUnavailable => "keys_unavailable",
            Self::Unavailable => "unavailable",
        }
    }

    /// Whether this reason proves the token came from an issuer this provider trusts
    /// (so, when several providers are tried, this refusal is the one worth reporting).
    pub fn token_was_recognised(self) -> bool {
        !matches!(
            self,
            Self::MissingToken
                | Self::UnsupportedScheme
                | Self::EmptyToken
                | Self::MalformedRequest
                | Self::MalformedToken
                | Self::WrongIssuer
                | Self::UnknownSigningKey
                | Self::MissingKeyId
                | Self::UnsupportedAlgorithm
                | Self::KeysUnavailable
        )
    }
}

/// How RFC 6750 (§3, §3.1) answers a refusal: each [`RejectReason`] belongs to exactly one class,
/// decided by one exhaustive match, so a new reason cannot be answered by accident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectionClass {
    /// No bearer credentials were presented: 401 with a challenge carrying no `error` (§3.1).
    NoCredentials,
    /// The request itself is malformed: 400 `invalid_request`.
    InvalidRequest,
    /// The token was presented and is not acceptable: 401 `invalid_token`.
    InvalidToken,
    /// The token is valid but not enough: 403 `insufficient_scope`.
    InsufficientScope,
    /// Toolgate cannot decide right now (keys or a store unavailable): 503, fail closed.
    Unavailable,
}

impl RejectReason {
    /// The RFC 6750 class of this reason.
    pub fn class(self) -> RejectionClass {
        match self {
            Self::MissingToken | Self::UnsupportedScheme | Self::EmptyToken => RejectionClass::NoCredentials,
            Self::MalformedRequest => RejectionClass::InvalidRequest,
            Self::MalformedToken
            | Self::UnsupportedAlgorithm
            | Self::UnsupportedCriticalHeader
            | Self::MissingKeyId
            | Self::UnknownSigningKey
            | Self::BadSignature
            | Self::KeyIssuerMismatch
            | Self::GraphToken
            | Self::IdToken
            | Self::MissingExpiry
            | Self::Expired
            | Self::NotYetValid
            | Self::IssuedInFuture
            | Self::UnsupportedVersion
            | Self::WrongIssuer
            | Self::BadTenantId
            | Self::TenantNotAllowed
            | Self::WrongAudience
            | Self::AudienceIsScope
            | Self::AudienceList
            | Self::MissingClaim => RejectionClass::InvalidToken,
            Self::GuestNotAllowed | Self::AppOnlyNotAllowed | Self::MissingScope | Self::MissingRole => {
                RejectionClass::InsufficientScope
            }
            Self::KeysUnavailable | Self::Unavailable => RejectionClass::Unavailable,
        }
    }
}

impl std::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused request. `detail` is for logs and audit only; it never reaches the HTTP body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}: {detail}")]
pub struct AuthRejection {
    pub reason: RejectReason,
    pub detail: String,
    /// For `insufficient_scope`: the scopes (or roles) that would have been enough.
    pub required: Vec<String>,
}

impl AuthRejection {
    pub fn new(reason: RejectReason, detail: impl Into<String>) -> Self {
        Self {
            reason,
            detail: detail.into(),
            required: Vec::new(),
        }
    }

    pub fn missing_token() -> Self {
        Self::new(
            RejectReason::MissingToken,
            "no bearer token in the Authorization header",
        )
    }

    pub fn insufficient(reason: RejectReason, detail: impl Into<String>, required: Vec<String>) -> Self {
        Self {
            reason,
            detail: detail.into(),
            required,
        }
    }

    /// The RFC 6750 error code, or `None` when no bearer credentials were presented (§3.1: then
    /// the challenge carries no `error`). Another scheme or an empty bearer counts as none: the
    /// 401 and its `resource_metadata` are what makes an MCP client start discovery.
    pub fn error_code(&self) -> Option<&'static str> {
        match self.reason.class() {
            RejectionClass::NoCredentials | RejectionClass::Unavailable => None,
            RejectionClass::InvalidRequest => Some("invalid_request"),
            RejectionClass::InvalidToken => Some("invalid_token"),
            RejectionClass::InsufficientScope => Some("insufficient_scope"),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self.reason.class() {
            RejectionClass::NoCredentials | RejectionClass::InvalidToken => StatusCode::UNAUTHORIZED,
            RejectionClass::InvalidRequest => StatusCode::BAD_REQUEST,
            RejectionClass::InsufficientScope => StatusCode::FORBIDDEN,
            RejectionClass::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The terse public message for the JSON body. Deliberately vague about *why* a token was
    /// refused: the precise reason is in the logs and the audit trail.
    pub fn public_message(&self) -> &'static str {
        match (self.reason.class(), self.reason) {
            (RejectionClass::NoCredentials, _) => "authentication required",
            (RejectionClass::InvalidRequest, _) => "malformed Authorization header",
            (RejectionClass::InvalidToken, _) => "the access token is invalid",
            (RejectionClass::InsufficientScope, RejectReason::GuestNotAllowed) => "guest users are not allowed",
            (RejectionClass::InsufficientScope, RejectReason::AppOnlyNotAllowed) => {
                "application tokens are not allowed"
            }
            (RejectionClass::InsufficientScope, _) => "the token lacks a required scope or role",
            (RejectionClass::Unavailable, _) => "authentication is temporarily unavailable",
        }
    }

    /// The `WWW-Authenticate` value for this refusal.
    pub fn www_authenticate(&self, challenge: &Challenge) -> String {
        let mut params = Vec::new();
        if let Some(code) = self.error_code() {
            params.push(format!("error=\"{code}\""));
            if code != "invalid_request" {
                params.push(format!("error_description=\"{}\"", self.public_message()));
            }
        }
        let scope = if self.required.is_empty() {
            challenge.scope.clone()
        } else {
            Some(self.required.join(" "))
        };
        if let Some(scope) = scope.filter(|s| !s.is_empty()) {
            params.push(format!("scope=\"{}\"", quote_safe(&scope)));
        }
        params.push(format!(
            "resource_metadata=\"{}\"",
            quote_safe(&challenge.resource_metadata)
        ));
        format!("Bearer {}", params.join(", "))
    }
}

/// What a 401/403 challenge advertises: where the protected resource metadata lives and which
/// scopes a client should ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub resource_metadata: String,
    pub scope: Option<String>,
}

/// Quoted-string values must not contain `"` or `\`; our values are URLs and scope names, so
/// anything else is dropped rather than escaped.
fn quote_safe(value: &str) -> String {
    value
        .chars()
        .filter(|c| *c != '"' && *c != '\\' && !c.is_control())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn challenge() -> Challenge {
        Challenge {
            resource_metadata: "https://mcp.example/.well-known/oauth-protected-resource/mcp".into(),
            scope: Some("api://x/access_as_user".into()),
        }
    }

    #[test]
    fn missing_token_challenge_has_no_error_code() {
        let header = AuthRejection::missing_token().www_authenticate(&challenge());
        assert_eq!(
            header,
            "Bearer scope=\"api://x/access_as_user\", resource_metadata=\"https://mcp.example/.well-known/oauth-protected-resource/mcp\""
        );
        assert_eq!(AuthRejection::missing_token().status(), StatusCode::UNAUTHORIZED);
    }

    #[test]
    fn invalid_token_keeps_precise_reason_out_of_the_header() {
        let rejection = AuthRejection::new(RejectReason::WrongAudience, "aud=api://other");
        let header = rejection.www_authenticate(&challenge());
        assert!(header.starts_with("Bearer error=\"invalid_token\""));
        assert!(!header.contains("api://other"));
        assert_eq!(rejection.status(), StatusCode::UNAUTHORIZED);
    }

    #[test]
    fn insufficient_scope_is_403_and_names_the_needed_scope() {
        let rejection = AuthRejection::insufficient(
            RejectReason::MissingScope,
            "scp lacks access_as_user",
            vec!["api://x/access_as_user".into()],
        );
        assert_eq!(rejection.status(), StatusCode::FORBIDDEN);
        let header = rejection.www_authenticate(&challenge());
        assert!(header.contains("error=\"insufficient_scope\""));
        assert!(header.contains("scope=\"api://x/access_as_user\""));
    }
}

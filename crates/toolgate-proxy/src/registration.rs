//! Dynamic Client Registration (RFC 7591): the request as sent, its validation, and the errors of
//! RFC 7591 §3.2.2.
//!
//! Values are read as plain strings so that an unknown value gets an error naming the field, rather
//! than a generic deserialisation failure; unknown fields are ignored (RFC 7591 §2).

use serde::{Deserialize, Serialize};
use serde_json::json;
use thiserror::Error;
use url::Url;

use crate::redirect_uri::{RedirectUri, RedirectUriError, RedirectUriKind};

/// Longest accepted `client_name`, in characters (it is shown on the consent page).
pub const MAX_CLIENT_NAME_CHARS: usize = 200;
/// Longest accepted `software_id` / `software_version`, in bytes.
pub const MAX_SOFTWARE_LEN: usize = 256;
/// Longest accepted `scope`, in bytes, and most scope tokens in it.
pub const MAX_SCOPE_LEN: usize = 512;
pub const MAX_SCOPE_TOKENS: usize = 32;
/// Longest accepted `client_uri` / `logo_uri`, in bytes.
pub const MAX_URI_LEN: usize = 512;
/// Most entries in `grant_types` and in `response_types` (before duplicates are collapsed).
pub const MAX_TYPE_ENTRIES: usize = 4;
/// Largest registration body read, in bytes.
pub const MAX_REGISTRATION_BODY: usize = 16 * 1024;

/// An RFC 7591 registration request as received. Missing fields are `None`; nothing is checked yet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uris: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_types: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_types: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_version: Option<String>,
}

/// What the server allows at registration. The defaults bound what one anonymous registration
/// can make the server store (with the field bounds above, about 8 KiB normalised).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationPolicy {
    /// Allow `client_secret_post` / `client_secret_basic`. Off by default: MCP clients are public.
    pub allow_confidential_clients: bool,
    /// Upper bound on `redirect_uris` entries (before duplicates are collapsed).
    pub max_redirect_uris: usize,
    /// Longest redirect URI accepted at registration, in bytes (at most
    /// [`crate::redirect_uri::MAX_REDIRECT_URI_LEN`]).
    pub max_redirect_uri_len: usize,
}

impl Default for RegistrationPolicy {
    fn default() -> Self {
        Self {
            allow_confidential_clients: false,
            max_redirect_uris: 10,
            max_redirect_uri_len: 512,
        }
    }
}

impl RegistrationPolicy {
    /// For clients the operator configures: confidential clients allowed, longer lists and URIs.
    pub fn operator() -> Self {
        Self {
            allow_confidential_clients: true,
            max_redirect_uris: 100,
            max_redirect_uri_len: crate::redirect_uri::MAX_REDIRECT_URI_LEN,
        }
    }
}

/// `grant_types` values supported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
}

impl GrantType {
    fn parse(value: &str) -> Option<Self> {
        match value {
            "authorization_code" => Some(Self::AuthorizationCode),
            "refresh_token" => Some(Self::RefreshToken),
            _ => None,
        }
    }
}

/// `response_types` values supported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ResponseType {
    Code,
}

/// How a client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TokenEndpointAuthMethod {
    /// Public client (PKCE only). The default.
    None,
    ClientSecretPost,
    ClientSecretBasic,
    /// Only for Client ID Metadata Documents (a key, never a shared secret).
    PrivateKeyJwt,
}

impl TokenEndpointAuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::ClientSecretPost => "client_secret_post",
            Self::ClientSecretBasic => "client_secret_basic",
            Self::PrivateKeyJwt => "private_key_jwt",
        }
    }

    /// Whether the client receives a shared secret.
    pub fn uses_secret(self) -> bool {
        matches!(self, Self::ClientSecretPost | Self::ClientSecretBasic)
    }
}

/// OpenID Connect Dynamic Registration `application_type`, used by MCP 2026-07-28 DCR clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ApplicationType {
    /// https redirect URIs only.
    Web,
    /// Loopback, private-use scheme, or claimed https redirect URIs (RFC 8252 §7.1–§7.3).
    Native,
}

/// The RFC 7591 §3.2.2 error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RegistrationErrorCode {
    InvalidRedirectUri,
    InvalidClientMetadata,
}

impl RegistrationErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRedirectUri => "invalid_redirect_uri",
            Self::InvalidClientMetadata => "invalid_client_metadata",
        }
    }
}

/// A refused registration. The message names the offending field.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RegistrationError {
    /// The request body is not a JSON object of the expected shape.
    #[error("request body: {0}")]
    Body(String),
    /// `redirect_uris` is missing, empty, or too long.
    #[error("redirect_uris: {0}")]
    RedirectUris(String),
    /// One redirect URI is not acceptable.
    #[error("redirect_uris[{index}]: {source}")]
    RedirectUri { index: usize, source: RedirectUriError },
    /// A private-use redirect URI for a confidential client: any app on the device may claim the
    /// scheme, so only public clients with PKCE may use one (RFC 8252 §7.1, §8.4).
    #[error(
        "redirect_uris[{index}]: a private-use scheme (`{scheme}:`) is only allowed for public clients (token_endpoint_auth_method `none`)"
    )]
    PrivateUseForConfidentialClient { index: usize, scheme: String },
    /// Any other metadata field.
    #[error("{field}: {message}")]
    Metadata { field: &'static str, message: String },
}

impl RegistrationError {
    fn metadata(field: &'static str, message: impl Into<String>) -> Self {
        Self::Metadata {
            field,
            message: message.into(),
        }
    }

    pub fn code(&self) -> RegistrationErrorCode {
        match self {
            Self::RedirectUris(_) | Self::RedirectUri { .. } | Self::PrivateUseForConfidentialClient { .. } => {
                RegistrationErrorCode::InvalidRedirectUri
            }
            Self::Body(_) | Self::Metadata { .. } => RegistrationErrorCode::InvalidClientMetadata,
        }
    }

    /// The field at fault (`redirect_uris` for every redirect URI error).
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::Body(_) => None,
            Self::RedirectUris(_) | Self::RedirectUri { .. } | Self::PrivateUseForConfidentialClient { .. } => {
                Some("redirect_uris")
            }
            Self::Metadata { field, .. } => Some(field),
        }
    }

    /// The RFC 7591 §3.2.2 body: `{"error": …, "error_description": …}` (sent with HTTP 400).
    pub fn to_json(&self) -> serde_json::Value {
        json!({ "error": self.code().as_str(), "error_description": self.to_string() })
    }
}

impl From<RegistrationError> for crate::oauth_error::OAuthError {
    fn from(error: RegistrationError) -> Self {
        let description = error.to_string().into();
        match error.code() {
            RegistrationErrorCode::InvalidRedirectUri => Self::InvalidRedirectUri(description),
            RegistrationErrorCode::InvalidClientMetadata => Self::InvalidClientMetadata(description),
        }
    }
}

/// A registration request that passed [`RegistrationRequest::validate`], defaults applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedRegistration {
    pub redirect_uris: Vec<RedirectUri>,
    pub client_name: Option<String>,
    pub client_uri: Option<Url>,
    pub logo_uri: Option<Url>,
    pub grant_types: Vec<GrantType>,
    pub response_types: Vec<ResponseType>,
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    /// As sent, or inferred when absent (see [`RegistrationRequest::validate`]).
    pub application_type: ApplicationType,
    pub scope: Option<String>,
    pub software_id: Option<String>,
    pub software_version: Option<String>,
}

impl ValidatedRegistration {
    /// The registration as it is stored: only what was validated, in its normalised form
    /// (duplicates collapsed, defaults applied, `application_type` as decided), so what a stored
    /// record costs is bounded by the field bounds, not by what was sent.
    pub fn to_request(&self) -> RegistrationRequest {
        let strings = |items: Vec<String>| Some(items);
        RegistrationRequest {
            redirect_uris: strings(self.redirect_uris.iter().map(|u| u.as_str().to_owned()).collect()),
            client_name: self.client_name.clone(),
            client_uri: self.client_uri.as_ref().map(Url::to_string),
            logo_uri: self.logo_uri.as_ref().map(Url::to_string),
            grant_types: strings(
                self.grant_types
                    .iter()
                    .map(|g| match g {
                        GrantType::AuthorizationCode => "authorization_code".to_owned(),
                        GrantType::RefreshToken => "refresh_token".to_owned(),
                    })
                    .collect(),
            ),
            response_types: strings(vec!["code".to_owned()]),
            token_endpoint_auth_method: Some(self.token_endpoint_auth_method.as_str().to_owned()),
            application_type: Some(
                match self.application_type {
                    ApplicationType::Web => "web",
                    ApplicationType::Native => "native",
                }
                .to_owned(),
            ),
            scope: self.scope.clone(),
            software_id: self.software_id.clone(),
            software_version: self.software_version.clone(),
        }
    }
}

impl RegistrationRequest {
    /// Parses a JSON body; shape errors become `invalid_client_metadata`.
    pub fn from_json(body: &[u8]) -> Result<Self, RegistrationError> {
        if body.len() > MAX_REGISTRATION_BODY {
            return Err(RegistrationError::Body(format!(
                "{} bytes; at most {MAX_REGISTRATION_BODY} are accepted",
                body.len()
            )));
        }
        // Read as a value first: serde would otherwise accept a JSON array as a struct, field by position.
        match serde_json::from_slice(body) {
            Ok(value @ serde_json::Value::Object(_)) => {
                serde_json::from_value(value).map_err(|e| RegistrationError::Body(e.to_string()))
            }
            Ok(_) => Err(RegistrationError::Body("expected a JSON object".to_owned())),
            Err(e) => Err(RegistrationError::Body(e.to_string())),
        }
    }

    /// Checks every field and applies the defaults of RFC 7591 §2.
    ///
    /// `application_type` (OIDC Dynamic Registration §2): an application whose redirect URIs are
    /// all https is `web` unless it says `native`; one with a loopback or private-use redirect URI
    /// is `native` whatever it says. Real clients label themselves `web` and register native
    /// redirects anyway — Cursor sends `application_type: "web"` with
    /// `cursor://anysphere.cursor-mcp/oauth/callback`, an https URI and `http://localhost:8787/callback`
    /// — and the redirect URIs, not the label, decide how the client is treated (PKCE is required
    /// of every client). VS Code registers `http://127.0.0.1:33418/` and
    /// `https://vscode.dev/redirect` without `application_type`: `native`.
    ///
    /// Private-use redirect URIs are refused for confidential clients (any app may claim a scheme).
    pub fn validate(&self, policy: &RegistrationPolicy) -> Result<ValidatedRegistration, RegistrationError> {
        let redirect_uris = self.validated_redirect_uris(policy)?;
        let all_https = redirect_uris.iter().all(|u| u.kind() == RedirectUriKind::Https);
        let application_type = match self.application_type.as_deref() {
            Some("web") | None if all_https => ApplicationType::Web,
            Some("web" | "native") | None => ApplicationType::Native,
            Some(other) => {
                return Err(RegistrationError::metadata(
                    "application_type",
                    format!("`{other}` is not supported; use `web` or `native`"),
                ));
            }
        };

        let grant_types = match &self.grant_types {
            None => vec![GrantType::AuthorizationCode],
            Some(values) => parse_grant_types(values)?,
        };
        let response_types = match &self.response_types {
            None => vec![ResponseType::Code],
            Some(values) => parse_response_types(values)?,
        };

        let token_endpoint_auth_method = match self.token_endpoint_auth_method.as_deref() {
            None | Some("none") => TokenEndpointAuthMethod::None,
            Some("client_secret_post") if policy.allow_confidential_clients => {
                TokenEndpointAuthMethod::ClientSecretPost
            }
            Some("client_secret_basic") if policy.allow_confidential_clients => {
                TokenEndpointAuthMethod::ClientSecretBasic
            }
            Some(method @ ("client_secret_post" | "client_secret_basic")) => {
                return Err(RegistrationError::metadata(
                    "token_endpoint_auth_method",
                    format!("`{method}` is not enabled on this server; register a public client with `none`"),
                ));
            }
            Some(other) => {
                return Err(RegistrationError::metadata(
                    "token_endpoint_auth_method",
                    format!("`{other}` is not supported; use `none`"),
                ));
            }
        };

        if token_endpoint_auth_method.uses_secret()
            && let Some((index, uri)) = redirect_uris
                .iter()
                .enumerate()
                .find(|(_, uri)| uri.kind() == RedirectUriKind::PrivateUse)
        {
            return Err(RegistrationError::PrivateUseForConfidentialClient {
                index,
                scheme: uri.url().scheme().to_owned(),
            });
        }

        Ok(ValidatedRegistration {
            redirect_uris,
            client_name: self.client_name.as_deref().map(validate_client_name).transpose()?,
            client_uri: self
                .client_uri
                .as_deref()
                .map(|u| https_uri("client_uri", u))
                .transpose()?,
            logo_uri: self.logo_uri.as_deref().map(|u| https_uri("logo_uri", u)).transpose()?,
            grant_types,
            response_types,
            token_endpoint_auth_method,
            application_type,
            scope: self.scope.as_deref().map(validate_scope).transpose()?,
            software_id: self
                .software_id
                .as_deref()
                .map(|v| plain_text("software_id", v))
                .transpose()?,
            software_version: self
                .software_version
                .as_deref()
                .map(|v| plain_text("software_version", v))
                .transpose()?,
        })
    }

    fn validated_redirect_uris(&self, policy: &RegistrationPolicy) -> Result<Vec<RedirectUri>, RegistrationError> {
        let raw = match &self.redirect_uris {
            None => return Err(RegistrationError::RedirectUris("required".to_owned())),
            Some(raw) if raw.is_empty() => {
                return Err(RegistrationError::RedirectUris(
                    "at least one redirect URI is required".to_owned(),
                ));
            }
            Some(raw) if raw.len() > policy.max_redirect_uris => {
                return Err(RegistrationError::RedirectUris(format!(
                    "{} redirect URIs given; at most {} are accepted",
                    raw.len(),
                    policy.max_redirect_uris
                )));
            }
            Some(raw) => raw,
        };
        let mut uris: Vec<RedirectUri> = Vec::with_capacity(raw.len());
        for (index, value) in raw.iter().enumerate() {
            if value.len() > policy.max_redirect_uri_len {
                return Err(RegistrationError::RedirectUri {
                    index,
                    source: RedirectUriError::TooLong { len: value.len() },
                });
            }
            let uri = RedirectUri::parse(value).map_err(|source| RegistrationError::RedirectUri { index, source })?;
            if !uris.contains(&uri) {
                uris.push(uri);
            }
        }
        Ok(uris)
    }
}

fn parse_grant_types(values: &[String]) -> Result<Vec<GrantType>, RegistrationError> {
    if values.len() > MAX_TYPE_ENTRIES {
        return Err(RegistrationError::metadata(
            "grant_types",
            format!("{} entries; at most {MAX_TYPE_ENTRIES} are accepted", values.len()),
        ));
    }
    let mut grants = Vec::new();
    for value in values {
        let grant = GrantType::parse(value).ok_or_else(|| {
            RegistrationError::metadata(
                "grant_types",
                format!("`{value}` is not supported; allowed: authorization_code, refresh_token"),
            )
        })?;
        if !grants.contains(&grant) {
            grants.push(grant);
        }
    }
    if !grants.contains(&GrantType::AuthorizationCode) {
        return Err(RegistrationError::metadata(
            "grant_types",
            "must include authorization_code",
        ));
    }
    Ok(grants)
}

fn parse_response_types(values: &[String]) -> Result<Vec<ResponseType>, RegistrationError> {
    if values.len() > MAX_TYPE_ENTRIES {
        return Err(RegistrationError::metadata(
            "response_types",
            format!("{} entries; at most {MAX_TYPE_ENTRIES} are accepted", values.len()),
        ));
    }
    if values.is_empty() {
        return Err(RegistrationError::metadata("response_types", "must include code"));
    }
    for value in values {
        if value != "code" {
            return Err(RegistrationError::metadata(
                "response_types",
                format!("`{value}` is not supported; allowed: code"),
            ));
        }
    }
    Ok(vec![ResponseType::Code])
}

fn validate_client_name(name: &str) -> Result<String, RegistrationError> {
    if name.trim().is_empty() {
        return Err(RegistrationError::metadata("client_name", "must not be blank"));
    }
    if name.chars().count() > MAX_CLIENT_NAME_CHARS {
        return Err(RegistrationError::metadata(
            "client_name",
            format!("longer than {MAX_CLIENT_NAME_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(RegistrationError::metadata(
            "client_name",
            "contains a control character",
        ));
    }
    // Shown on the consent page: text-direction controls could make it read as another name.
    if name.chars().any(crate::untrusted::is_bidi_control) {
        return Err(RegistrationError::metadata(
            "client_name",
            "contains a text-direction control character",
        ));
    }
    Ok(name.to_owned())
}

/// `client_uri` and `logo_uri` are shown (as a link, as an image) on the consent page: https only.
fn https_uri(field: &'static str, value: &str) -> Result<Url, RegistrationError> {
    if value.len() > MAX_URI_LEN {
        return Err(RegistrationError::metadata(
            field,
            format!("longer than {MAX_URI_LEN} bytes"),
        ));
    }
    let url = Url::parse(value).map_err(|e| RegistrationError::metadata(field, format!("not a URL: {e}")))?;
    if url.scheme() != "https" {
        return Err(RegistrationError::metadata(field, "must be an https URL"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(RegistrationError::metadata(field, "must not contain user information"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(RegistrationError::metadata(field, "must have a host"));
    }
    Ok(url)
}

/// RFC 6749 §3.3: space-separated scope tokens of `%x21 / %x23-5B / %x5D-7E`.
fn validate_scope(scope: &str) -> Result<String, RegistrationError> {
    if scope.len() > MAX_SCOPE_LEN {
        return Err(RegistrationError::metadata(
            "scope",
            format!("longer than {MAX_SCOPE_LEN} bytes"),
        ));
    }
    if scope.split(' ').count() > MAX_SCOPE_TOKENS {
        return Err(RegistrationError::metadata(
            "scope",
            format!("more than {MAX_SCOPE_TOKENS} scopes"),
        ));
    }
    let valid_char = |b: u8| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b);
    for token in scope.split(' ') {
        if token.is_empty() || !token.bytes().all(valid_char) {
            return Err(RegistrationError::metadata(
                "scope",
                "must be space-separated scope tokens (RFC 6749 §3.3)",
            ));
        }
    }
    Ok(scope.to_owned())
}

fn plain_text(field: &'static str, value: &str) -> Result<String, RegistrationError> {
    if value.len() > MAX_SOFTWARE_LEN {
        return Err(RegistrationError::metadata(
            field,
            format!("longer than {MAX_SOFTWARE_LEN} bytes"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(RegistrationError::metadata(field, "contains a control character"));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(redirects: &[&str]) -> RegistrationRequest {
        RegistrationRequest {
            redirect_uris: Some(redirects.iter().map(|s| (*s).to_owned()).collect()),
            ..RegistrationRequest::default()
        }
    }

    fn validate(req: &RegistrationRequest) -> Result<ValidatedRegistration, RegistrationError> {
        req.validate(&RegistrationPolicy::default())
    }

    fn refused(req: &RegistrationRequest) -> RegistrationError {
        match validate(req) {
            Ok(v) => panic!("should be refused: {v:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn vscode_request_is_accepted_as_native() -> Result<(), RegistrationError> {
        let body = br#"{
            "client_name": "Visual Studio Code",
            "redirect_uris": ["http://127.0.0.1:33418/", "https://vscode.dev/redirect"],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
            "some_future_field": {"nested": true}
        }"#;
        let validated = validate(&RegistrationRequest::from_json(body)?)?;
        assert_eq!(validated.application_type, ApplicationType::Native);
        assert_eq!(validated.redirect_uris.len(), 2);
        assert_eq!(
            validated.grant_types,
            vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
        );
        assert_eq!(validated.token_endpoint_auth_method, TokenEndpointAuthMethod::None);
        assert_eq!(validated.client_name.as_deref(), Some("Visual Studio Code"));
        Ok(())
    }

    #[test]
    fn defaults_are_applied() -> Result<(), RegistrationError> {
        let validated = validate(&request(&["https://claude.ai/api/mcp/auth_callback"]))?;
        assert_eq!(validated.application_type, ApplicationType::Web);
        assert_eq!(validated.grant_types, vec![GrantType::AuthorizationCode]);
        assert_eq!(validated.response_types, vec![ResponseType::Code]);
        assert_eq!(validated.token_endpoint_auth_method, TokenEndpointAuthMethod::None);
        Ok(())
    }

    #[test]
    fn every_real_client_redirect_registers() -> Result<(), RegistrationError> {
        for uri in [
            "http://127.0.0.1:33418/",
            "https://vscode.dev/redirect",
            "https://claude.ai/api/mcp/auth_callback",
            "http://localhost:54321/callback",
            "https://chatgpt.com/connector/oauth/abc123",
            "https://global.consent.azure-apim.net/redirect/xyz",
            "cursor://anysphere.cursor-mcp/oauth/callback",
            "http://localhost:8787/callback",
            "myapp:/cb",
        ] {
            validate(&request(&[uri]))?;
        }
        Ok(())
    }

    #[test]
    fn redirect_uris_are_required() {
        let e = refused(&RegistrationRequest::default());
        assert_eq!(e.code(), RegistrationErrorCode::InvalidRedirectUri);
        assert_eq!(e.field(), Some("redirect_uris"));
        let e = refused(&request(&[]));
        assert_eq!(e.code(), RegistrationErrorCode::InvalidRedirectUri);
        let many: Vec<String> = (0..11).map(|i| format!("https://a.example/{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(
            refused(&request(&many)).code(),
            RegistrationErrorCode::InvalidRedirectUri
        );
    }

    #[test]
    fn bad_redirect_uri_names_its_index() {
        let e = refused(&request(&["https://claude.ai/cb", "javascript:alert(1)"]));
        assert_eq!(e.code(), RegistrationErrorCode::InvalidRedirectUri);
        assert!(e.to_string().starts_with("redirect_uris[1]:"), "{e}");
        let body = e.to_json();
        assert_eq!(body["error"], "invalid_redirect_uri");
        assert!(
            body["error_description"]
                .as_str()
                .is_some_and(|d| d.contains("redirect_uris[1]"))
        );
    }

    const CURSOR: [&str; 3] = [
        "cursor://anysphere.cursor-mcp/oauth/callback",
        "https://cursor.com/oauth/callback",
        "http://localhost:8787/callback",
    ];

    #[test]
    fn cursor_registrations_are_accepted_as_native() -> Result<(), RegistrationError> {
        // Cursor's request, and its variants without application_type or with only https + loopback.
        let body = br#"{
            "client_name": "Cursor",
            "application_type": "web",
            "redirect_uris": ["cursor://anysphere.cursor-mcp/oauth/callback",
                              "https://cursor.com/oauth/callback", "http://localhost:8787/callback"],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none"
        }"#;
        let validated = validate(&RegistrationRequest::from_json(body)?)?;
        assert_eq!(validated.application_type, ApplicationType::Native);
        assert_eq!(validated.redirect_uris.len(), 3);
        for (application_type, redirects) in [
            (Some("web"), &CURSOR[..]),
            (None, &CURSOR[..]),
            (Some("native"), &CURSOR[..]),
            (Some("web"), &CURSOR[1..]),
            (None, &CURSOR[1..]),
            (Some("web"), &CURSOR[..1]),
            (Some("web"), &["myapp:/cb"][..]),
        ] {
            let mut req = request(redirects);
            req.application_type = application_type.map(str::to_owned);
            let validated = validate(&req)?;
            assert_eq!(
                validated.application_type,
                ApplicationType::Native,
                "{application_type:?} {redirects:?}"
            );
            assert_eq!(validated.redirect_uris.len(), redirects.len());
        }
        Ok(())
    }

    #[test]
    fn application_type_follows_the_redirect_uris() -> Result<(), RegistrationError> {
        let mut req = request(&["https://vscode.dev/redirect"]);
        assert_eq!(validate(&req)?.application_type, ApplicationType::Web);
        req.application_type = Some("web".to_owned());
        assert_eq!(validate(&req)?.application_type, ApplicationType::Web);
        req.application_type = Some("native".to_owned());
        assert_eq!(validate(&req)?.application_type, ApplicationType::Native);
        req.application_type = Some("browser".to_owned());
        let e = refused(&req);
        assert_eq!(
            (e.code(), e.field()),
            (RegistrationErrorCode::InvalidClientMetadata, Some("application_type"))
        );
        Ok(())
    }

    #[test]
    fn private_use_redirects_are_for_public_clients_only() -> Result<(), RegistrationError> {
        let policy = RegistrationPolicy {
            allow_confidential_clients: true,
            ..RegistrationPolicy::default()
        };
        let mut req = request(&["https://app.example/cb", "com.example.app:/callback"]);
        assert!(req.validate(&policy).is_ok(), "public");
        req.token_endpoint_auth_method = Some("client_secret_basic".to_owned());
        let e = match req.validate(&policy) {
            Ok(v) => panic!("should be refused: {v:?}"),
            Err(e) => e,
        };
        assert_eq!(e.code(), RegistrationErrorCode::InvalidRedirectUri);
        assert!(e.to_string().starts_with("redirect_uris[1]:"), "{e}");
        // Loopback and https stay allowed for a confidential client.
        let mut req = request(&["https://app.example/cb", "http://127.0.0.1/cb"]);
        req.token_endpoint_auth_method = Some("client_secret_post".to_owned());
        assert!(req.validate(&policy)?.token_endpoint_auth_method.uses_secret());
        Ok(())
    }

    #[test]
    fn grant_and_response_types_are_limited() {
        for (grants, responses) in [
            (Some(vec!["client_credentials"]), None),
            (Some(vec!["implicit"]), None),
            (Some(vec!["refresh_token"]), None),
            (Some(vec![]), None),
            (None, Some(vec!["token"])),
            (None, Some(vec!["code", "id_token"])),
            (None, Some(vec![])),
        ] {
            let mut req = request(&["https://claude.ai/cb"]);
            req.grant_types = grants.map(|g| g.into_iter().map(str::to_owned).collect());
            req.response_types = responses.map(|r| r.into_iter().map(str::to_owned).collect());
            let e = refused(&req);
            assert_eq!(e.code(), RegistrationErrorCode::InvalidClientMetadata);
            assert!(matches!(e.field(), Some("grant_types" | "response_types")), "{e}");
        }
    }

    #[test]
    fn confidential_methods_need_the_policy_flag() -> Result<(), RegistrationError> {
        for method in ["client_secret_post", "client_secret_basic"] {
            let mut req = request(&["https://claude.ai/cb"]);
            req.token_endpoint_auth_method = Some(method.to_owned());
            let e = refused(&req);
            assert_eq!(e.field(), Some("token_endpoint_auth_method"));
            assert_eq!(e.code(), RegistrationErrorCode::InvalidClientMetadata);
            let policy = RegistrationPolicy {
                allow_confidential_clients: true,
                ..RegistrationPolicy::default()
            };
            assert!(req.validate(&policy)?.token_endpoint_auth_method.uses_secret());
        }
        for method in ["private_key_jwt", "tls_client_auth", "client_secret_jwt", ""] {
            let mut req = request(&["https://claude.ai/cb"]);
            req.token_endpoint_auth_method = Some(method.to_owned());
            let policy = RegistrationPolicy {
                allow_confidential_clients: true,
                ..RegistrationPolicy::default()
            };
            assert!(req.validate(&policy).is_err(), "{method}");
        }
        Ok(())
    }

    #[test]
    fn uris_for_display_must_be_https() {
        for (field, value) in [
            ("logo_uri", "http://claude.ai/logo.png"),
            ("logo_uri", "javascript:alert(1)"),
            ("logo_uri", "data:image/png;base64,AAAA"),
            ("client_uri", "javascript:alert(1)"),
            ("client_uri", "https://user@claude.ai/"),
            ("client_uri", "not a url"),
        ] {
            let mut req = request(&["https://claude.ai/cb"]);
            if field == "logo_uri" {
                req.logo_uri = Some(value.to_owned());
            } else {
                req.client_uri = Some(value.to_owned());
            }
            let e = refused(&req);
            assert_eq!(
                (e.code(), e.field()),
                (RegistrationErrorCode::InvalidClientMetadata, Some(field)),
                "{value}"
            );
        }
    }

    #[test]
    fn names_with_text_direction_controls_are_refused() {
        for name in [
            "Claude\u{202E}exe.txt",
            "\u{2066}Visual Studio Code\u{2069}",
            "a\u{200F}b",
        ] {
            let mut req = request(&["https://claude.ai/cb"]);
            req.client_name = Some(name.to_owned());
            let e = refused(&req);
            assert_eq!(e.field(), Some("client_name"), "{name:?}");
        }
        // Other invisible characters are shown as escapes on the page instead (see `untrusted`).
        let mut req = request(&["https://claude.ai/cb"]);
        req.client_name = Some("Cl\u{200B}aude".to_owned());
        assert!(validate(&req).is_ok());
    }

    #[test]
    fn free_text_fields_are_checked() {
        type Mutation = fn(&mut RegistrationRequest);
        let cases: [(&str, Mutation); 5] = [
            ("client_name", |r| r.client_name = Some("a\u{7}b".to_owned())),
            ("client_name", |r| r.client_name = Some("x".repeat(201))),
            ("client_name", |r| r.client_name = Some("  ".to_owned())),
            ("scope", |r| r.scope = Some("read  write".to_owned())),
            ("scope", |r| r.scope = Some("read \"write\"".to_owned())),
        ];
        for (field, mutate) in cases {
            let mut req = request(&["https://claude.ai/cb"]);
            mutate(&mut req);
            assert_eq!(refused(&req).field(), Some(field));
        }
    }

    #[test]
    fn malformed_bodies_are_invalid_client_metadata() {
        for body in [&b"not json"[..], br#"{"redirect_uris": "https://claude.ai/cb"}"#, b"[]"] {
            let e = match RegistrationRequest::from_json(body) {
                Ok(r) => refused(&r),
                Err(e) => e,
            };
            assert_eq!(e.code(), RegistrationErrorCode::InvalidClientMetadata);
            assert_eq!(e.to_json()["error"], "invalid_client_metadata");
        }
    }

    #[test]
    fn duplicates_are_collapsed() -> Result<(), RegistrationError> {
        let validated = validate(&request(&["https://claude.ai/cb", "https://claude.ai/cb"]))?;
        assert_eq!(validated.redirect_uris.len(), 1);
        Ok(())
    }
}

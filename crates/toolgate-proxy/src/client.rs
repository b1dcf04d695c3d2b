//! A registered client, however it came to be known: DCR, configuration, or a metadata document.

use std::fmt;

use serde::{Deserialize, Serialize};
use toolgate_core::Clock;
use toolgate_jose::JwkSet;
use url::Url;

use crate::client_secret::{ClientSecret, ClientSecretDigest};
use crate::redirect_uri::RedirectUri;
use crate::registration::{ApplicationType, GrantType, ResponseType, TokenEndpointAuthMethod, ValidatedRegistration};

/// Random bytes in a generated client id (256 bits, well above the 128 required).
const CLIENT_ID_BYTES: usize = 32;

/// A client identifier: random for DCR, configured for pre-registered clients, the document URL for CIMD.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ClientId(String);

impl ClientId {
    /// A fresh URL-safe identifier (unpadded base64url of 256 random bits).
    pub fn generate() -> Self {
        Self(crate::crypto::random_token(CLIENT_ID_BYTES))
    }

    /// An identifier from configuration or a CIMD URL, taken verbatim.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Public clients prove nothing at the token endpoint but PKCE; confidential ones also authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ClientKind {
    Public,
    Confidential,
}

/// How the proxy learned about the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ClientSource {
    /// RFC 7591 Dynamic Client Registration.
    Dynamic,
    /// Configured by the operator.
    Preregistered,
    /// A Client ID Metadata Document fetched from the client id URL.
    Cimd,
}

/// A client the proxy knows. Holds only the digest of a secret, never the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredClient {
    pub client_id: ClientId,
    pub secret_digest: Option<ClientSecretDigest>,
    /// Seconds since the Unix epoch.
    pub issued_at: i64,
    pub redirect_uris: Vec<RedirectUri>,
    pub client_name: Option<String>,
    pub client_uri: Option<Url>,
    pub logo_uri: Option<Url>,
    pub grant_types: Vec<GrantType>,
    pub response_types: Vec<ResponseType>,
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    pub application_type: ApplicationType,
    pub scope: Option<String>,
    pub software_id: Option<String>,
    pub software_version: Option<String>,
    pub kind: ClientKind,
    pub source: ClientSource,
    /// Keys a `private_key_jwt` client signs its token-endpoint assertions with (from its metadata
    /// document's `jwks`).
    pub jwks: Option<JwkSet>,
    /// When a dynamically registered client first obtained tokens (seconds since the epoch);
    /// `None` until then, and for clients of other sources.
    pub first_used_at: Option<i64>,
}

impl RegisteredClient {
    /// Registers a validated DCR request: a new random client id and, for a confidential client, a
    /// new secret, returned once alongside the client.
    pub fn register(validated: ValidatedRegistration, clock: &dyn Clock) -> (Self, Option<ClientSecret>) {
        let secret = validated
            .token_endpoint_auth_method
            .uses_secret()
            .then(ClientSecret::generate);
        let client = Self::from_validated(
            ClientId::generate(),
            validated,
            secret.as_ref().map(ClientSecret::digest),
            clock.now_unix(),
            ClientSource::Dynamic,
        );
        (client, secret)
    }

    /// A client configured by the operator.
    pub fn preregistered(
        client_id: ClientId,
        validated: ValidatedRegistration,
        secret: Option<&ClientSecret>,
        clock: &dyn Clock,
    ) -> Self {
        Self::from_validated(
            client_id,
            validated,
            secret.map(ClientSecret::digest),
            clock.now_unix(),
            ClientSource::Preregistered,
        )
    }

    pub(crate) fn from_validated(
        client_id: ClientId,
        validated: ValidatedRegistration,
        secret_digest: Option<ClientSecretDigest>,
        issued_at: i64,
        source: ClientSource,
    ) -> Self {
        let kind = match validated.token_endpoint_auth_method {
            TokenEndpointAuthMethod::None => ClientKind::Public,
            _ => ClientKind::Confidential,
        };
        Self {
            client_id,
            secret_digest,
            issued_at,
            redirect_uris: validated.redirect_uris,
            client_name: validated.client_name,
            client_uri: validated.client_uri,
            logo_uri: validated.logo_uri,
            grant_types: validated.grant_types,
            response_types: validated.response_types,
            token_endpoint_auth_method: validated.token_endpoint_auth_method,
            application_type: validated.application_type,
            scope: validated.scope,
            software_id: validated.software_id,
            software_version: validated.software_version,
            kind,
            source,
            jwks: None,
            first_used_at: None,
        }
    }

    /// Whether the client is known beyond an anonymous registration: pre-registered, a metadata
    /// document, or a registration that has obtained tokens. Known clients' sign-ins do not count
    /// against the budget of new ones.
    pub fn is_known(&self) -> bool {
        self.source != ClientSource::Dynamic || self.first_used_at.is_some()
    }

    /// The registered redirect URI that `presented` matches, if any (see [`RedirectUri::matches_registered`]).
    pub fn matching_redirect_uri(&self, presented: &RedirectUri) -> Option<&RedirectUri> {
        self.redirect_uris
            .iter()
            .find(|registered| presented.matches_registered(registered))
    }

    /// Constant-time check of a presented secret; false for clients without one.
    pub fn verify_secret(&self, presented: &str) -> bool {
        self.secret_digest
            .as_ref()
            .is_some_and(|digest| digest.verify(presented))
    }

    /// The RFC 7591 §3.2.1 response. `secret` is the one returned by [`Self::register`].
    pub fn registration_response(&self, secret: Option<&ClientSecret>) -> RegistrationResponse {
        RegistrationResponse {
            client_id: self.client_id.as_str().to_owned(),
            client_secret: secret.map(|s| s.expose_secret().to_owned()),
            client_id_issued_at: self.issued_at,
            // RFC 7591 §3.2.1: 0 means the secret does not expire.
            client_secret_expires_at: secret.map(|_| 0),
            redirect_uris: self.redirect_uris.iter().map(|u| u.as_str().to_owned()).collect(),
            client_name: self.client_name.clone(),
            client_uri: self.client_uri.as_ref().map(Url::to_string),
            logo_uri: self.logo_uri.as_ref().map(Url::to_string),
            grant_types: self.grant_types.clone(),
            response_types: self.response_types.clone(),
            token_endpoint_auth_method: self.token_endpoint_auth_method,
            application_type: self.application_type,
            scope: self.scope.clone(),
            software_id: self.software_id.clone(),
            software_version: self.software_version.clone(),
        }
    }
}

/// The RFC 7591 §3.2.1 client information response (HTTP 201).
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct RegistrationResponse {
    pub client_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    pub client_id_issued_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_expires_at: Option<i64>,
    pub redirect_uris: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo_uri: Option<String>,
    pub grant_types: Vec<GrantType>,
    pub response_types: Vec<ResponseType>,
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    pub application_type: ApplicationType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software_version: Option<String>,
}

impl fmt::Debug for RegistrationResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistrationResponse")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "[redacted]"))
            .field("redirect_uris", &self.redirect_uris)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use toolgate_core::ManualClock;

    use super::*;
    use crate::registration::{RegistrationPolicy, RegistrationRequest};

    fn validated(method: Option<&str>) -> Result<ValidatedRegistration, crate::RegistrationError> {
        RegistrationRequest {
            redirect_uris: Some(vec![
                "http://127.0.0.1:33418/".to_owned(),
                "https://vscode.dev/redirect".to_owned(),
            ]),
            client_name: Some("Visual Studio Code".to_owned()),
            token_endpoint_auth_method: method.map(str::to_owned),
            ..RegistrationRequest::default()
        }
        .validate(&RegistrationPolicy {
            allow_confidential_clients: true,
            ..RegistrationPolicy::default()
        })
    }

    #[test]
    fn client_ids_are_random_and_url_safe() {
        let a = ClientId::generate();
        let b = ClientId::generate();
        assert_ne!(a, b);
        assert!(a.as_str().len() >= 22, "at least 128 bits");
        assert!(
            a.as_str()
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
    }

    #[test]
    fn public_registration_response() -> Result<(), Box<dyn std::error::Error>> {
        let clock = ManualClock::new(1_800_000_000);
        let (client, secret) = RegisteredClient::register(validated(None)?, &clock);
        assert!(secret.is_none());
        assert_eq!(
            (client.kind, client.source),
            (ClientKind::Public, ClientSource::Dynamic)
        );
        assert!(!client.verify_secret(""));
        let json = serde_json::to_value(client.registration_response(None))?;
        assert_eq!(json["client_id"], client.client_id.as_str());
        assert_eq!(json["client_id_issued_at"], 1_800_000_000);
        assert_eq!(json["token_endpoint_auth_method"], "none");
        assert_eq!(json["application_type"], "native");
        assert_eq!(json["grant_types"], serde_json::json!(["authorization_code"]));
        assert_eq!(json["response_types"], serde_json::json!(["code"]));
        assert_eq!(
            json["redirect_uris"],
            serde_json::json!(["http://127.0.0.1:33418/", "https://vscode.dev/redirect"])
        );
        assert!(json.get("client_secret").is_none());
        assert!(json.get("client_secret_expires_at").is_none());
        Ok(())
    }

    #[test]
    fn confidential_registration_returns_the_secret_once() -> Result<(), Box<dyn std::error::Error>> {
        let clock = ManualClock::new(1);
        let (client, secret) = RegisteredClient::register(validated(Some("client_secret_basic"))?, &clock);
        let secret = secret.ok_or("a confidential client gets a secret")?;
        assert_eq!(client.kind, ClientKind::Confidential);
        assert!(client.verify_secret(secret.expose_secret()));
        assert!(!client.verify_secret("wrong"));
        assert!(!format!("{client:?}").contains(secret.expose_secret()));
        let response = client.registration_response(Some(&secret));
        assert!(!format!("{response:?}").contains(secret.expose_secret()));
        let json = serde_json::to_value(&response)?;
        assert_eq!(json["client_secret"], secret.expose_secret());
        assert_eq!(json["client_secret_expires_at"], 0);
        Ok(())
    }

    #[test]
    fn redirect_matching_uses_the_registered_list() -> Result<(), Box<dyn std::error::Error>> {
        let (client, _) = RegisteredClient::register(validated(None)?, &ManualClock::new(1));
        let fallback_port = RedirectUri::parse("http://127.0.0.1:50999/")?;
        assert_eq!(
            client.matching_redirect_uri(&fallback_port).map(RedirectUri::as_str),
            Some("http://127.0.0.1:33418/")
        );
        assert!(
            client
                .matching_redirect_uri(&RedirectUri::parse("https://vscode.dev/redirect2")?)
                .is_none()
        );
        assert!(
            client
                .matching_redirect_uri(&RedirectUri::parse("http://localhost:33418/")?)
                .is_none()
        );
        Ok(())
    }

    #[test]
    fn preregistered_clients_keep_their_id() -> Result<(), Box<dyn std::error::Error>> {
        let secret = ClientSecret::new("configured".to_owned());
        let client = RegisteredClient::preregistered(
            ClientId::new("copilot-studio"),
            validated(Some("client_secret_post"))?,
            Some(&secret),
            &ManualClock::new(5),
        );
        assert_eq!(client.client_id.as_str(), "copilot-studio");
        assert_eq!(client.source, ClientSource::Preregistered);
        assert!(client.verify_secret("configured"));
        Ok(())
    }
}

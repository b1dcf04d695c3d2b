//! The metadata document behind a CIMD client id, and the rules it must satisfy.

use serde::Deserialize;
use thiserror::Error;
use toolgate_jose::JwkSet;

use super::url::CimdUrl;
use crate::client::{ClientId, ClientSource, RegisteredClient};
use crate::registration::{RegistrationError, RegistrationPolicy, RegistrationRequest, TokenEndpointAuthMethod};

/// A Client ID Metadata Document as served (RFC 7591 client metadata plus `client_id`). Unknown
/// fields are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct CimdDocument {
    #[serde(default)]
    pub client_id: Option<String>,
    /// Keys for `private_key_jwt` (inline; `jwks_uri` is not fetched).
    #[serde(default)]
    pub jwks: Option<JwkSet>,
    #[serde(flatten)]
    pub metadata: RegistrationRequest,
}

/// Why a fetched document does not describe the client.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CimdDocumentError {
    #[error("metadata document is not a JSON object of client metadata: {0}")]
    NotJson(String),
    #[error("metadata document has no client_id")]
    MissingClientId,
    #[error("metadata document's client_id `{found}` is not its URL `{expected}`")]
    ClientIdMismatch { expected: String, found: String },
    #[error("token_endpoint_auth_method `{0}` is not allowed in a metadata document; use `none` or `private_key_jwt`")]
    AuthMethod(String),
    #[error("private_key_jwt needs an inline `jwks` with at least one RSA key (`jwks_uri` is not supported)")]
    MissingJwks,
    #[error("metadata document: {0}")]
    Metadata(#[from] RegistrationError),
}

impl CimdDocument {
    pub fn from_json(body: &[u8]) -> Result<Self, CimdDocumentError> {
        // Read as a value first: serde would otherwise accept a JSON array as a struct, field by position.
        match serde_json::from_slice(body) {
            Ok(value @ serde_json::Value::Object(_)) => {
                serde_json::from_value(value).map_err(|e| CimdDocumentError::NotJson(e.to_string()))
            }
            Ok(_) => Err(CimdDocumentError::NotJson("expected a JSON object".to_owned())),
            Err(e) => Err(CimdDocumentError::NotJson(e.to_string())),
        }
    }

    /// Checks the document fetched from `url` and turns it into a client whose id is the URL.
    ///
    /// The `client_id` must equal the URL exactly, as a string (CIMD draft §4.1); shared secrets are
    /// meaningless for a self-published document, so only `none` and `private_key_jwt` are accepted.
    /// Every other field follows the DCR rules ([`RegistrationRequest::validate`]).
    pub fn validate(&self, url: &CimdUrl, issued_at: i64) -> Result<RegisteredClient, CimdDocumentError> {
        let found = self.client_id.as_deref().ok_or(CimdDocumentError::MissingClientId)?;
        if found != url.as_str() {
            return Err(CimdDocumentError::ClientIdMismatch {
                expected: url.as_str().to_owned(),
                found: found.to_owned(),
            });
        }
        let method = match self.metadata.token_endpoint_auth_method.as_deref() {
            None | Some("none") => TokenEndpointAuthMethod::None,
            Some("private_key_jwt") => TokenEndpointAuthMethod::PrivateKeyJwt,
            Some(other) => return Err(CimdDocumentError::AuthMethod(other.to_owned())),
        };
        let mut metadata = self.metadata.clone();
        metadata.token_endpoint_auth_method = None;
        let jwks = match method {
            TokenEndpointAuthMethod::PrivateKeyJwt => {
                let usable = self.jwks.as_ref().filter(|set| set.keys.iter().any(|k| k.kty == "RSA"));
                Some(usable.ok_or(CimdDocumentError::MissingJwks)?.clone())
            }
            _ => None,
        };
        let mut validated = metadata.validate(&RegistrationPolicy::default())?;
        validated.token_endpoint_auth_method = method;
        let mut client = RegisteredClient::from_validated(
            ClientId::new(url.as_str()),
            validated,
            None,
            issued_at,
            ClientSource::Cimd,
        );
        client.jwks = jwks;
        Ok(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::ClientKind;
    use crate::registration::RegistrationErrorCode;

    const URL: &str = "https://app.example.com/oauth/client.json";

    fn url() -> Result<CimdUrl, Box<dyn std::error::Error>> {
        Ok(CimdUrl::parse(URL)?)
    }

    #[test]
    fn good_document_becomes_a_cimd_client() -> Result<(), Box<dyn std::error::Error>> {
        let doc = CimdDocument::from_json(
            br#"{"client_id": "https://app.example.com/oauth/client.json",
                 "client_name": "Example", "redirect_uris": ["http://127.0.0.1/cb", "https://app.example.com/cb"],
                 "grant_types": ["authorization_code", "refresh_token"], "extra": 1}"#,
        )?;
        let client = doc.validate(&url()?, 7)?;
        assert_eq!(client.client_id.as_str(), URL);
        assert_eq!((client.source, client.kind), (ClientSource::Cimd, ClientKind::Public));
        assert_eq!(client.redirect_uris.len(), 2);
        assert_eq!(client.issued_at, 7);
        Ok(())
    }

    #[test]
    fn client_id_must_equal_the_url_exactly() -> Result<(), Box<dyn std::error::Error>> {
        for other in [
            "https://app.example.com/oauth/client.json/",
            "https://APP.example.com/oauth/client.json",
            "https://app.example.com:443/oauth/client.json",
            "https://evil.example/oauth/client.json",
        ] {
            let doc = CimdDocument {
                client_id: Some(other.to_owned()),
                jwks: None,
                metadata: RegistrationRequest {
                    redirect_uris: Some(vec!["https://app.example.com/cb".to_owned()]),
                    ..RegistrationRequest::default()
                },
            };
            assert!(
                matches!(
                    doc.validate(&url()?, 0),
                    Err(CimdDocumentError::ClientIdMismatch { .. })
                ),
                "{other}"
            );
        }
        let doc = CimdDocument::from_json(br#"{"redirect_uris": ["https://app.example.com/cb"]}"#)?;
        assert_eq!(doc.validate(&url()?, 0), Err(CimdDocumentError::MissingClientId));
        Ok(())
    }

    #[test]
    fn auth_method_and_redirects_are_checked() -> Result<(), Box<dyn std::error::Error>> {
        let key = toolgate_jose::RsaSigningKey::generate("k")?;
        let base = |method: Option<&str>, redirects: Vec<&str>| CimdDocument {
            client_id: Some(URL.to_owned()),
            jwks: Some(JwkSet {
                keys: vec![key.public_jwk()],
            }),
            metadata: RegistrationRequest {
                redirect_uris: Some(redirects.into_iter().map(str::to_owned).collect()),
                token_endpoint_auth_method: method.map(str::to_owned),
                ..RegistrationRequest::default()
            },
        };
        let client = base(Some("private_key_jwt"), vec!["https://app.example.com/cb"]).validate(&url()?, 0)?;
        assert_eq!(
            client.token_endpoint_auth_method,
            TokenEndpointAuthMethod::PrivateKeyJwt
        );
        assert_eq!(client.kind, ClientKind::Confidential);
        for method in ["client_secret_post", "client_secret_basic", "tls_client_auth"] {
            assert!(matches!(
                base(Some(method), vec!["https://app.example.com/cb"]).validate(&url()?, 0),
                Err(CimdDocumentError::AuthMethod(_))
            ));
        }
        for redirects in [
            vec![],
            vec!["javascript:alert(1)"],
            vec!["https://app.example.com/cb#f"],
        ] {
            match base(None, redirects).validate(&url()?, 0) {
                Err(CimdDocumentError::Metadata(e)) => assert_eq!(e.code(), RegistrationErrorCode::InvalidRedirectUri),
                other => panic!("unexpected {other:?}"),
            }
        }
        Ok(())
    }

    #[test]
    fn non_object_bodies_are_refused() {
        assert!(matches!(
            CimdDocument::from_json(b"[1]"),
            Err(CimdDocumentError::NotJson(_))
        ));
        assert!(matches!(
            CimdDocument::from_json(b"<html>"),
            Err(CimdDocumentError::NotJson(_))
        ));
    }
}

//! PKCE (RFC 7636), S256 only: `plain` would let an intercepted authorization request redeem the code.

use aws_lc_rs::digest::{SHA256, digest};
use thiserror::Error;

/// Why a PKCE parameter is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PkceError {
    #[error("code_challenge is required (PKCE S256)")]
    MissingChallenge,
    #[error("code_challenge_method must be S256 (got `{0}`)")]
    UnsupportedMethod(String),
    #[error("code_challenge_method is required and must be S256 (the default, `plain`, is not accepted)")]
    MissingMethod,
    #[error("code_challenge must be 43 base64url characters (SHA-256)")]
    MalformedChallenge,
    #[error("code_verifier must be 43-128 characters of [A-Za-z0-9-._~]")]
    MalformedVerifier,
}

/// A validated S256 code challenge, as the client sent it to `/authorize`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct PkceChallenge(String);

impl PkceChallenge {
    /// Validates `code_challenge` and `code_challenge_method` from an authorization request.
    pub fn from_request(challenge: Option<&str>, method: Option<&str>) -> Result<Self, PkceError> {
        let challenge = challenge.filter(|c| !c.is_empty()).ok_or(PkceError::MissingChallenge)?;
        match method {
            Some("S256") => {}
            Some(other) => return Err(PkceError::UnsupportedMethod(other.chars().take(32).collect())),
            None => return Err(PkceError::MissingMethod),
        }
        let well_formed = challenge.len() == 43
            && challenge
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !well_formed {
            return Err(PkceError::MalformedChallenge);
        }
        Ok(Self(challenge.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Checks a verifier from the token request against this challenge (constant time).
    pub fn verify(&self, verifier: &str) -> Result<bool, PkceError> {
        let verifier = PkceVerifier::parse(verifier)?;
        Ok(super::same(&verifier.challenge().0, &self.0))
    }
}

/// A code verifier: the proxy's own (toward Entra) or a client's (at `/token`).
///
/// Neither `Clone` nor `Serialize` (oauth2-rs's choice): a verifier is used once, and the only
/// place it is written down is the sealed transaction record ([`serde_sealed`]).
#[derive(PartialEq, Eq)]
pub struct PkceVerifier(String);

/// (De)serializes a verifier inside a sealed record (`#[serde(with = "…")]`); a stored value
/// that is not a valid verifier is refused as the record would be.
pub(crate) mod serde_sealed {
    use super::PkceVerifier;

    pub(crate) fn serialize<S: serde::Serializer>(verifier: &PkceVerifier, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(verifier.expose())
    }

    pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<PkceVerifier, D::Error> {
        let text: String = serde::Deserialize::deserialize(deserializer)?;
        PkceVerifier::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl std::fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PkceVerifier([redacted])")
    }
}

impl PkceVerifier {
    /// A fresh verifier: 32 random bytes, 43 base64url characters.
    pub fn generate() -> Self {
        Self(super::random_token(32))
    }

    pub fn parse(value: &str) -> Result<Self, PkceError> {
        let ok = (43..=128).contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
        if ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(PkceError::MalformedVerifier)
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `BASE64URL(SHA256(verifier))`.
    pub fn challenge(&self) -> PkceChallenge {
        PkceChallenge(toolgate_jose::base64url_encode(digest(&SHA256, self.0.as_bytes())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Sealed {
        #[serde(with = "serde_sealed")]
        verifier: PkceVerifier,
    }

    #[test]
    fn a_sealed_record_keeps_the_verifier_and_refuses_a_malformed_one() {
        let verifier = PkceVerifier::generate();
        let json = serde_json::to_string(&Sealed {
            verifier: PkceVerifier::parse(verifier.expose()).unwrap(),
        })
        .unwrap();
        let back: Sealed = serde_json::from_str(&json).unwrap();
        assert!(back.verifier == verifier);
        assert!(serde_json::from_str::<Sealed>(r#"{"verifier":"short"}"#).is_err());
    }

    #[test]
    fn rfc7636_appendix_b_example() {
        let verifier = PkceVerifier::parse("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
        assert_eq!(
            verifier.challenge().as_str(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let challenge =
            PkceChallenge::from_request(Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"), Some("S256")).unwrap();
        assert!(challenge.verify("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap());
        assert!(!challenge.verify(&PkceVerifier::generate().0).unwrap());
    }

    #[test]
    fn plain_missing_and_malformed_are_refused() {
        let c = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert_eq!(
            PkceChallenge::from_request(None, Some("S256")),
            Err(PkceError::MissingChallenge)
        );
        assert_eq!(
            PkceChallenge::from_request(Some(c), None),
            Err(PkceError::MissingMethod)
        );
        assert_eq!(
            PkceChallenge::from_request(Some(c), Some("plain")),
            Err(PkceError::UnsupportedMethod("plain".into()))
        );
        assert_eq!(
            PkceChallenge::from_request(Some("short"), Some("S256")),
            Err(PkceError::MalformedChallenge)
        );
        assert_eq!(
            PkceVerifier::parse("too-short").unwrap_err(),
            PkceError::MalformedVerifier
        );
    }
}

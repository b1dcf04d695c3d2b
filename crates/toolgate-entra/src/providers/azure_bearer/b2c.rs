//! Azure AD B2C: where a user flow's metadata lives, and which flow a token came from.
//!
//! B2C quirks, each answered here or in the validator:
//! - Metadata is per user flow (policy):
//!   `https://{name}.b2clogin.com/{name}.onmicrosoft.com/{policy}/v2.0/.well-known/openid-configuration`.
//! - Its `issuer` is `https://{name}.b2clogin.com/{tid}/v2.0/` (trailing slash) by default, or the
//!   `…/tfp/{tid}/{policy}/v2.0/` form if the tenant chose it; the validator compares the token's
//!   `iss` with the document's exactly, whatever it is ([`crate::TenantPolicy::B2c`]).
//! - Access tokens say `ver: "1.0"` with that v2.0-style issuer, and carry no `tid`.
//! - All user flows of a tenant share the issuer and usually the keys, so the issuer alone does
//!   not tell a sign-up token from a profile-edit one: the flow is in `tfp` (or `acr` in older
//!   tenants) and is checked here, case-insensitively like B2C's policy names.

use serde_json::{Map, Value};
use toolgate_core::{AuthRejection, RejectReason};

use crate::key_cache::KeySource;

/// One B2C user flow the API trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct B2cPolicy {
    /// `https://{name}.b2clogin.com`, a custom domain, or the emulator; no trailing slash.
    pub authority_host: String,
    /// The tenant segment: `{name}.onmicrosoft.com` or the tenant GUID.
    pub domain: String,
    /// The user flow, e.g. `B2C_1_signupsignin`.
    pub policy: String,
}

impl B2cPolicy {
    /// `{authority}/{domain}/{policy}/v2.0`: where clients sign in (MSAL's authority).
    pub fn authority(&self) -> String {
        format!("{}/{}/{}/v2.0", self.authority_host, self.domain, self.policy)
    }

    pub fn metadata_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.authority())
    }

    /// Keys and the issuer come from the policy's document; B2C has no separate v1 document.
    pub fn key_source(&self) -> KeySource {
        KeySource {
            v2_metadata_url: self.metadata_url(),
            v1_metadata_url: None,
        }
    }

    /// The token's `tfp` (or `acr`) must name this flow. Runs on verified claims only.
    pub(crate) fn check(&self, claims: &Map<String, Value>) -> Result<(), AuthRejection> {
        let flow = claims
            .get("tfp")
            .or_else(|| claims.get("acr"))
            .and_then(Value::as_str)
            .ok_or_else(|| AuthRejection::new(RejectReason::MissingClaim, "B2C token without tfp/acr"))?;
        if flow.eq_ignore_ascii_case(&self.policy) {
            Ok(())
        } else {
            // The policy is part of the issuer's identity in B2C (its `tfp` issuer form names it).
            Err(AuthRejection::new(
                RejectReason::WrongIssuer,
                format!("token from user flow {flow}, expected {}", self.policy),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;

    use super::*;

    fn policy() -> B2cPolicy {
        B2cPolicy {
            authority_host: "https://contoso.b2clogin.com".into(),
            domain: "contoso.onmicrosoft.com".into(),
            policy: "B2C_1_signupsignin".into(),
        }
    }

    #[test]
    fn metadata_url_is_per_policy() {
        assert_eq!(
            policy().metadata_url(),
            "https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_signupsignin/v2.0/.well-known/openid-configuration"
        );
    }

    #[test]
    fn flow_claim_must_match() {
        let claims = |v: Value| v.as_object().cloned().unwrap();
        policy().check(&claims(json!({"tfp": "b2c_1_SignUpSignIn"}))).unwrap();
        policy().check(&claims(json!({"acr": "b2c_1_signupsignin"}))).unwrap();
        let err = policy()
            .check(&claims(json!({"tfp": "B2C_1_profileedit"})))
            .unwrap_err();
        assert_eq!(err.reason, RejectReason::WrongIssuer);
        let err = policy().check(&claims(json!({}))).unwrap_err();
        assert_eq!(err.reason, RejectReason::MissingClaim);
    }
}

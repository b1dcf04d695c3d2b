//! `api-key`: a static API key in `X-API-Key`, to compose with the bearer scheme through
//! [`toolgate_core::ProviderSet`] (fastapi-azure-auth's `auto_error=False` pattern, without the
//! per-route plumbing).
//!
//! Only SHA-256 digests of the keys are configured and kept; a presented key is hashed and
//! compared with every digest in constant time. Keys authenticate *applications*: the principal
//! is app-kind, with the configured roles and no scopes, so per-operation requirements admit it
//! only through roles ([`super::Requirement::ScopeOrRole`]).

use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Map, Value};
use toolgate_core::{
    AuthProvider, AuthRejection, Groups, Principal, PrincipalKind, ProtectedResourceMetadata, RejectReason, RequestHead,
};

use super::config::AzureBearerConfigError;
use super::sha256;

/// One key as configured: `{ key_sha256 = "<hex>", principal = "…", roles = [...] }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyConfig {
    /// SHA-256 of the key, 64 hex digits (`printf %s "$KEY" | sha256sum`).
    pub key_sha256: String,
    /// The name the caller is known by (`apikey:{principal}` in policies and audit).
    pub principal: String,
    #[serde(default)]
    pub roles: Vec<String>,
}

struct Entry {
    digest: [u8; 32],
    principal: Arc<Principal>,
}

/// Authenticates `X-API-Key` against configured digests.
pub struct ApiKeyProvider {
    entries: Vec<Entry>,
    resource: String,
}

impl std::fmt::Debug for ApiKeyProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyProvider")
            .field(
                "principals",
                &self.entries.iter().map(|e| &e.principal.id).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl ApiKeyProvider {
    pub const NAME: &'static str = "api-key";
    pub const HEADER: &'static str = "x-api-key";

    /// Errors name the key (`api_keys[i].key_sha256`, …).
    pub fn new(keys: &[ApiKeyConfig], resource: impl Into<String>) -> Result<Self, AzureBearerConfigError> {
        let mut entries: Vec<Entry> = Vec::with_capacity(keys.len());
        for (i, key) in keys.iter().enumerate() {
            let digest = sha256::from_hex(&key.key_sha256).ok_or_else(|| {
                AzureBearerConfigError::invalid_at("api_keys", i, "key_sha256", "must be 64 hex digits (SHA-256)")
            })?;
            if key.principal.trim().is_empty() {
                return Err(AzureBearerConfigError::invalid_at(
                    "api_keys",
                    i,
                    "principal",
                    "must not be empty",
                ));
            }
            if entries.iter().any(|e| sha256::constant_time_eq(&e.digest, &digest)) {
                return Err(AzureBearerConfigError::invalid_at(
                    "api_keys",
                    i,
                    "key_sha256",
                    "is listed twice",
                ));
            }
            entries.push(Entry {
                digest,
                principal: Arc::new(principal(key)),
            });
        }
        Ok(Self {
            entries,
            resource: resource.into(),
        })
    }

    /// The digest to put in configuration for `key` (lower-case hex).
    pub fn hash_key(key: &str) -> String {
        sha256::to_hex(&sha256::digest(key.as_bytes()))
    }

    /// Authenticates a raw key.
    pub fn authenticate_key(&self, key: &str) -> Result<Arc<Principal>, AuthRejection> {
        let digest = sha256::digest(key.as_bytes());
        // Compare with every digest, without stopping early.
        let mut found = None;
        for entry in &self.entries {
            if sha256::constant_time_eq(&entry.digest, &digest) && found.is_none() {
                found = Some(entry.principal.clone());
            }
        }
        // No dedicated reason exists for "unknown API key"; `bad_signature` is the closest
        // (the credential does not verify) and is reported as a recognised 401 invalid_token.
        found.ok_or_else(|| AuthRejection::new(RejectReason::BadSignature, "unknown API key"))
    }
}

fn principal(key: &ApiKeyConfig) -> Principal {
    let mut claims = Map::new();
    claims.insert("api_key_principal".into(), Value::from(key.principal.clone()));
    Principal {
        id: format!("apikey:{}", key.principal),
        kind: PrincipalKind::App,
        tenant_id: String::new(),
        object_id: None,
        display_name: Some(key.principal.clone()),
        username: None,
        roles: key.roles.clone(),
        scopes: Vec::new(),
        groups: Groups::Listed { ids: Vec::new() },
        client_app_id: None,
        guest: false,
        provider: ApiKeyProvider::NAME.to_owned(),
        expires_at: i64::MAX,
        claims,
    }
}

#[async_trait]
impl AuthProvider for ApiKeyProvider {
    fn name(&self) -> &str {
        Self::NAME
    }

    async fn authenticate(&self, request: RequestHead<'_>) -> Result<Arc<Principal>, AuthRejection> {
        let mut values = request.headers.get_all(Self::HEADER).iter();
        let Some(value) = values.next() else {
            return Err(AuthRejection::new(RejectReason::MissingToken, "no X-API-Key header"));
        };
        if values.next().is_some() {
            return Err(AuthRejection::new(
                RejectReason::MalformedRequest,
                "more than one X-API-Key header",
            ));
        }
        let key = value
            .to_str()
            .ok()
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| AuthRejection::new(RejectReason::MalformedRequest, "X-API-Key is empty or not ASCII"))?;
        self.authenticate_key(key)
    }

    /// API keys are not OAuth: the document names the resource and no authorization server.
    fn protected_resource_metadata(&self) -> ProtectedResourceMetadata {
        ProtectedResourceMetadata {
            resource: self.resource.clone(),
            authorization_servers: Vec::new(),
            scopes_supported: Vec::new(),
            bearer_methods_supported: vec!["header".into()],
            resource_name: None,
            resource_documentation: None,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn provider() -> ApiKeyProvider {
        ApiKeyProvider::new(
            &[ApiKeyConfig {
                key_sha256: ApiKeyProvider::hash_key("s3cret"),
                principal: "nightly".into(),
                roles: vec!["Task.Read".into()],
            }],
            "https://mcp.example/mcp",
        )
        .unwrap()
    }

    #[test]
    fn right_key_is_an_app_principal_and_wrong_key_is_refused() {
        let p = provider().authenticate_key("s3cret").unwrap();
        assert_eq!(p.id, "apikey:nightly");
        assert!(p.is_app_only() && p.has_role("Task.Read"));
        let err = provider().authenticate_key("s3cret ").unwrap_err();
        assert_eq!(err.reason, RejectReason::BadSignature);
        assert!(!format!("{:?}", provider()).contains("s3cret"));
    }

    #[test]
    fn config_errors_name_the_key() {
        let bad = ApiKeyConfig {
            key_sha256: "abc".into(),
            principal: "x".into(),
            roles: Vec::new(),
        };
        let err = ApiKeyProvider::new(&[bad], "r").unwrap_err();
        assert!(err.to_string().contains("api_keys[0].key_sha256"), "{err}");
    }
}

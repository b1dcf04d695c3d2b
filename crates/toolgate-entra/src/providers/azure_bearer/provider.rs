//! The `azure-bearer` provider: Entra (or B2C) bearer tokens, validated by [`EntraValidator`],
//! then the checks fastapi-azure-auth makes — on verified claims only.
//!
//! Order: bearer extraction (400 on a malformed header) → signature, issuer, audience, lifetime
//! (401) → B2C user flow (401) → tenant hook (401 `tenant_not_allowed`) → guest (403) → the
//! default requirement (403). A forged token therefore never reaches a 403.

use std::sync::Arc;

use async_trait::async_trait;
use toolgate_core::{
    AuthProvider, AuthRejection, Principal, ProtectedResourceMetadata, RejectReason, RequestHead, bearer_token,
};

use super::b2c::B2cPolicy;
use super::requirement::{OperationRequirement, Requirement};
use super::tenant_validator::TenantValidator;
use crate::providers::TokenCache;
use crate::validator::EntraValidator;

/// See the module docs. Build it from [`super::AzureBearerConfig`] or by hand.
#[derive(Clone)]
pub struct AzureBearerProvider {
    validator: EntraValidator,
    tenant_hook: Option<Arc<dyn TenantValidator>>,
    b2c: Option<B2cPolicy>,
    allow_guests: bool,
    default_requirement: OperationRequirement,
    scope_prefix: String,
    scopes: Vec<String>,
    resource: String,
    resource_name: Option<String>,
    /// Tokens that passed every token-level check, until they expire. A tenant hook's answer
    /// is therefore remembered for at most the token's lifetime.
    accepted: Arc<TokenCache>,
}

impl std::fmt::Debug for AzureBearerProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureBearerProvider")
            .field("validator", &self.validator)
            .field("tenant_hook", &self.tenant_hook.is_some())
            .field("b2c", &self.b2c)
            .field("allow_guests", &self.allow_guests)
            .field("default_requirement", &self.default_requirement)
            .finish_non_exhaustive()
    }
}

impl AzureBearerProvider {
    pub const NAME: &'static str = "azure-bearer";

    /// Single-tenant behaviour of `validator`, guests refused, any delegated token accepted.
    pub fn new(validator: EntraValidator, resource: impl Into<String>) -> Self {
        let settings = validator.settings();
        let scope_prefix = format!(
            "{}/",
            settings
                .identifier_uris
                .first()
                .cloned()
                .unwrap_or_else(|| format!("api://{}", settings.client_id))
                .trim_end_matches('/')
        );
        Self {
            validator,
            tenant_hook: None,
            b2c: None,
            allow_guests: false,
            default_requirement: OperationRequirement {
                scope_prefix: scope_prefix.clone(),
                ..OperationRequirement::default()
            },
            scope_prefix,
            scopes: Vec::new(),
            resource: resource.into(),
            resource_name: None,
            accepted: Arc::default(),
        }
    }

    /// Runs `hook` on the verified `tid` of every token (multi-tenant issuer validation).
    pub fn with_tenant_validator(mut self, hook: Arc<dyn TenantValidator>) -> Self {
        self.tenant_hook = Some(hook);
        self
    }

    /// Requires tokens of this B2C user flow (`tfp`/`acr`); guest rules do not apply in B2C.
    pub fn with_b2c(mut self, policy: B2cPolicy) -> Self {
        self.b2c = Some(policy);
        self
    }

    pub fn allow_guests(mut self, allow: bool) -> Self {
        self.allow_guests = allow;
        self
    }

    pub fn with_default_requirement(mut self, requirement: OperationRequirement) -> Self {
        self.default_requirement = requirement;
        self
    }

    /// Scopes the API exposes (short names), advertised in metadata and 401 challenges.
    pub fn with_scopes(mut self, scopes: Vec<String>) -> Self {
        self.scopes = scopes;
        self
    }

    pub fn with_resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = resource.into();
        self
    }

    pub fn with_resource_name(mut self, name: Option<String>) -> Self {
        self.resource_name = name;
        self
    }

    pub fn validator(&self) -> &EntraValidator {
        &self.validator
    }

    /// `{identifier_uri}/`: what turns `access_as_user` into the scope a client requests.
    pub fn scope_prefix(&self) -> &str {
        &self.scope_prefix
    }

    pub fn default_requirement(&self) -> &OperationRequirement {
        &self.default_requirement
    }

    /// An operation's requirement with this API's scope prefix (for the REST API).
    pub fn requirement<S: AsRef<str>, R: AsRef<str>>(
        &self,
        scopes: &[S],
        app_roles: &[R],
        mode: Requirement,
    ) -> OperationRequirement {
        OperationRequirement::new(scopes, app_roles, mode, &self.scope_prefix)
    }

    /// Loads keys now and refreshes them every `metadata_refresh_secs` (24 h by default).
    /// Not fatal on failure: requests fail closed (503) until keys load.
    pub async fn start(&self) -> Result<(), crate::key_cache::KeyRefreshError> {
        self.validator.start().await
    }

    /// Validates a raw token and applies the token-level checks and the default requirement.
    pub async fn authenticate_token(&self, token: &str) -> Result<Arc<Principal>, AuthRejection> {
        let clock = self.validator.clock().as_ref();
        if let Some(principal) = self.accepted.get(token, clock) {
            return Ok(principal);
        }
        // Nothing below reads a claim the validator has not verified.
        let verified = self.validator.validate(token).await?;
        if let Some(b2c) = &self.b2c {
            b2c.check(&verified.claims)?;
        }
        if let Some(hook) = &self.tenant_hook
            && !hook.allow(&verified.tenant_id).await
        {
            return Err(AuthRejection::new(
                RejectReason::TenantNotAllowed,
                format!("tenant {} refused by the tenant validator", verified.tenant_id),
            ));
        }
        let principal = verified.principal(Self::NAME)?;
        // B2C has no B2B guests: its `idp` names a social or federated identity provider.
        if principal.guest && !self.allow_guests && self.b2c.is_none() {
            return Err(AuthRejection::insufficient(
                RejectReason::GuestNotAllowed,
                format!("{} is a guest (acct = 1 or idp outside the tenant)", principal.id),
                Vec::new(),
            ));
        }
        self.default_requirement.check(&principal)?;
        let principal = Arc::new(principal);
        self.accepted.insert(token, principal.clone(), clock);
        Ok(principal)
    }

    /// Authenticates, then checks one operation's requirement on top of the default one.
    pub async fn authenticate_for(
        &self,
        request: RequestHead<'_>,
        requirement: &OperationRequirement,
    ) -> Result<Arc<Principal>, AuthRejection> {
        let principal = self.authenticate(request).await?;
        requirement.check(&principal)?;
        Ok(principal)
    }

    /// The authorization server clients sign in at: the tenant's (or `organizations`) v2.0
    /// authority, or the B2C user flow's.
    pub fn authorization_server(&self) -> String {
        match &self.b2c {
            Some(policy) => policy.authority(),
            None => self.validator.settings().v2_authority(),
        }
    }
}

#[async_trait]
impl AuthProvider for AzureBearerProvider {
    fn name(&self) -> &str {
        Self::NAME
    }

    async fn authenticate(&self, request: RequestHead<'_>) -> Result<Arc<Principal>, AuthRejection> {
        let token = bearer_token(request.headers)?;
        self.authenticate_token(token).await
    }

    fn protected_resource_metadata(&self) -> ProtectedResourceMetadata {
        ProtectedResourceMetadata {
            resource: self.resource.clone(),
            authorization_servers: vec![self.authorization_server()],
            scopes_supported: self
                .scopes
                .iter()
                .map(|s| format!("{}{s}", self.scope_prefix))
                .collect(),
            bearer_methods_supported: vec!["header".into()],
            resource_name: self.resource_name.clone(),
            resource_documentation: None,
        }
    }
}

//! `[auth]` → the authentication provider, the validators whose keys load at start, and where
//! Swagger UI signs people in.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use toolgate_api::OAuthSettings;
use toolgate_core::{AuthProvider, ProviderSet, SystemClock};
use toolgate_entra::providers::{AccessRequirements, AzureBearerConfigError, EntraJwtConfig, EntraJwtProvider};
use toolgate_entra::{AcceptedVersions, EntraSettings, EntraValidator, SettingsError, TenantPolicy};
use toolgate_server::AppSettings;

use crate::config::raw::{EntraConfig, Tenancy};
use crate::config::{ConfigError, LoadedConfig};

pub(crate) type ProviderParts = (Arc<dyn AuthProvider>, Vec<EntraValidator>, OAuthSettings);

/// Swagger UI's sign-in settings for an Entra (or B2C) v2.0 authority `…/v2.0`.
pub(crate) fn oauth_settings(
    config: &LoadedConfig,
    v2_authority: &str,
    client_id: &str,
    scopes: Vec<String>,
) -> OAuthSettings {
    let base = v2_authority.trim_end_matches("/v2.0");
    OAuthSettings {
        authorization_url: format!("{base}/oauth2/v2.0/authorize"),
        token_url: format!("{base}/oauth2/v2.0/token"),
        client_id: config
            .raw
            .api
            .swagger_client_id
            .clone()
            .unwrap_or_else(|| client_id.to_owned()),
        scopes,
    }
}

pub(crate) fn entra_jwt(config: &LoadedConfig, app: &AppSettings) -> Result<ProviderParts, ConfigError> {
    let entra = config
        .raw
        .auth
        .entra
        .as_ref()
        .ok_or_else(|| config.error("auth.entra", "the entra-jwt provider needs an [auth.entra] section"))?;
    let settings = entra_settings(config, entra)?;
    let scope_prefix = settings.identifier_uris.first().cloned().unwrap_or_default();
    let scopes = entra
        .scopes
        .iter()
        .map(|s| format!("{}/{s}", scope_prefix.trim_end_matches('/')))
        .collect();
    let oauth = oauth_settings(config, &settings.v2_authority(), &settings.client_id, scopes);
    let validator = EntraValidator::new(settings, Arc::new(SystemClock));
    let provider = EntraJwtProvider::new(
        validator.clone(),
        EntraJwtConfig {
            resource: app.resource_url(),
            scopes: entra.scopes.clone(),
            requirements: AccessRequirements {
                required_scopes: entra.required_scopes.clone(),
                app_roles: entra.app_roles.clone(),
                allow_guests: entra.allow_guests,
            },
            resource_name: Some("toolgate".into()),
        },
    );
    Ok((Arc::new(provider), vec![validator], oauth))
}

/// `azure-bearer`: fastapi-azure-auth-style bearer (single, multi-tenant, B2C), optionally with
/// API keys tried after it.
pub(crate) fn azure_bearer(config: &LoadedConfig, app: &AppSettings) -> Result<ProviderParts, ConfigError> {
    let section = config.raw.auth.azure_bearer.as_ref().ok_or_else(|| {
        config.error(
            "auth.azure_bearer",
            "the azure-bearer provider needs an [auth.azure_bearer] section",
        )
    })?;
    let mut section = section.clone();
    section.resource.get_or_insert_with(|| app.resource_url());
    let named = |error: AzureBearerConfigError| {
        let key = error
            .key()
            .map(|k| format!("auth.azure_bearer.{k}"))
            .unwrap_or_else(|| "auth.azure_bearer".into());
        config.error(&key, error)
    };
    let bearer = section.build().map_err(named)?;
    let validator = bearer.validator().clone();
    let scopes = section
        .scopes
        .iter()
        .map(|s| format!("{}{s}", bearer.scope_prefix()))
        .collect();
    let oauth = oauth_settings(
        config,
        &bearer.authorization_server(),
        &validator.settings().client_id,
        scopes,
    );
    let provider: Arc<dyn AuthProvider> = match section.build_api_keys().map_err(named)? {
        Some(keys) => Arc::new(ProviderSet::new(vec![Arc::new(bearer), Arc::new(keys)])),
        None => Arc::new(bearer),
    };
    Ok((provider, vec![validator], oauth))
}

/// `[auth.entra]` → validated [`EntraSettings`].
pub fn entra_settings(config: &LoadedConfig, entra: &EntraConfig) -> Result<EntraSettings, ConfigError> {
    let key = |name: &str| format!("auth.entra.{name}");
    let tenants = match entra.tenancy {
        Tenancy::Single => TenantPolicy::Single,
        Tenancy::Multi => TenantPolicy::AllowList(
            entra
                .allowed_tenants
                .iter()
                .map(|t| t.to_ascii_lowercase())
                .collect::<BTreeSet<_>>(),
        ),
        Tenancy::AnyTenant => TenantPolicy::AnyTenant,
    };
    if entra.tenancy != Tenancy::Multi && !entra.allowed_tenants.is_empty() {
        return Err(config.error(&key("allowed_tenants"), "only used with tenancy = \"multi\""));
    }
    let mut versions = AcceptedVersions { v1: false, v2: false };
    for version in &entra.accepted_versions {
        match version.as_str() {
            "1.0" => versions.v1 = true,
            "2.0" => versions.v2 = true,
            other => {
                return Err(config.error(
                    &key("accepted_versions"),
                    format!("`{other}` is not \"1.0\" or \"2.0\""),
                ));
            }
        }
    }
    if !versions.v1 && !versions.v2 {
        return Err(config.error(&key("accepted_versions"), "must accept at least one token version"));
    }
    let identifier_uris = if entra.identifier_uris.is_empty() {
        vec![format!("api://{}", entra.client_id)]
    } else {
        entra.identifier_uris.clone()
    };
    let settings = EntraSettings {
        authority_host: entra.authority_host.trim_end_matches('/').to_owned(),
        tenant_id: entra.tenant_id.to_ascii_lowercase(),
        tenants,
        client_id: entra.client_id.to_ascii_lowercase(),
        identifier_uris,
        extra_audiences: entra.extra_audiences.clone(),
        accept_audience_list: entra.accept_audience_list,
        versions,
        leeway: Duration::from_secs(entra.leeway_seconds),
        allow_guests: entra.allow_guests,
        custom_signing_keys: entra.custom_signing_keys,
        key_refresh_interval: Duration::from_secs(entra.key_refresh_seconds.max(60)),
        unknown_kid_refresh_interval: Duration::from_secs(300),
        key_source: None,
    };
    settings.check().map_err(|error| {
        let name = match &error {
            SettingsError::NotAGuid { key, .. } | SettingsError::NotAUrl { key, .. } | SettingsError::Empty { key } => {
                *key
            }
            SettingsError::DefaultScopeAsAudience { .. } => "extra_audiences",
            _ => "",
        };
        config.error(&key(name), error)
    })?;
    Ok(settings)
}

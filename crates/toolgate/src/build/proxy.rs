//! `[auth] provider = "entra-proxy"`: `[auth.entra]` names the upstream Entra app (the proxy's
//! own confidential client), `[auth.proxy]` the authorization server, `[state]` where it keeps
//! its state.

use std::sync::Arc;
use std::time::Duration;

use toolgate_api::OAuthSettings;
use toolgate_core::{Clock, SystemClock};
use toolgate_entra::EntraValidator;
use toolgate_entra::providers::AccessRequirements;
use toolgate_proxy::cimd::CimdFetcherConfig;
use toolgate_proxy::{
    EntraProxy, IpNetwork, Lifetimes, PROXY_TOKEN_CLAIMS, PreregisteredClient, ProxyConfig, ProxySecret, RateLimit,
    RedirectUri, RegistrationMode, RegistrationPolicy, RegistrationSettings, SignInLimits, UpstreamConfig,
};
use toolgate_server::AppSettings;
use toolgate_store::StateStore;

use super::{ProviderParts, entra_settings};
use crate::config::raw::Tenancy;
use crate::config::{ConfigError, LoadedConfig};

/// The pre-registered public client Swagger UI signs in with when the proxy is the authority.
pub const SWAGGER_CLIENT_ID: &str = "toolgate-swagger-ui";

pub(crate) async fn entra_proxy(
    config: &LoadedConfig,
    app: &AppSettings,
    store: Arc<dyn StateStore>,
) -> Result<(ProviderParts, EntraProxy), ConfigError> {
    let raw = &config.raw;
    let entra = raw.auth.entra.as_ref().ok_or_else(|| {
        config.error(
            "auth.entra",
            "the entra-proxy provider needs an [auth.entra] section (its Entra app)",
        )
    })?;
    let section = raw
        .auth
        .proxy
        .as_ref()
        .ok_or_else(|| config.error("auth.proxy", "the entra-proxy provider needs an [auth.proxy] section"))?;
    let client_secret = entra.client_secret.as_ref().ok_or_else(|| {
        config.error(
            "auth.entra.client_secret",
            "the entra-proxy provider signs in at Entra as a confidential client: set the app's client secret",
        )
    })?;
    let secret = ProxySecret::new(section.secret.expose_secret()).map_err(|e| config.error("auth.proxy.secret", e))?;
    let mode = match section.registration.as_str() {
        "dynamic" => RegistrationMode::Dynamic,
        "static" => RegistrationMode::Static,
        "disabled" => RegistrationMode::Disabled,
        other => {
            return Err(config.error(
                "auth.proxy.registration",
                format!("`{other}` is not \"dynamic\", \"static\" or \"disabled\""),
            ));
        }
    };
    if mode == RegistrationMode::Static && section.static_client.is_none() {
        return Err(config.error(
            "auth.proxy.static_client",
            "registration = \"static\" needs a static_client",
        ));
    }
    if !secure_context(&app.public_url) {
        return Err(config.error(
            "server.public_url",
            "the entra-proxy provider needs an https public URL (or a loopback address for local use): \
             browsers drop its Secure __Host- cookies on plain http, and every sign-in would fail",
        ));
    }
    let settings = entra_settings(config, entra)?;
    let scope_prefix = settings
        .identifier_uris
        .first()
        .cloned()
        .unwrap_or_else(|| format!("api://{}", settings.client_id));
    let mut clients: Vec<PreregisteredClient> = section
        .clients
        .iter()
        .map(|c| PreregisteredClient {
            client_id: c.client_id.clone(),
            client_name: c.client_name.clone(),
            redirect_uris: c.redirect_uris.clone(),
            client_secret: c.client_secret.as_ref().map(|s| s.expose_secret().to_owned()),
        })
        .collect();
    let swagger_redirect = format!("{}/docs/oauth-receiver.html", app.public_url);
    let swagger_ok = RedirectUri::parse(&swagger_redirect).is_ok();
    if raw.api.enabled && swagger_ok {
        clients.push(PreregisteredClient {
            client_id: SWAGGER_CLIENT_ID.into(),
            client_name: "toolgate API explorer (Swagger UI)".into(),
            redirect_uris: vec![swagger_redirect],
            client_secret: None,
        });
    }
    let proxy_config = ProxyConfig {
        issuer: app.public_url.clone(),
        resource: app.resource_url(),
        resource_name: Some("toolgate".into()),
        upstream: UpstreamConfig {
            authority_host: settings.authority_host.clone(),
            // Multi-tenant sign-in goes through `organizations`; the validator then decides which
            // tenants are accepted (allow-list or any tenant, on verified claims).
            tenant: match entra.tenancy {
                Tenancy::Single => settings.tenant_id.clone(),
                Tenancy::Multi | Tenancy::AnyTenant => "organizations".into(),
            },
            client_id: settings.client_id.clone(),
            client_secret: client_secret.expose_secret().to_owned(),
            scope_prefix,
        },
        scopes: entra.scopes.clone(),
        requirements: AccessRequirements {
            required_scopes: entra.required_scopes.clone(),
            app_roles: Vec::new(),
            allow_guests: entra.allow_guests,
        },
        secret,
        lifetimes: Lifetimes {
            access_token: Duration::from_secs(section.access_token_seconds.clamp(60, 24 * 3600)),
            refresh_token: Duration::from_secs(section.refresh_token_days.clamp(1, 365) * 24 * 3600),
            registration: Duration::from_secs(
                in_range(
                    config,
                    "auth.proxy.registration_days",
                    section.registration_days,
                    1,
                    365,
                )? * 24
                    * 3600,
            ),
            unused_registration: Duration::from_secs(
                in_range(
                    config,
                    "auth.proxy.unused_registration_minutes",
                    section.unused_registration_minutes,
                    1,
                    24 * 60,
                )? * 60,
            ),
            ..Lifetimes::default()
        },
        remember_consent: section.remember_consent,
        require_state: section.require_state,
        sign_ins: SignInLimits {
            per_address: at_least_one(
                config,
                "auth.proxy.sign_ins_per_minute_per_address",
                section.sign_ins_per_minute_per_address,
            )?,
            new_clients: at_least_one(config, "auth.proxy.sign_ins_per_minute", section.sign_ins_per_minute)?,
            known_clients: at_least_one(
                config,
                "auth.proxy.known_client_sign_ins_per_minute",
                section.known_client_sign_ins_per_minute,
            )?,
        },
        trusted_proxies: section
            .trusted_proxies
            .iter()
            .map(|entry| entry.parse::<IpNetwork>())
            .collect::<Result<_, _>>()
            .map_err(|e| config.error("auth.proxy.trusted_proxies", e))?,
        carried_claims: carried_claims(config)?,
        registration: RegistrationSettings {
            mode,
            policy: RegistrationPolicy {
                allow_confidential_clients: section.allow_confidential_clients,
                ..RegistrationPolicy::default()
            },
            limit: RateLimit {
                per_address: at_least_one(
                    config,
                    "auth.proxy.registrations_per_minute_per_address",
                    section.registrations_per_minute_per_address,
                )?,
                global: at_least_one(
                    config,
                    "auth.proxy.registrations_per_minute",
                    section.registrations_per_minute,
                )?,
            },
            max_unused: at_least_one(
                config,
                "auth.proxy.max_unused_registrations",
                section.max_unused_registrations,
            )?,
            static_client: section.static_client.clone(),
        },
        clients,
        cimd: section.cimd.then(|| CimdFetcherConfig {
            allow_private_addresses: section.danger_cimd_allow_private_addresses,
            danger_allow_http_for_tests: section.danger_cimd_allow_http,
            ..CimdFetcherConfig::default()
        }),
    };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let validator = EntraValidator::new(settings, clock.clone());
    let scopes = proxy_config.scopes.clone();
    let issuer = proxy_config.issuer.clone();
    let proxy = EntraProxy::new(proxy_config, validator.clone(), store, clock)
        .await
        .map_err(|e| config.error("auth.proxy", e))?;
    let oauth = OAuthSettings {
        authorization_url: format!("{issuer}/authorize"),
        token_url: format!("{issuer}/token"),
        client_id: raw
            .api
            .swagger_client_id
            .clone()
            .unwrap_or_else(|| SWAGGER_CLIENT_ID.into()),
        scopes,
    };
    Ok(((Arc::new(proxy.clone()), vec![validator], oauth), proxy))
}

/// A limit of 0 would refuse everyone: at least 1.
fn at_least_one(config: &LoadedConfig, key: &str, value: u64) -> Result<u64, ConfigError> {
    if value == 0 {
        return Err(config.error(key, "must be at least 1 (0 would refuse everyone)"));
    }
    Ok(value)
}

fn in_range(config: &LoadedConfig, key: &str, value: u64, min: u64, max: u64) -> Result<u64, ConfigError> {
    if !(min..=max).contains(&value) {
        return Err(config.error(key, format!("{value} is outside {min} – {max}")));
    }
    Ok(value)
}

/// The Entra claims `[policy] extra_claims` maps, carried into the proxy's tokens so policies see
/// them as under `entra-jwt`. A claim the proxy's token defines itself would reach policies with
/// the proxy's value, not Entra's: refused.
fn carried_claims(config: &LoadedConfig) -> Result<Vec<String>, ConfigError> {
    let mut claims: Vec<String> = Vec::new();
    for mapping in &config.raw.policy.extra_claims {
        if PROXY_TOKEN_CLAIMS.contains(&mapping.claim.as_str()) {
            return Err(config.error(
                "policy.extra_claims",
                format!(
                    "claim `{}` is set by the entra-proxy provider in its own tokens, so a policy would not see \
                     Entra's value; map another claim (the proxy defines {})",
                    mapping.claim,
                    PROXY_TOKEN_CLAIMS.join(", ")
                ),
            ));
        }
        if !claims.contains(&mapping.claim) {
            claims.push(mapping.claim.clone());
        }
    }
    Ok(claims)
}

/// Whether browsers treat `public_url` as a secure context (https, or http on loopback).
fn secure_context(public_url: &str) -> bool {
    let Ok(url) = url::Url::parse(public_url) else {
        return false;
    };
    match url.scheme() {
        "https" => true,
        "http" => match url.host() {
            Some(url::Host::Domain(domain)) => domain == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        },
        _ => false,
    }
}

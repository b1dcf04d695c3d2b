//! `GET /authorize`: validate the client's request, remember it as a transaction, bind the
//! browser with a signed cookie, and send the browser to Entra with the proxy's own client and
//! PKCE pair.
//!
//! Until the client and redirect URI are known good, errors are shown as a page: redirecting to
//! an unverified URI would make the proxy an open redirector (RFC 6749 §4.1.2.1).

use std::sync::Arc;

use http::StatusCode;
use toolgate_core::{HttpRequest, HttpResponse};
use toolgate_store::{Namespace, StateStoreJson};

use super::{error_page, redirect_to_client, store_failure_page};
use crate::client::RegisteredClient;
use crate::crypto::{PkceChallenge, PkceVerifier, random_token};
use crate::flow::{ClientRequest, Purpose, Transaction};
use crate::proxy::ProxyState;
use crate::redirect_uri::RedirectUri;
use crate::registry::LookupError;
use crate::web::cookies;
use crate::web::params::Params;
use crate::web::responses;

/// Longest `state` accepted (it is echoed back and stored).
const MAX_STATE_LEN: usize = 1024;
/// OIDC scopes a client may ask for; the proxy requests them from Entra itself.
const OIDC_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

pub(crate) async fn handle(state: Arc<ProxyState>, request: HttpRequest) -> HttpResponse {
    let params = match Params::from_query(&request) {
        Ok(params) => params,
        Err(bad) => return error_page(StatusCode::BAD_REQUEST, "Invalid request", &bad.0, &[]),
    };
    let client = match known_client(&state, &params).await {
        Ok(client) => client,
        Err(page) => return page,
    };
    let redirect_uri = match verified_redirect(&client, params.get("redirect_uri")) {
        Ok(uri) => uri,
        Err(detail) => return error_page(StatusCode::BAD_REQUEST, "Invalid redirect URI", &detail, &[]),
    };
    // From here on the redirect URI is trusted: errors go back to the client.
    let client_state = params.get("state");
    let refuse = |error: &str, description: &str| {
        redirect_to_client(
            &state,
            redirect_uri.as_str(),
            &[("error", error), ("error_description", description)],
            client_state,
            &[],
        )
    };
    match client_state {
        None if state.config.require_state => return refuse("invalid_request", "state is required"),
        Some(s) if s.len() > MAX_STATE_LEN => return refuse("invalid_request", "state is too long"),
        _ => {}
    }
    if params.get("response_type") != Some("code") {
        return refuse("unsupported_response_type", "only response_type=code is supported");
    }
    if params.get("request").is_some() || params.get("request_uri").is_some() {
        return refuse("request_not_supported", "request objects are not supported");
    }
    let challenge = match PkceChallenge::from_request(params.get("code_challenge"), params.get("code_challenge_method"))
    {
        Ok(challenge) => challenge,
        Err(error) => return refuse("invalid_request", &error.to_string()),
    };
    if let Some(resource) = params.get("resource")
        && resource.trim_end_matches('/') != state.config.resource
    {
        return refuse("invalid_target", "resource is not this server's MCP endpoint");
    }
    let scopes = match granted_scopes(&state, params.get("scope")) {
        Ok(scopes) => scopes,
        Err(unknown) => return refuse("invalid_scope", &format!("unknown scope `{unknown}`")),
    };

    let transaction_id = random_token(32);
    let binding = random_token(32);
    let verifier = PkceVerifier::generate();
    let entra_url = match state.upstream.authorize_url(
        &state.callback_url(),
        &scopes,
        &transaction_id,
        &verifier,
        params.get("login_hint"),
    ) {
        Ok(url) => url,
        Err(_) => {
            return error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Configuration error",
                "bad authority URL",
                &[],
            );
        }
    };
    let transaction = Transaction {
        purpose: Purpose::Client(ClientRequest {
            client_id: client.client_id.as_str().to_owned(),
            client_name: client_name(&client),
            client_source: client.source,
            redirect_uri: redirect_uri.as_str().to_owned(),
            state: client_state.map(str::to_owned),
            challenge,
            scopes,
        }),
        upstream_verifier: verifier,
        binding: binding.clone(),
        may_skip_consent: !cross_site(&request),
    };
    start_sign_in(&state, &transaction_id, &transaction, entra_url.as_str()).await
}

/// Stores the transaction, sets the browser-binding cookie, and redirects to Entra.
pub(crate) async fn start_sign_in(
    state: &ProxyState,
    transaction_id: &str,
    transaction: &Transaction,
    entra_url: &str,
) -> HttpResponse {
    match super::rate_limit::admit(state, "sign-in", state.config.sign_ins_per_minute).await {
        Ok(true) => {}
        Ok(false) => {
            let mut page = error_page(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many sign-ins",
                "This server is receiving too many sign-ins right now. Try again in a minute.",
                &[],
            );
            page.headers_mut()
                .insert(http::header::RETRY_AFTER, http::HeaderValue::from_static("60"));
            return page;
        }
        Err(error) => return store_failure_page(&error),
    }
    let ttl = state.config.lifetimes.transaction;
    if let Err(error) = state
        .grants
        .store()
        .put_json(Namespace::TRANSACTION, transaction_id, transaction, ttl)
        .await
    {
        return store_failure_page(&error);
    }
    let cookie = cookies::set(
        &state.keys.cookies,
        &cookies::binding_name(transaction_id),
        &transaction.binding,
        ttl,
    );
    responses::redirect(entra_url, &[cookie])
}

async fn known_client(state: &ProxyState, params: &Params) -> Result<Arc<RegisteredClient>, HttpResponse> {
    let Some(client_id) = params.get("client_id") else {
        return Err(error_page(
            StatusCode::BAD_REQUEST,
            "Invalid request",
            "client_id is required",
            &[],
        ));
    };
    match state.registry.lookup(client_id).await {
        Ok(Some(client)) => Ok(client),
        Ok(None) => Err(error_page(
            StatusCode::BAD_REQUEST,
            "Unknown client",
            "This application is not registered with this server.",
            &[],
        )),
        Err(LookupError::Store(error)) => Err(store_failure_page(&error)),
        Err(LookupError::Cimd(error)) => Err(error_page(
            StatusCode::BAD_REQUEST,
            "Client metadata refused",
            &format!("The client's metadata document could not be used: {error}"),
            &[],
        )),
    }
}

/// The presented redirect URI, if valid and registered for the client (exact match; loopback
/// ports excepted, RFC 8252 §7.3).
fn verified_redirect(client: &RegisteredClient, presented: Option<&str>) -> Result<RedirectUri, String> {
    let presented = presented.ok_or("redirect_uri is required")?;
    let uri = RedirectUri::parse(presented).map_err(|e| format!("redirect_uri is not acceptable: {e}"))?;
    if client.matching_redirect_uri(&uri).is_none() {
        return Err("redirect_uri is not registered for this client".into());
    }
    Ok(uri)
}

/// Maps the requested scopes to this server's short names. Full `api://…/name` forms are
/// accepted too; OIDC scopes are dropped (the proxy asks Entra for them itself). Nothing
/// requested means every scope the server offers.
pub(crate) fn granted_scopes(state: &ProxyState, requested: Option<&str>) -> Result<Vec<String>, String> {
    let mut granted = Vec::new();
    for scope in requested.unwrap_or_default().split(' ').filter(|s| !s.is_empty()) {
        if OIDC_SCOPES.contains(&scope) {
            continue;
        }
        let short = state.upstream.short_scope(scope).unwrap_or(scope);
        if !state.config.scopes.iter().any(|s| s == short) {
            return Err(scope.chars().take(100).collect());
        }
        if !granted.iter().any(|g: &String| g == short) {
            granted.push(short.to_owned());
        }
    }
    if granted.is_empty() {
        granted = state.config.scopes.clone();
    }
    Ok(granted)
}

/// The browser says the navigation came from another site. Native clients opening the system
/// browser send `none`; browsers without Fetch Metadata send nothing (treated as same-site).
fn cross_site(request: &HttpRequest) -> bool {
    request
        .headers()
        .get("sec-fetch-site")
        .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"cross-site"))
}

pub(crate) fn client_name(client: &RegisteredClient) -> String {
    client.client_name.clone().unwrap_or_else(|| {
        format!(
            "Unnamed application {}",
            client.client_id.as_str().chars().take(12).collect::<String>()
        )
    })
}

//! `GET /authorize`: validate the client's request, remember it as a transaction, bind the
//! browser with a signed cookie, and send the browser to Entra with the proxy's own client and
//! PKCE pair.
//!
//! Until the client and redirect URI are known good, errors are shown as a page: redirecting to
//! an unverified URI would make the proxy an open redirector (RFC 6749 §4.1.2.1).

use std::sync::Arc;

use toolgate_core::{HttpRequest, HttpResponse};
use toolgate_store::{Namespace, StateStoreJson};

use super::rate_limit::{self, Budget, Over};
use crate::client::{ClientSource, RegisteredClient};
use crate::client_address::client_address;
use crate::crypto::{PkceChallenge, PkceVerifier, random_token};
use crate::flow::{ClientRequest, Purpose, Transaction};
use crate::oauth_error::OAuthError;
use crate::proxy::ProxyState;
use crate::redirect_uri::RedirectUri;
use crate::registry::LookupError;
use crate::untrusted::Untrusted;
use crate::web::cookies;
use crate::web::params::Params;
use crate::web::refusal::{ClientRedirect, Deliver, Delivery, Refusal};
use crate::web::responses;

/// Longest `state` accepted (it is echoed back and stored).
const MAX_STATE_LEN: usize = 1024;

pub(crate) async fn handle(state: Arc<ProxyState>, request: HttpRequest) -> Result<HttpResponse, Refusal> {
    let params = Params::from_query(&request)
        .map_err(|bad| OAuthError::invalid_request(bad.0))
        .on_page("Invalid request")?;
    let client = known_client(&state, &params).await?;
    let redirect_uri = verified_redirect(&client, params.get("redirect_uri")).on_page("Invalid redirect URI")?;
    let client_state = params.get("state");
    let to_client = ClientRedirect {
        redirect_uri: redirect_uri.as_str().to_owned(),
        state: client_state.map(str::to_owned),
    };
    let checked =
        checked_request(&state, &params).map_err(|error| Refusal::new(error, refusal_delivery(&client, &to_client)))?;

    let transaction_id = random_token(32);
    let binding = random_token(32);
    let verifier = PkceVerifier::generate();
    let entra_url = state
        .upstream
        .authorize_url(
            &state.callback_url(),
            &checked.scopes,
            &transaction_id,
            &verifier,
            params.get("login_hint"),
        )
        .map_err(|_| OAuthError::server_error("the Entra authority URL is not valid"))
        .on_page("Configuration error")?;
    let transaction = Transaction {
        purpose: Purpose::Client(ClientRequest {
            client_id: client.client_id.as_str().to_owned(),
            client_name: client_name(&client),
            client_source: client.source,
            redirect_uri: to_client.redirect_uri,
            state: to_client.state,
            challenge: checked.challenge,
            scopes: checked.scopes,
        }),
        upstream_verifier: verifier,
        binding: binding.clone(),
        may_skip_consent: user_started(&request),
    };
    let budget = Budget::SignIn {
        known_client: client.is_known(),
    };
    start_sign_in(
        &state,
        &request,
        budget,
        &transaction_id,
        &transaction,
        entra_url.as_str(),
    )
    .await
}

/// Where `/authorize` sends an error once the client and its redirect URI are known (RFC 6749
/// §4.1.2.1 allows either). Only a pre-registered client's redirect URI is vouched for — the
/// operator configured it. A dynamically registered or metadata-document client's redirect URI is
/// whatever an anonymous party wrote, and nobody has signed in yet: redirecting an error there
/// would make toolgate an open redirector (any registration + a malformed request = a 302 to any
/// URI), so the error is shown on toolgate's own page.
fn refusal_delivery(client: &RegisteredClient, to_client: &ClientRedirect) -> Delivery {
    match client.source {
        ClientSource::Preregistered => Delivery::Redirect(to_client.clone()),
        _ => Delivery::Page {
            title: "Authorization request refused",
        },
    }
}

/// What `/authorize` takes from a request once the client and redirect URI are known.
struct CheckedRequest {
    challenge: PkceChallenge,
    scopes: Vec<String>,
}

/// The request's other parameters (RFC 6749 §4.1.1, RFC 7636, RFC 8707).
fn checked_request(state: &ProxyState, params: &Params) -> Result<CheckedRequest, OAuthError> {
    match params.get("state") {
        None if state.config.require_state => return Err(OAuthError::invalid_request("state is required")),
        Some(s) if s.len() > MAX_STATE_LEN => return Err(OAuthError::invalid_request("state is too long")),
        _ => {}
    }
    if params.get("response_type") != Some("code") {
        return Err(OAuthError::UnsupportedResponseType(
            "only response_type=code is supported".into(),
        ));
    }
    if params.get("request").is_some() || params.get("request_uri").is_some() {
        return Err(OAuthError::RequestNotSupported(
            "request objects are not supported".into(),
        ));
    }
    let challenge = PkceChallenge::from_request(params.get("code_challenge"), params.get("code_challenge_method"))
        .map_err(|error| OAuthError::invalid_request(error.to_string()))?;
    if let Some(resource) = params.get("resource")
        && resource.trim_end_matches('/') != state.config.resource
    {
        return Err(OAuthError::InvalidTarget(
            "resource is not this server's MCP endpoint".into(),
        ));
    }
    // Unknown scopes are ignored (RFC 6749 §3.3): `scope=claudeai` gets the default scopes.
    let scopes = state.offered_scopes().grant(params.get("scope"));
    Ok(CheckedRequest { challenge, scopes })
}

/// Counts the sign-in against its budgets, stores the transaction, sets the browser-binding
/// cookie, and redirects to Entra.
pub(crate) async fn start_sign_in(
    state: &ProxyState,
    request: &HttpRequest,
    budget: Budget,
    transaction_id: &str,
    transaction: &Transaction,
    entra_url: &str,
) -> Result<HttpResponse, Refusal> {
    let address = client_address(request, &state.config.trusted_proxies);
    let admitted = rate_limit::admit(state, budget, address.as_ref())
        .await
        .on_page("Sign-in unavailable")?;
    let description = match admitted {
        Ok(()) => None,
        Err(Over::Address) => Some("too many sign-ins from your address right now; try again in a minute"),
        Err(Over::Everyone) => Some("this server is receiving too many sign-ins right now; try again in a minute"),
    };
    if let Some(description) = description {
        return Err(OAuthError::limited(description, 60)).on_page("Too many sign-ins");
    }
    let ttl = state.config.lifetimes.transaction;
    state
        .grants
        .store()
        .put_json(Namespace::TRANSACTION, transaction_id, transaction, ttl)
        .await
        .on_page("Sign-in unavailable")?;
    let cookie = cookies::set(
        &state.keys.cookies,
        &cookies::binding_name(transaction_id),
        &transaction.binding,
        ttl,
    );
    Ok(responses::redirect(entra_url, &[cookie]))
}

async fn known_client(state: &ProxyState, params: &Params) -> Result<Arc<RegisteredClient>, Refusal> {
    let client_id = params
        .get("client_id")
        .ok_or_else(|| OAuthError::invalid_request("client_id is required"))
        .on_page("Invalid request")?;
    match state.registry.lookup(client_id).await {
        Ok(Some(client)) => Ok(client),
        Ok(None) => Err(OAuthError::invalid_request(
            "this application is not registered with this server",
        ))
        .on_page("Unknown client"),
        Err(LookupError::Store(error)) => Err(error).on_page("Sign-in unavailable"),
        Err(LookupError::Cimd(error)) => {
            tracing::info!(
                client_id = %Untrusted::new(client_id).max_chars(300),
                error = %Untrusted::new(&error.to_string()).max_chars(500),
                "client metadata document refused"
            );
            Err(OAuthError::invalid_request(format!(
                "the client's metadata document could not be used: {}",
                error.public_reason()
            )))
            .on_page("Client metadata refused")
        }
    }
}

/// The presented redirect URI, if valid and registered for the client (exact match; loopback
/// ports excepted, RFC 8252 §7.3).
fn verified_redirect(client: &RegisteredClient, presented: Option<&str>) -> Result<RedirectUri, OAuthError> {
    let presented = presented.ok_or_else(|| OAuthError::invalid_request("redirect_uri is required"))?;
    let uri = RedirectUri::parse(presented)
        .map_err(|e| OAuthError::invalid_request(format!("redirect_uri is not acceptable: {e}")))?;
    if client.matching_redirect_uri(&uri).is_none() {
        return Err(OAuthError::invalid_request(
            "redirect_uri is not registered for this client",
        ));
    }
    Ok(uri)
}

/// Whether a remembered consent may skip the page: only when the browser says the navigation
/// began on this origin or by the user (Fetch Metadata `Sec-Fetch-Site: same-origin` or `none`;
/// native clients opening the system browser send `none`). `cross-site`, `same-site` (a sibling
/// subdomain may be someone else's) and a missing header (a browser without Fetch Metadata, or a
/// request not from a browser) prove nothing, so the user sees the page.
fn user_started(request: &HttpRequest) -> bool {
    request.headers().get("sec-fetch-site").is_some_and(|value| {
        let value = value.as_bytes();
        value.eq_ignore_ascii_case(b"none") || value.eq_ignore_ascii_case(b"same-origin")
    })
}

pub(crate) fn client_name(client: &RegisteredClient) -> String {
    client.client_name.clone().unwrap_or_else(|| {
        format!(
            "Unnamed application {}",
            client.client_id.as_str().chars().take(12).collect::<String>()
        )
    })
}

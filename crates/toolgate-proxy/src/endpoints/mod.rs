//! The authorization server's endpoints, one file each, in the order a flow visits them:
//! metadata → register → authorize → (Entra) → callback → consent → token → revoke; plus the
//! browser login for tools that cannot do OAuth.

mod audit;
mod authorize;
mod callback;
mod client_assertion;
mod client_auth;
mod consent;
pub(crate) mod login;
mod metadata;
mod rate_limit;
mod register;
mod revoke;
mod token;

use std::future::Future;
use std::sync::Arc;

use http::{Method, StatusCode};
use toolgate_core::{HttpRequest, HttpResponse, ProviderRoute};
use toolgate_store::StoreError;
use url::Url;

use crate::flow::{EntraTokens, Grant, UserClaims};
use crate::proxy::{ProxyState, UpstreamTokenError};
use crate::web::{pages, responses};

/// Entra tokens this close to expiry are refreshed before use.
const UPSTREAM_REFRESH_MARGIN_SECONDS: i64 = 300;

pub(crate) fn routes(state: &Arc<ProxyState>) -> Vec<ProviderRoute> {
    let mut routes = vec![
        route(
            state,
            Method::GET,
            metadata::AUTHORIZATION_SERVER_PATH,
            metadata::authorization_server,
        ),
        route(
            state,
            Method::GET,
            metadata::OPENID_CONFIGURATION_PATH,
            metadata::authorization_server,
        ),
        route(state, Method::GET, metadata::JWKS_PATH, metadata::jwks),
        route(state, Method::GET, "/authorize", authorize::handle),
        route(state, Method::GET, "/auth/callback", callback::handle),
        route(state, Method::POST, "/auth/consent", consent::handle),
        route(state, Method::POST, "/token", token::handle),
        route(state, Method::POST, "/revoke", revoke::handle),
        route(state, Method::GET, "/auth/login", login::start),
        route(state, Method::POST, "/auth/exchange", login::exchange),
        route(state, Method::POST, "/register", register::post),
        route(state, Method::GET, "/register", register::get),
    ];
    // CORS preflight for the endpoints browser-based clients call with fetch.
    for path in [
        metadata::AUTHORIZATION_SERVER_PATH,
        metadata::OPENID_CONFIGURATION_PATH,
        metadata::JWKS_PATH,
        "/token",
        "/revoke",
        "/register",
        "/auth/exchange",
    ] {
        routes.push(route(state, Method::OPTIONS, path, |_state, _request| async {
            responses::preflight()
        }));
    }
    // An issuer with a path (`https://host/gateway`) also gets path-suffixed well-known documents
    // (RFC 8414 §3.1).
    let issuer_path = Url::parse(&state.config.issuer)
        .map(|u| u.path().trim_end_matches('/').to_owned())
        .unwrap_or_default();
    if !issuer_path.is_empty() {
        for base in [metadata::AUTHORIZATION_SERVER_PATH, metadata::OPENID_CONFIGURATION_PATH] {
            let path = format!("{base}{issuer_path}");
            routes.push(route(state, Method::GET, &path, metadata::authorization_server));
        }
    }
    routes
}

fn route<F, Fut>(state: &Arc<ProxyState>, method: Method, path: &str, handler: F) -> ProviderRoute
where
    F: Fn(Arc<ProxyState>, HttpRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = HttpResponse> + Send + 'static,
{
    let state = state.clone();
    ProviderRoute {
        method,
        path: path.to_owned(),
        handler: Arc::new(move |request: HttpRequest| handler(state.clone(), request)),
    }
}

/// A state-store failure: 503 while it is unreachable, 500 otherwise. Logged without keys.
pub(crate) fn store_failure(error: &StoreError) -> HttpResponse {
    if error.is_unavailable() {
        tracing::warn!(error = %error, "state store unavailable");
        responses::store_unavailable()
    } else {
        tracing::error!(error = %error, "state store error");
        responses::oauth_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "internal error")
    }
}

/// The same for endpoints a browser sees.
pub(crate) fn store_failure_page(error: &StoreError) -> HttpResponse {
    let (status, detail) = if error.is_unavailable() {
        tracing::warn!(error = %error, "state store unavailable");
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "The sign-in service is temporarily unavailable. Try again in a moment.",
        )
    } else {
        tracing::error!(error = %error, "state store error");
        (StatusCode::INTERNAL_SERVER_ERROR, "An internal error occurred.")
    };
    responses::page(status, pages::error("Sign-in unavailable", detail), &[])
}

/// An error page (the browser stays here; nothing is sent to the client's redirect URI).
pub(crate) fn error_page(status: StatusCode, title: &str, detail: &str, cookies: &[String]) -> HttpResponse {
    responses::page(status, pages::error(title, detail), cookies)
}

/// Redirects to a client's (already validated) redirect URI with `params`, `state` and RFC 9207 `iss`.
pub(crate) fn redirect_to_client(
    state: &ProxyState,
    redirect_uri: &str,
    params: &[(&str, &str)],
    client_state: Option<&str>,
    cookies: &[String],
) -> HttpResponse {
    let Ok(mut url) = Url::parse(redirect_uri) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Invalid redirect URI",
            "The redirect URI is not a URL.",
            cookies,
        );
    };
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in params {
            query.append_pair(name, value);
        }
        if let Some(client_state) = client_state {
            query.append_pair("state", client_state);
        }
        query.append_pair("iss", &state.config.issuer);
    }
    responses::redirect(url.as_str(), cookies)
}

/// The grant's Entra tokens, refreshed at Entra first if they expire within five minutes (the
/// grant is saved with the new tokens and the user's current claims).
pub(crate) async fn fresh_upstream_tokens(
    state: &ProxyState,
    grant_id: &str,
    grant: &mut Grant,
) -> Result<EntraTokens, UpstreamTokenError> {
    let tokens = state.grants.open(&grant.upstream, grant_id)?;
    let now = state.clock.now_unix();
    if tokens.expires_at - UPSTREAM_REFRESH_MARGIN_SECONDS > now {
        return Ok(tokens);
    }
    let Some(refresh_token) = tokens.refresh_token.as_deref() else {
        return Err(UpstreamTokenError::GrantGone);
    };
    let refreshed = match state
        .upstream
        .refresh(refresh_token, &grant.scopes, state.clock.as_ref())
        .await
    {
        Ok(refreshed) => refreshed,
        Err(error) if error.is_invalid_grant() => {
            state.grants.revoke(grant_id).await?;
            return Err(UpstreamTokenError::GrantGone);
        }
        Err(error) => return Err(error.into()),
    };
    // Re-validate: the user may have lost roles, been disabled, or become a guest.
    match validated_user(state, &refreshed.access_token).await {
        Ok(user) => grant.user = user,
        Err(detail) => {
            tracing::warn!(reason = %detail, "refreshed Entra token refused; grant revoked");
            state.grants.revoke(grant_id).await?;
            return Err(UpstreamTokenError::GrantGone);
        }
    }
    grant.upstream = state.grants.seal(&refreshed, grant_id)?;
    state.grants.save_grant(grant_id, grant).await?;
    Ok(refreshed)
}

/// Validates an Entra access token with the foundation validator and the provider's
/// requirements, and returns the user it names.
pub(crate) async fn validated_user(state: &ProxyState, access_token: &str) -> Result<UserClaims, String> {
    let verified = state
        .validator
        .validate(access_token)
        .await
        .map_err(|r| format!("{}: {}", r.reason.as_str(), r.detail))?;
    let principal = verified
        .principal(crate::EntraProxy::NAME)
        .map_err(|r| format!("{}: {}", r.reason.as_str(), r.detail))?;
    if principal.is_app_only() {
        return Err("app-only token from a user sign-in".into());
    }
    let prefix = format!("{}/", state.config.upstream.scope_prefix.trim_end_matches('/'));
    state
        .config
        .requirements
        .check(&principal, &prefix)
        .map_err(|r| format!("{}: {}", r.reason.as_str(), r.detail))?;
    Ok(UserClaims::from_entra(&principal))
}
pub(crate) use login::BROWSER_LOGIN_CLIENT;

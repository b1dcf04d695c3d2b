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

use http::Method;
use toolgate_core::{AuthRejection, HttpRequest, HttpResponse, ProviderRoute, RejectReason};
use url::Url;

use crate::flow::{EntraTokens, Grant, UserClaims};
use crate::proxy::{ProxyState, UpstreamTokenError};
use crate::untrusted::Untrusted;
use crate::web::refusal::Refusal;
use crate::web::responses;

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
            Ok(responses::preflight())
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
    Fut: Future<Output = Result<HttpResponse, Refusal>> + Send + 'static,
{
    let state = state.clone();
    ProviderRoute {
        method,
        path: path.to_owned(),
        handler: Arc::new(move |request: HttpRequest| {
            let state = state.clone();
            let answer = handler(state.clone(), request);
            async move {
                answer
                    .await
                    .unwrap_or_else(|refusal| refusal.into_response(&state.config.issuer))
            }
        }),
    }
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
        Err(rejection) => {
            tracing::warn!(
                reason = rejection.reason.as_str(),
                detail = %Untrusted::new(&rejection.detail),
                "refreshed Entra token refused; grant revoked"
            );
            state.grants.revoke(grant_id).await?;
            return Err(UpstreamTokenError::GrantGone);
        }
    }
    grant.upstream = state.grants.seal(&refreshed, grant_id)?;
    state.grants.save_grant(grant_id, grant).await?;
    Ok(refreshed)
}

/// Validates an Entra access token with the foundation validator and the provider's
/// requirements, and returns the user it names. The rejection says why (its reason code goes to
/// the audit trail).
pub(crate) async fn validated_user(state: &ProxyState, access_token: &str) -> Result<UserClaims, AuthRejection> {
    let verified = state.validator.validate(access_token).await?;
    let principal = verified.principal(crate::EntraProxy::NAME)?;
    if principal.is_app_only() {
        return Err(AuthRejection::new(
            RejectReason::AppOnlyNotAllowed,
            "app-only token from a user sign-in",
        ));
    }
    let prefix = format!("{}/", state.config.upstream.scope_prefix.trim_end_matches('/'));
    state.config.requirements.check(&principal, &prefix)?;
    Ok(UserClaims::from_entra(&principal, &state.config.carried_claims))
}

pub(crate) use login::BROWSER_LOGIN_CLIENT;

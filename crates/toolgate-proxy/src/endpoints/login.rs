//! Browser login for tools that cannot run OAuth themselves: `GET /auth/login` signs the person
//! in at Entra; the callback shows a one-time code (single-use, two minutes); `POST
//! /auth/exchange` swaps it for an access token. Same binding cookie, same validation.

use std::sync::Arc;

use http::StatusCode;
use serde::{Deserialize, Serialize};
use toolgate_core::{HttpRequest, HttpResponse};
use toolgate_store::StateStoreJson;

use super::authorize::start_sign_in;
use super::rate_limit::Budget;
use crate::crypto::{PkceVerifier, digest_b64, random_token};
use crate::flow::{EntraTokens, Purpose, Transaction, UserClaims};
use crate::oauth_error::OAuthError;
use crate::proxy::ProxyState;
use crate::web::pages;
use crate::web::params::Params;
use crate::web::refusal::{Deliver, Refusal};
use crate::web::responses;

/// The client id recorded in tokens obtained through the browser login.
pub const BROWSER_LOGIN_CLIENT: &str = "toolgate-browser-login";

const LOGIN_CODES: toolgate_store::Namespace = toolgate_store::Namespace::LOGIN_CODE;

#[derive(Serialize, Deserialize)]
struct LoginCode {
    grant_id: String,
}

pub(crate) async fn start(state: Arc<ProxyState>, request: HttpRequest) -> Result<HttpResponse, Refusal> {
    let login_hint = Params::from_query(&request)
        .ok()
        .and_then(|p| p.get("login_hint").map(str::to_owned));
    let transaction_id = random_token(32);
    let verifier = PkceVerifier::generate();
    let entra_url = state
        .upstream
        .authorize_url(
            &state.callback_url(),
            &state.config.scopes,
            &transaction_id,
            &verifier,
            login_hint.as_deref(),
        )
        .map_err(|_| OAuthError::server_error("the Entra authority URL is not valid"))
        .on_page("Configuration error")?;
    let transaction = Transaction {
        purpose: Purpose::BrowserLogin,
        upstream_verifier: verifier,
        binding: random_token(32),
        may_skip_consent: false,
    };
    // The browser login is the operator's own flow: a known client's budget.
    let budget = Budget::SignIn { known_client: true };
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

/// After the callback validated the user: a grant and a one-time code shown on a page.
pub(crate) async fn finish(
    state: &ProxyState,
    user: UserClaims,
    tokens: &EntraTokens,
    clear_binding: String,
) -> Result<HttpResponse, Refusal> {
    let code = random_token(24);
    async {
        let grant_id = state
            .grants
            .create_grant(BROWSER_LOGIN_CLIENT, user.clone(), state.config.scopes.clone(), tokens)
            .await?;
        state
            .grants
            .store()
            .put_json(
                LOGIN_CODES,
                &digest_b64(&code),
                &LoginCode { grant_id },
                state.config.lifetimes.login_code,
            )
            .await
    }
    .await
    .on_page("Sign-in unavailable")
    .map_err(|refusal| refusal.with_cookies([clear_binding.clone()]))?;
    let minutes = state.config.lifetimes.login_code.as_secs().div_ceil(60);
    Ok(responses::page(
        StatusCode::OK,
        pages::login_code(&user, &code, minutes),
        &[clear_binding],
    ))
}

#[derive(Serialize)]
struct ExchangeResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    scope: String,
}

pub(crate) async fn exchange(state: Arc<ProxyState>, request: HttpRequest) -> Result<HttpResponse, Refusal> {
    let params = Params::from_form(&request).map_err(|bad| OAuthError::invalid_request(bad.0))?;
    let code = params
        .get("code")
        .ok_or_else(|| OAuthError::invalid_request("code is required"))?;
    let login = state
        .grants
        .store()
        .take_json::<LoginCode>(LOGIN_CODES, &digest_b64(code))
        .await
        .map_err(OAuthError::from)?
        .ok_or_else(|| OAuthError::invalid_grant("the code is invalid, expired, or already used"))?;
    let grant = state
        .grants
        .grant(&login.grant_id)
        .await
        .map_err(OAuthError::from)?
        .ok_or_else(|| OAuthError::invalid_grant("the sign-in was revoked"))?;
    let access_token = state
        .signer
        .mint(&grant.user, BROWSER_LOGIN_CLIENT, &grant.scopes, &login.grant_id)
        .map_err(|error| {
            tracing::error!(error = %error, "could not sign an access token");
            OAuthError::server_error("internal error")
        })?;
    Ok(responses::json(
        StatusCode::OK,
        &ExchangeResponse {
            access_token,
            token_type: "Bearer",
            expires_in: state.signer.lifetime().as_secs(),
            scope: grant.scopes.join(" "),
        },
    ))
}

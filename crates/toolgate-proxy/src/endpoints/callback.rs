//! `GET /auth/callback`: Entra sends the browser back here. The transaction is consumed (a
//! replayed `state` finds nothing), the browser must carry the binding cookie set at
//! `/authorize` (a sign-in link forwarded to someone else dies here: FastMCP CVE-2026-27124),
//! Entra's code is redeemed with the proxy's secret and verifier, and the tokens are validated by
//! the same validator `entra-jwt` uses. Then the consent page — or, for `/auth/login`, a one-time code.

use std::sync::Arc;

use http::StatusCode;
use toolgate_core::{AuditDecision, AuditOutcome, HttpRequest, HttpResponse, RejectReason};
use toolgate_store::{Namespace, StateStoreJson};

use super::audit::{self, ProxyEvent};
use super::{login, validated_user};
use crate::client::ClientSource;
use crate::crypto::{digest_b64, random_token, same};
use crate::flow::{ClientRequest, PendingConsent, Purpose, Transaction, UserClaims};
use crate::oauth_error::OAuthError;
use crate::proxy::ProxyState;
use crate::redirect_uri::RedirectUri;
use crate::untrusted::Untrusted;
use crate::upstream;
use crate::web::cookies;
use crate::web::pages::{self, ConsentView};
use crate::web::params::Params;
use crate::web::refusal::{Deliver, Delivery, Refusal};
use crate::web::responses;

/// Where pending consents are kept (between the callback and the consent POST).
pub(crate) const PENDING_CONSENT: Namespace = Namespace::PENDING_CONSENT;

pub(crate) async fn handle(state: Arc<ProxyState>, request: HttpRequest) -> Result<HttpResponse, Refusal> {
    let params = Params::from_query(&request)
        .map_err(|bad| OAuthError::invalid_request(bad.0))
        .on_page("Invalid request")?;
    let transaction_id = params
        .get("state")
        .ok_or_else(|| OAuthError::invalid_request("state is missing"))
        .on_page("Invalid sign-in response")?;
    let transaction = state
        .grants
        .store()
        .take_json::<Transaction>(Namespace::TRANSACTION, transaction_id)
        .await
        .on_page("Sign-in unavailable")?
        .ok_or_else(|| OAuthError::invalid_request("this sign-in is unknown, expired, or was already completed"))
        .on_page("Sign-in expired")?;
    let binding_cookie = cookies::binding_name(transaction_id);
    let bound = cookies::read(&state.keys.cookies, request.headers(), &binding_cookie)
        .is_some_and(|value| same(&value, &transaction.binding));
    if !bound {
        tracing::warn!("sign-in returned in a browser that did not start it (missing or wrong binding cookie)");
        let event = ProxyEvent {
            method: "oauth/callback",
            user: None,
            client_id: client_of(&transaction.purpose),
            decision: AuditDecision::Deny,
            outcome: AuditOutcome::BrowserMismatch,
            reason: Some("binding_cookie"),
        };
        audit::record(&state, &request, event).await;
        return Err(OAuthError::access_denied(
            "this sign-in was started in another browser; start again from your application in this browser",
        ))
        .on_page("Sign-in started elsewhere");
    }
    let clear_binding = cookies::clear(&binding_cookie);
    // From here on every failure of a client's sign-in goes back to the client.
    let deliver = |error: OAuthError| -> Refusal {
        let refusal = match &transaction.purpose {
            Purpose::Client(client) => Refusal::new(error, Delivery::Redirect(client.redirect())),
            Purpose::BrowserLogin => Refusal::new(
                error,
                Delivery::Page {
                    title: "Sign-in failed",
                },
            ),
        };
        refusal.with_cookies([clear_binding.clone()])
    };

    if let Some(error) = params.get("error") {
        tracing::info!(
            error = %Untrusted::new(error),
            description = %Untrusted::new(params.get("error_description").unwrap_or_default()),
            "Entra returned an error to the callback"
        );
        return Err(deliver(upstream::callback_error(error)));
    }
    let code = params
        .get("code")
        .ok_or_else(|| deliver(OAuthError::invalid_request("code is missing")))?;
    let scopes = match &transaction.purpose {
        Purpose::Client(request) => request.scopes.clone(),
        Purpose::BrowserLogin => state.config.scopes.clone(),
    };
    let tokens = state
        .upstream
        .redeem_code(
            code,
            &state.callback_url(),
            &scopes,
            &transaction.upstream_verifier,
            state.clock.as_ref(),
        )
        .await
        .map_err(|error| {
            tracing::warn!(error = %Untrusted::new(&error.to_string()), "Entra refused the proxy's code redemption");
            deliver(error.for_client())
        })?;
    let user = match validated_user(&state, &tokens.access_token).await {
        Ok(user) => user,
        Err(rejection) => {
            tracing::warn!(
                reason = rejection.reason.as_str(),
                detail = %Untrusted::new(&rejection.detail),
                "Entra token from sign-in refused"
            );
            let event = ProxyEvent {
                method: "oauth/callback",
                user: None,
                client_id: client_of(&transaction.purpose),
                decision: AuditDecision::AuthFailed,
                outcome: AuditOutcome::SigninRefused,
                reason: Some(rejection.reason.as_str()),
            };
            audit::record(&state, &request, event).await;
            let error = match rejection.reason {
                // The keys could not be fetched: nothing is wrong with the account.
                RejectReason::KeysUnavailable | RejectReason::Unavailable => {
                    OAuthError::unavailable("the sign-in could not be verified right now; try again", 5)
                }
                _ => OAuthError::access_denied("your account cannot use this server"),
            };
            return Err(deliver(error));
        }
    };
    tracing::info!(principal = %user.sub, "signed in at Entra");

    match transaction.purpose {
        Purpose::BrowserLogin => login::finish(&state, user, &tokens, clear_binding).await,
        Purpose::Client(client_request) => {
            if state.config.remember_consent && transaction.may_skip_consent {
                let to_client = client_request.redirect();
                let remembered = super::consent::remembered(&state, &user, &client_request)
                    .await
                    .to_client(&to_client)?;
                if remembered {
                    let event = ProxyEvent {
                        method: "oauth/consent",
                        user: Some(&user),
                        client_id: Some(&client_request.client_id),
                        decision: AuditDecision::Allow,
                        outcome: AuditOutcome::ConsentRemembered,
                        reason: None,
                    };
                    audit::record(&state, &request, event).await;
                    return super::consent::grant_and_redirect(&state, client_request, user, &tokens, &[clear_binding])
                        .await;
                }
            }
            consent_page(
                &state,
                client_request,
                user,
                &tokens,
                transaction.binding,
                binding_cookie,
            )
            .await
        }
    }
}

/// Stores the pending consent and shows the page, with a CSRF token in a cookie and the form.
async fn consent_page(
    state: &ProxyState,
    request: ClientRequest,
    user: UserClaims,
    tokens: &crate::flow::EntraTokens,
    binding: String,
    binding_cookie: String,
) -> Result<HttpResponse, Refusal> {
    let consent_id = random_token(32);
    let csrf_token = random_token(32);
    let to_client = request.redirect();
    let upstream = state.grants.seal(tokens, &consent_id).to_client(&to_client)?;
    let client_origin = match request.client_source {
        ClientSource::Preregistered => "pre-registered by the operator".to_owned(),
        ClientSource::Cimd => format!("described by its metadata document at {}", request.client_id),
        _ => "registered itself; its name is not verified".to_owned(),
    };
    // Parsed when /authorize accepted it; a record that no longer parses is refused.
    let destination = RedirectUri::parse(&request.redirect_uri)
        .map(|uri| uri.destination())
        .map_err(|_| OAuthError::server_error("the stored redirect URI is no longer acceptable"))
        .on_page("Sign-in failed")?;
    let html = pages::consent(&ConsentView {
        client_name: &request.client_name,
        client_id: &request.client_id,
        client_origin: &client_origin,
        redirect_uri: &request.redirect_uri,
        destination: &destination,
        scopes: &request.scopes,
        user: &user,
        resource: &state.config.resource,
        consent_id: &consent_id,
        csrf_token: &csrf_token,
    });
    let pending = PendingConsent {
        request,
        user,
        upstream,
        binding,
        binding_cookie,
        csrf_digest: digest_b64(&csrf_token),
    };
    let ttl = state.config.lifetimes.transaction;
    state
        .grants
        .store()
        .put_json(PENDING_CONSENT, &consent_id, &pending, ttl)
        .await
        .to_client(&to_client)?;
    let csrf_cookie = cookies::set(&state.keys.cookies, &cookies::csrf_name(&consent_id), &csrf_token, ttl);
    Ok(responses::page(StatusCode::OK, html, &[csrf_cookie]))
}

/// The client a transaction was for, for audit rows.
fn client_of(purpose: &Purpose) -> Option<&str> {
    match purpose {
        Purpose::Client(request) => Some(&request.client_id),
        Purpose::BrowserLogin => Some(crate::BROWSER_LOGIN_CLIENT),
    }
}

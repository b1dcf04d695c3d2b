//! Where errors go. Before the client and its redirect URI are vouched for, on toolgate's own page
//! (no open redirector); once they are, back to the client with `error`, its `state` (only if it
//! sent one) and `iss` — including every way Entra can refuse at the callback.

use serde_json::Value;
use toolgate_emulator::demo;

use super::browser::{Browser, Pkce, Reply, register};
use super::flow::serve_metadata_document;
use super::{Options, stack};

const EVIL: &str = "https://evil.example/cb";

/// A malformed request: why, the extra parameters, the error code expected.
type Malformed = (&'static str, Vec<(&'static str, &'static str)>, &'static str);

/// Every `/authorize` error once the client and redirect URI are known, as extra parameters.
fn malformed_requests() -> Vec<Malformed> {
    vec![
        (
            "no PKCE",
            vec![("code_challenge", ""), ("code_challenge_method", "")],
            "invalid_request",
        ),
        (
            "plain PKCE",
            vec![("code_challenge_method", "plain")],
            "invalid_request",
        ),
        (
            "another resource",
            vec![("resource", "https://other.example/mcp")],
            "invalid_target",
        ),
        (
            "implicit flow",
            vec![("response_type", "token")],
            "unsupported_response_type",
        ),
        ("request object", vec![("request", "eyJ.x.y")], "request_not_supported"),
        ("over-long state", vec![("state", LONG_STATE)], "invalid_request"),
    ]
}

const LONG_STATE: &str = concat!(
    "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789",
    "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789",
    "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789",
    "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789",
    "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789",
    "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789",
    "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789",
    "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789",
    "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789",
    "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789",
    "01234567890123456789012345"
);

fn assert_page(reply: &Reply, code: &str, why: &str) {
    assert_eq!(reply.status, 400, "{why}: {reply:?}");
    assert!(reply.location.is_none(), "{why}: must not redirect: {reply:?}");
    assert!(
        reply.body.contains(code),
        "{why}: the page names {code}: {}",
        reply.body
    );
}

#[tokio::test]
async fn authorize_errors_for_self_registered_and_metadata_document_clients_stay_on_the_page() {
    let stack = stack(Options {
        proxy_toml: "require_state = true\ndanger_cimd_allow_http = true\ndanger_cimd_allow_private_addresses = true"
            .into(),
        ..Options::default()
    })
    .await;
    let base = &stack.base;
    // Anyone can register any redirect URI: an error must never be a 302 there.
    let dynamic = register(base, &[EVIL]).await;
    let (document, _server) = serve_metadata_document(EVIL, false, None).await;
    for client_id in [dynamic.as_str(), document.as_str()] {
        let pkce = Pkce::new();
        let mut requests = malformed_requests();
        requests.push(("no state (require_state)", vec![("state", "")], "invalid_request"));
        for (why, extra, code) in requests {
            let mut browser = Browser::new();
            let reply = browser.get(&pkce.authorize_url(base, client_id, EVIL, &extra)).await;
            assert_page(&reply, code, why);
            assert!(browser.cookies.is_empty(), "{why}: no transaction started");
        }
    }
}

#[tokio::test]
async fn authorize_errors_for_preregistered_clients_go_back_to_the_client() {
    let ops = "https://ops.example/cb";
    let stack = stack(Options {
        proxy_toml: format!(
            "require_state = true\n\n[[auth.proxy.clients]]\nclient_id = \"ops-tool\"\nclient_name = \"Ops tool\"\nredirect_uris = [\"{ops}\"]\n"
        ),
        ..Options::default()
    })
    .await;
    let base = &stack.base;
    let pkce = Pkce::new();
    for (why, extra, code) in malformed_requests() {
        let reply = Browser::new()
            .get(&pkce.authorize_url(base, "ops-tool", ops, &extra))
            .await;
        assert_eq!(reply.status, 302, "{why}: {reply:?}");
        assert!(reply.location.as_deref().unwrap().starts_with(ops), "{why}: {reply:?}");
        assert_eq!(reply.location_param("error").as_deref(), Some(code), "{why}");
        assert_eq!(reply.location_param("iss"), Some(base.clone()), "{why}");
        if why != "over-long state" {
            assert_eq!(reply.location_param("state"), Some(pkce.state.clone()), "{why}");
        }
    }
    let no_state = Browser::new()
        .get(&pkce.authorize_url(base, "ops-tool", ops, &[("state", "")]))
        .await;
    assert_eq!(no_state.location_param("error").as_deref(), Some("invalid_request"));
    assert_eq!(no_state.location_param("state"), None, "{no_state:?}");
}

/// A sign-in up to Entra: the browser, the client's PKCE, and Entra's sign-in URL.
async fn started(base: &str, client_id: &str, redirect: &str, state: bool) -> (Browser, Pkce, String) {
    let pkce = Pkce::new();
    let extra: &[(&str, &str)] = if state { &[] } else { &[("state", "")] };
    let mut browser = Browser::new();
    let start = browser.get(&pkce.authorize_url(base, client_id, redirect, extra)).await;
    assert_eq!(start.status, 302, "{}", start.body);
    (browser, pkce, start.location.unwrap())
}

fn query_param(url: &str, name: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

/// The answer must be a redirect to the client with `error`, the client's state and `iss`.
fn assert_back_at_client(reply: &Reply, redirect: &str, code: &str, state: Option<&str>, base: &str, why: &str) {
    assert_eq!(reply.status, 302, "{why}: {reply:?}");
    assert!(
        reply.location.as_deref().unwrap().starts_with(redirect),
        "{why}: {reply:?}"
    );
    assert_eq!(reply.location_param("error").as_deref(), Some(code), "{why}: {reply:?}");
    assert_eq!(reply.location_param("state").as_deref(), state, "{why}: {reply:?}");
    assert_eq!(reply.location_param("iss").as_deref(), Some(base), "{why}");
    assert_eq!(reply.location_param("code"), None, "{why}");
    assert!(
        reply.location_param("error_description").is_some_and(|d| d.is_ascii()),
        "{why}: {reply:?}"
    );
}

#[tokio::test]
async fn every_failure_at_the_callback_reaches_the_client() {
    let stack = stack(Options::default()).await;
    let base = &stack.base;
    let redirect = "http://localhost:8787/callback";
    let client_id = register(base, &[redirect]).await;

    // Entra answers the callback with an error (the user cancelled, Entra is busy, Entra refused
    // toolgate's own request).
    for (entra_error, code) in [
        ("access_denied", "access_denied"),
        ("consent_required", "access_denied"),
        ("temporarily_unavailable", "temporarily_unavailable"),
        ("invalid_client", "server_error"),
    ] {
        for with_state in [true, false] {
            let (mut browser, pkce, entra) = started(base, &client_id, redirect, with_state).await;
            let transaction = query_param(&entra, "state");
            let reply = browser
                .get(&format!(
                    "{base}/auth/callback?error={entra_error}&error_description=AADSTS65004%3A+User+declined&state={transaction}"
                ))
                .await;
            let state = with_state.then_some(pkce.state.as_str());
            assert_back_at_client(&reply, redirect, code, state, base, entra_error);
            assert!(browser.cookies.is_empty(), "the binding cookie is cleared");
        }
    }

    // Entra refuses the code at redemption: AADSTS70008 (unknown or expired code).
    let (mut browser, pkce, entra) = started(base, &client_id, redirect, true).await;
    let back = browser.sign_in_at_entra(&entra, "alice").await;
    let callback = back.location.unwrap();
    let mut forged = url::Url::parse(&callback).unwrap();
    let pairs: Vec<(String, String)> = forged
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "code" {
                "forged-code".into()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    forged.query_pairs_mut().clear().extend_pairs(pairs);
    let reply = browser.get(forged.as_str()).await;
    assert_back_at_client(
        &reply,
        redirect,
        "access_denied",
        Some(&pkce.state),
        base,
        "AADSTS70008",
    );

    // AADSTS54005: the code was already redeemed (here by someone holding it, with a wrong verifier).
    let (mut browser, pkce, entra) = started(base, &client_id, redirect, true).await;
    let back = browser.sign_in_at_entra(&entra, "alice").await;
    let callback = back.location.unwrap();
    let burned: Value = reqwest::Client::new()
        .post(format!(
            "{}/{}/oauth2/v2.0/token",
            stack.emulator.base_url(),
            demo::TENANT_ID
        ))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", demo::API_CLIENT_ID),
            ("client_secret", demo::API_CLIENT_SECRET),
            ("code", &query_param(&callback, "code")),
            ("redirect_uri", &format!("{base}/auth/callback")),
            ("code_verifier", "wrong-wrong-wrong-wrong-wrong-wrong-wrong-wrong"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(burned["error"], "invalid_grant", "{burned}");
    let reply = browser.get(&callback).await;
    assert_back_at_client(
        &reply,
        redirect,
        "access_denied",
        Some(&pkce.state),
        base,
        "AADSTS54005",
    );

    // Before the transaction is known (forged state) or from another browser: toolgate's page.
    let (_, _, entra) = started(base, &client_id, redirect, true).await;
    let transaction = query_param(&entra, "state");
    let reply = Browser::new()
        .get(&format!("{base}/auth/callback?error=access_denied&state={transaction}"))
        .await;
    assert_eq!(reply.status, 403, "{reply:?}");
    assert!(reply.location.is_none());
    let reply = Browser::new()
        .get(&format!("{base}/auth/callback?error=access_denied&state=made-up"))
        .await;
    assert_eq!(reply.status, 400, "{reply:?}");
    assert!(reply.location.is_none());

    // The browser login has no client to go back to: its failures are pages.
    let mut browser = Browser::new();
    let start = browser.get(&format!("{base}/auth/login")).await;
    let transaction = query_param(start.location.as_deref().unwrap(), "state");
    let reply = browser
        .get(&format!("{base}/auth/callback?error=access_denied&state={transaction}"))
        .await;
    assert_eq!(reply.status, 403, "{reply:?}");
    assert!(
        reply.location.is_none() && reply.body.contains("Sign-in failed"),
        "{reply:?}"
    );
}

//! Every attack the proxy must refuse, each by a test: skipped consent, consent in another
//! browser, redirect URI variants, PKCE missing/plain/wrong, code replay, refresh-token replay,
//! state replay, consent without CSRF token, CIMD on private addresses, tokens for another resource.

use super::browser::{self, Browser, Pkce, Reply, hidden_inputs, redeem, refresh, register, register_json};
use super::{Options, stack};

const REDIRECT: &str = "http://127.0.0.1:9/callback";

/// A page the user sees instead of a redirect: nothing reaches any client.
fn assert_stays(reply: &Reply, status: u16, text: &str) {
    assert_eq!(reply.status, status, "{reply:?}");
    assert!(reply.location.is_none(), "must not redirect: {reply:?}");
    assert!(reply.body.contains(text), "page should say {text:?}: {}", reply.body);
}

#[tokio::test]
async fn consent_cannot_be_skipped() {
    let stack = stack(Options::default()).await;
    let base = &stack.base;
    let client_id = register(base, &[REDIRECT]).await;
    let pkce = Pkce::new();
    let mut browser = Browser::new();
    let start = browser.get(&pkce.authorize_url(base, &client_id, REDIRECT, &[])).await;
    // Entra signs the user in silently (as it would for a returning user)…
    let back = browser
        .sign_in_at_entra(start.location.as_deref().unwrap(), "alice")
        .await;
    let callback = browser.get(back.location.as_deref().unwrap()).await;
    // …and still the proxy stops at its consent page: no code goes to the client.
    assert_stays(&callback, 200, "Allow access?");
    // A consent POST without a decision is not an approval.
    let mut form = hidden_inputs(&callback.body);
    form.push(("decision".into(), "".into()));
    let undecided = browser.post_form(&format!("{base}/auth/consent"), &form).await;
    assert_eq!(undecided.location_param("error").as_deref(), Some("access_denied"));
    assert_eq!(undecided.location_param("code"), None);
}

#[tokio::test]
async fn a_sign_in_started_in_one_browser_cannot_finish_in_another() {
    let stack = stack(Options::default()).await;
    let base = &stack.base;
    let client_id = register(base, &[REDIRECT]).await;

    // The attacker starts the flow and forwards the Entra link to the victim.
    let mut attacker = Browser::new();
    let start = attacker
        .get(&Pkce::new().authorize_url(base, &client_id, REDIRECT, &[]))
        .await;
    let mut victim = Browser::new();
    let back = victim
        .sign_in_at_entra(start.location.as_deref().unwrap(), "alice")
        .await;
    let refused = victim.get(back.location.as_deref().unwrap()).await;
    assert_stays(&refused, 403, "another browser");

    // The attacker reaches a consent page and has someone else's browser submit it.
    let consent = attacker
        .reach_consent(&Pkce::new().authorize_url(base, &client_id, REDIRECT, &[]), "alice")
        .await;
    let mut other = Browser::new();
    let refused = other.decide(base, &consent, "approve").await;
    assert_stays(&refused, 403, "Consent not accepted");
    // The consent is still pending for the right browser.
    let approved = attacker.decide(base, &consent, "approve").await;
    assert!(approved.location_param("code").is_some(), "{approved:?}");
    let outcomes = oauth_outcomes(&stack).await;
    assert!(outcomes.contains(&"browser_mismatch".to_owned()), "{outcomes:?}");
    assert!(outcomes.contains(&"csrf_failed".to_owned()), "{outcomes:?}");
}

/// The outcomes of the authorization server's audit rows.
async fn oauth_outcomes(stack: &super::ProxyStack) -> Vec<String> {
    stack
        .audit_rows()
        .await
        .into_iter()
        .filter(|row| row.method.starts_with("oauth/"))
        .map(|row| row.outcome.to_string())
        .collect()
}

#[tokio::test]
async fn redirect_uri_variants_are_refused_without_redirecting() {
    let stack = stack(Options::default()).await;
    let base = &stack.base;
    let registered = "https://client.example/cb";
    let client_id = register(base, &[registered, REDIRECT]).await;
    let pkce = Pkce::new();
    let variants = [
        "https://evil.example/cb",
        "https://client.example/other",
        "https://client.example/cb?x=1",
        "https://client.example/cb#fragment",
        "https://client.example@evil.example/cb",
        "https://client.example/x/../cb",
        "https://client.example/./cb",
        "javascript:alert(1)",
        "http://client.example/cb",
        "http://127.0.0.2:9/callback",
        "http://localhost:9/callback",
    ];
    for variant in variants {
        let mut browser = Browser::new();
        let reply = browser.get(&pkce.authorize_url(base, &client_id, variant, &[])).await;
        assert_eq!(reply.status, 400, "{variant}: {reply:?}");
        assert!(reply.location.is_none(), "{variant} must not be redirected to");
        assert!(browser.cookies.is_empty(), "{variant}: no transaction started");
    }
    // Loopback redirects may change port (RFC 8252 §7.3); nothing else may change.
    let mut browser = Browser::new();
    let other_port = browser
        .get(&pkce.authorize_url(base, &client_id, "http://127.0.0.1:50123/callback", &[]))
        .await;
    assert_eq!(other_port.status, 302, "{other_port:?}");
    // Missing redirect URI and unknown clients are errors on the page too.
    let missing = browser.get(&pkce.authorize_url(base, &client_id, "", &[])).await;
    assert_stays(&missing, 400, "redirect_uri is required");
    let unknown = browser
        .get(&pkce.authorize_url(base, "no-such-client", REDIRECT, &[]))
        .await;
    assert_stays(&unknown, 400, "not registered");
}

#[tokio::test]
async fn pkce_is_required_s256_only_and_checked() {
    let stack = stack(Options::default()).await;
    let base = &stack.base;
    let client_id = register(base, &[REDIRECT]).await;
    let pkce = Pkce::new();
    let mut browser = Browser::new();
    for (extra, why) in [
        (vec![("code_challenge", ""), ("code_challenge_method", "")], "missing"),
        (vec![("code_challenge_method", "plain")], "plain"),
        (vec![("code_challenge_method", "")], "method absent (plain by default)"),
        (vec![("code_challenge", "too-short")], "malformed"),
    ] {
        let reply = browser
            .get(&pkce.authorize_url(base, &client_id, REDIRECT, &extra))
            .await;
        // A self-registered client's redirect URI is not vouched for: the error stays on the page
        // (see refusals.rs for where errors go).
        assert_stays(&reply, 400, "invalid_request");
        assert!(browser.cookies.is_empty(), "{why}: no transaction started");
    }
    // A wrong verifier burns the code: the right one afterwards is refused too.
    let done = browser::authorize(
        &mut browser,
        base,
        &pkce.authorize_url(base, &client_id, REDIRECT, &[]),
        "alice",
    )
    .await;
    let code = done.location_param("code").unwrap();
    let wrong = redeem(base, &client_id, REDIRECT, &code, &Pkce::new().verifier).await;
    assert_eq!((wrong.status, wrong.error()), (400, "invalid_grant"), "{}", wrong.body);
    let right = redeem(base, &client_id, REDIRECT, &code, &pkce.verifier).await;
    assert_eq!(right.error(), "invalid_grant");
    // No verifier at all.
    let done = browser::authorize(
        &mut browser,
        base,
        &pkce.authorize_url(base, &client_id, REDIRECT, &[]),
        "alice",
    )
    .await;
    let none = browser::token_request(
        base,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &client_id),
            ("redirect_uri", REDIRECT),
            ("code", &done.location_param("code").unwrap()),
        ],
    )
    .await;
    assert_eq!((none.status, none.error()), (400, "invalid_request"));
}

#[tokio::test]
async fn a_replayed_code_is_refused_and_revokes_what_it_granted() {
    let stack = stack(Options::default()).await;
    let base = &stack.base;
    let client_id = register(base, &[REDIRECT]).await;
    let pkce = Pkce::new();
    let mut browser = Browser::new();
    let done = browser::authorize(
        &mut browser,
        base,
        &pkce.authorize_url(base, &client_id, REDIRECT, &[]),
        "alice",
    )
    .await;
    let code = done.location_param("code").unwrap();
    let first = redeem(base, &client_id, REDIRECT, &code, &pkce.verifier).await;
    assert_eq!(first.status, 200);
    let replay = redeem(base, &client_id, REDIRECT, &code, &pkce.verifier).await;
    assert_eq!((replay.status, replay.error()), (400, "invalid_grant"));
    let after = refresh(base, &client_id, &first.refresh_token()).await;
    assert_eq!(
        after.error(),
        "invalid_grant",
        "the first redemption's grant is revoked"
    );

    // A code redeemed by another client, or with another redirect URI, is refused.
    let other_client = register(base, &[REDIRECT]).await;
    let done = browser::authorize(
        &mut browser,
        base,
        &pkce.authorize_url(base, &client_id, REDIRECT, &[]),
        "alice",
    )
    .await;
    let stolen = redeem(
        base,
        &other_client,
        REDIRECT,
        &done.location_param("code").unwrap(),
        &pkce.verifier,
    )
    .await;
    assert_eq!(stolen.error(), "invalid_grant");
    let done = browser::authorize(
        &mut browser,
        base,
        &pkce.authorize_url(base, &client_id, REDIRECT, &[]),
        "alice",
    )
    .await;
    let moved = redeem(
        base,
        &client_id,
        "http://127.0.0.1:10/callback",
        &done.location_param("code").unwrap(),
        &pkce.verifier,
    )
    .await;
    assert_eq!(moved.error(), "invalid_grant");
}

#[tokio::test]
async fn a_replayed_refresh_token_revokes_the_whole_family() {
    let stack = stack(Options::default()).await;
    let base = &stack.base;
    let (client_id, tokens) = browser::sign_in(base, "alice").await;
    let first = tokens.refresh_token();
    let rotated = refresh(base, &client_id, &first).await;
    assert_eq!(rotated.status, 200);
    let replay = refresh(base, &client_id, &first).await;
    assert_eq!((replay.status, replay.error()), (400, "invalid_grant"));
    assert!(
        replay.body["error_description"].as_str().unwrap().contains("reuse"),
        "{}",
        replay.body
    );
    let legit = refresh(base, &client_id, &rotated.refresh_token()).await;
    assert_eq!(
        legit.error(),
        "invalid_grant",
        "the family is revoked, the newest token included"
    );
    // Another client cannot use someone else's refresh token.
    let (_, other) = browser::sign_in(base, "bob").await;
    let stolen = refresh(base, &client_id, &other.refresh_token()).await;
    assert_eq!(stolen.error(), "invalid_grant");
}

#[tokio::test]
async fn a_replayed_state_is_refused() {
    let stack = stack(Options::default()).await;
    let base = &stack.base;
    let client_id = register(base, &[REDIRECT]).await;
    let mut browser = Browser::new();
    let start = browser
        .get(&Pkce::new().authorize_url(base, &client_id, REDIRECT, &[]))
        .await;
    let back = browser
        .sign_in_at_entra(start.location.as_deref().unwrap(), "alice")
        .await;
    let callback = back.location.clone().unwrap();
    let first = browser.get(&callback).await;
    assert_eq!(first.status, 200);
    let replay = browser.get(&callback).await;
    assert_stays(&replay, 400, "already completed");
    // A made-up state is no better.
    let forged = browser.get(&format!("{base}/auth/callback?code=x&state=made-up")).await;
    assert_stays(&forged, 400, "unknown");
}

#[tokio::test]
async fn consent_without_the_csrf_token_is_refused() {
    let stack = stack(Options::default()).await;
    let base = &stack.base;
    let client_id = register(base, &[REDIRECT]).await;
    let mut browser = Browser::new();
    let consent = browser
        .reach_consent(&Pkce::new().authorize_url(base, &client_id, REDIRECT, &[]), "alice")
        .await;
    let fields = hidden_inputs(&consent.body);
    let consent_id = fields.iter().find(|(k, _)| k == "consent").unwrap().1.clone();
    let url = format!("{base}/auth/consent");
    let approve = |csrf: Option<&str>| {
        let mut form = vec![
            ("consent".to_owned(), consent_id.clone()),
            ("decision".to_owned(), "approve".to_owned()),
        ];
        if let Some(csrf) = csrf {
            form.push(("csrf_token".into(), csrf.into()));
        }
        form
    };
    let missing = browser.post_form(&url, &approve(None)).await;
    assert_stays(&missing, 403, "Consent not accepted");
    let wrong = browser.post_form(&url, &approve(Some("guessed"))).await;
    assert_stays(&wrong, 403, "Consent not accepted");
    // The right token without its cookie (a cross-site form post carrying the field only).
    let csrf = fields.iter().find(|(k, _)| k == "csrf_token").unwrap().1.clone();
    let saved = browser.cookies.clone();
    browser
        .cookies
        .retain(|name, _| !name.starts_with("__Host-toolgate-csrf"));
    let no_cookie = browser.post_form(&url, &approve(Some(&csrf))).await;
    assert_stays(&no_cookie, 403, "Consent not accepted");
    browser.cookies = saved;
    let ok = browser.post_form(&url, &approve(Some(&csrf))).await;
    assert!(ok.location_param("code").is_some(), "{ok:?}");
}

#[tokio::test]
async fn metadata_documents_on_private_addresses_are_not_fetched() {
    let stack = stack(Options::default()).await;
    let base = &stack.base;
    let pkce = Pkce::new();
    for client_id in [
        "https://localhost/client.json",
        "https://127.0.0.1/client.json",
        "https://169.254.169.254/latest/meta-data.json",
        "https://10.0.0.1/client.json",
        "https://[::1]/client.json",
    ] {
        let mut browser = Browser::new();
        let reply = browser
            .get(&pkce.authorize_url(base, client_id, "https://client.example/cb", &[]))
            .await;
        assert_stays(&reply, 400, "Client metadata refused");
    }
    // And plain http client ids are not documents at all.
    let mut browser = Browser::new();
    let reply = browser
        .get(&pkce.authorize_url(
            base,
            "http://client.example/client.json",
            "https://client.example/cb",
            &[],
        ))
        .await;
    assert_eq!(reply.status, 400);
}

#[tokio::test]
async fn tokens_for_another_resource_are_refused() {
    let stack = stack(Options::default()).await;
    let base = &stack.base;
    let client_id = register(base, &[REDIRECT]).await;
    let pkce = Pkce::new();
    let mut browser = Browser::new();
    // Asking for another resource at /authorize or /token.
    let reply = browser
        .get(&pkce.authorize_url(base, &client_id, REDIRECT, &[("resource", "https://other.example/mcp")]))
        .await;
    assert_stays(&reply, 400, "invalid_target");
    let done = browser::authorize(
        &mut browser,
        base,
        &pkce.authorize_url(base, &client_id, REDIRECT, &[]),
        "alice",
    )
    .await;
    let other = browser::token_request(
        base,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &client_id),
            ("redirect_uri", REDIRECT),
            ("code", &done.location_param("code").unwrap()),
            ("code_verifier", &pkce.verifier),
            ("resource", "https://other.example/mcp"),
        ],
    )
    .await;
    assert_eq!(other.error(), "invalid_target");
    // An Entra token for the same API is not accepted: only the proxy's own tokens are.
    let entra = crate::harness::sign_in(
        &stack.emulator,
        "alice",
        &[toolgate_emulator::demo::API_SCOPE_ACCESS_AS_USER],
    )
    .await;
    let response = reqwest::Client::new()
        .get(format!("{base}/whoami"))
        .bearer_auth(entra)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    // A proxy-signed token whose audience is another resource (see shared_state for the same
    // key minting it from another deployment).
    let proxy = stack.gateway.entra_proxy.as_ref().unwrap();
    let (_, tokens) = browser::sign_in(base, "alice").await;
    let verified = proxy.signer().verify(&tokens.access_token()).unwrap();
    let foreign = proxy
        .signer()
        .mint_for(
            "https://other.example/mcp",
            &verified.user,
            &client_id,
            &verified.scopes,
            "grant",
        )
        .unwrap();
    let response = reqwest::Client::new()
        .get(format!("{base}/whoami"))
        .bearer_auth(foreign)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let reasons: Vec<String> = stack
        .audit_rows()
        .await
        .into_iter()
        .filter_map(|row| row.reason_code)
        .collect();
    assert!(reasons.contains(&"wrong_audience".to_owned()), "{reasons:?}");
}

#[tokio::test]
async fn malformed_input_gets_a_clear_4xx_and_never_breaks_the_proxy() {
    let stack = stack(Options::default()).await;
    let base = &stack.base;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let long = "x".repeat(10_000);
    let queries = [
        "".to_owned(),
        "client_id=a&client_id=b".to_owned(),
        "state=%FF%FE&code=%00".to_owned(),
        "%zz=%zz".to_owned(),
        format!("client_id={long}&redirect_uri={long}"),
        "response_type=token&client_id=&redirect_uri=".to_owned(),
    ];
    for path in ["/authorize", "/auth/callback", "/auth/login", "/register"] {
        for query in &queries {
            let response = http.get(format!("{base}{path}?{query}")).send().await.unwrap();
            let status = response.status().as_u16();
            assert!(
                status < 500 && status != 0,
                "GET {path}?{} → {status}",
                &query[..query.len().min(60)]
            );
        }
    }
    let bodies: [(&str, Vec<u8>); 6] = [
        (
            "application/x-www-form-urlencoded",
            b"grant_type=authorization_code&code=%FF".to_vec(),
        ),
        (
            "application/x-www-form-urlencoded",
            b"grant_type=refresh_token&grant_type=refresh_token".to_vec(),
        ),
        ("application/x-www-form-urlencoded", vec![0xff, 0xfe, 0x00, 0x26, 0x3d]),
        (
            "application/json",
            b"{\"redirect_uris\": [1, 2, {\"a\": null}]}".to_vec(),
        ),
        (
            "application/json",
            b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]".to_vec(),
        ),
        ("text/plain", long.clone().into_bytes()),
    ];
    for path in ["/token", "/revoke", "/register", "/auth/consent", "/auth/exchange"] {
        for (content_type, body) in &bodies {
            let response = http
                .post(format!("{base}{path}"))
                .header("content-type", *content_type)
                .header("authorization", "Basic !!!not-base64")
                .body(body.clone())
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            assert!((400..500).contains(&status), "POST {path} ({content_type}) → {status}");
        }
    }
    // Oversized bodies are refused before any parsing.
    let huge = http
        .post(format!("{base}/register"))
        .header("content-type", "application/json")
        .body(vec![b' '; 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), 413);
    // And the proxy still works.
    let (_, tokens) = browser::sign_in(base, "alice").await;
    assert_eq!(tokens.status, 200);
}

#[tokio::test]
async fn untrusted_text_cannot_disguise_itself_on_pages() {
    let stack = stack(Options::default()).await;
    let base = &stack.base;
    let registration = |name: &str, redirect: &str| {
        serde_json::json!({
            "client_name": name,
            "redirect_uris": [redirect],
            "token_endpoint_auth_method": "none",
        })
    };
    // Zero-width characters and look-alike padding: shown as escapes and one space.
    let padded = format!("Visual Studio Code\u{200B}{}(evil.example)", " ".repeat(60));
    let (status, registered) = register_json(base, &registration(&padded, REDIRECT)).await;
    assert_eq!(status, 201, "{registered}");
    let client_id = registered["client_id"].as_str().unwrap().to_owned();
    let consent = Browser::new()
        .reach_consent(&Pkce::new().authorize_url(base, &client_id, REDIRECT, &[]), "alice")
        .await;
    assert_eq!(consent.status, 200, "{}", consent.body);
    assert!(
        consent.body.contains("Visual Studio Code\\u{200B} (evil.example)"),
        "{}",
        consent.body
    );
    assert!(
        !consent.body.contains('\u{200B}'),
        "no raw zero-width character on the page"
    );
    // Over-long names are cut on the page.
    let long = format!("{}TAIL", "A".repeat(150));
    let (_, registered) = register_json(base, &registration(&long, REDIRECT)).await;
    let consent = Browser::new()
        .reach_consent(
            &Pkce::new().authorize_url(base, registered["client_id"].as_str().unwrap(), REDIRECT, &[]),
            "alice",
        )
        .await;
    assert!(
        consent.body.contains(&format!("{}…", "A".repeat(80))),
        "{}",
        consent.body
    );
    assert!(!consent.body.contains("TAIL"));
    // Text-direction overrides are refused outright, in names and redirect URIs.
    for (name, redirect, error) in [
        ("Claude\u{202E}exe.txt", REDIRECT, "invalid_client_metadata"),
        ("Claude", "https://claude.ai/\u{202E}bc", "invalid_redirect_uri"),
        ("Claude", "https://clau\u{200B}de.ai/cb", "invalid_redirect_uri"),
    ] {
        let (status, answer) = register_json(base, &registration(name, redirect)).await;
        assert_eq!(
            (status, answer["error"].as_str()),
            (400, Some(error)),
            "{name:?} {redirect:?}"
        );
        let description = answer["error_description"].as_str().unwrap();
        assert!(
            description.is_ascii() && !description.contains('\u{202E}'),
            "{description}"
        );
    }
}

#[tokio::test]
async fn metadata_document_errors_reveal_nothing_about_name_resolution() {
    let stack = stack(Options::default()).await;
    let base = &stack.base;
    let mut reasons = Vec::new();
    for client_id in [
        "https://localhost/client.json",
        "https://127.0.0.1/client.json",
        "https://10.0.0.1/client.json",
        "https://[::1]/client.json",
        "https://no-such-host.invalid/client.json",
    ] {
        let reply = Browser::new()
            .get(&Pkce::new().authorize_url(base, client_id, "https://client.example/cb", &[]))
            .await;
        assert_stays(&reply, 400, "Client metadata refused");
        for leak in [
            "127.0.0.1",
            "10.0.0.1",
            "::1",
            "Loopback",
            "Private",
            "resolve",
            "lookup",
            "dns",
            "DNS",
        ] {
            let shown_url = client_id.contains(leak);
            assert!(
                shown_url || !reply.body.contains(leak),
                "{client_id}: the page reveals {leak:?}: {}",
                reply.body
            );
        }
        let reason = reply
            .body
            .split("could not be used: ")
            .nth(1)
            .and_then(|rest| rest.split('<').next())
            .unwrap_or_default()
            .to_owned();
        reasons.push(reason);
    }
    assert!(
        reasons
            .iter()
            .all(|r| r == "it could not be fetched from a public address"),
        "every failure to reach a public address reads the same: {reasons:?}"
    );
}

//! The proxy's normal paths: discovery, registration, sign-in with consent, tokens, refresh,
//! revocation, browser login, Entra tokens for On-Behalf-Of.

use serde_json::Value;
use toolgate::mcp_client::McpClient;
use toolgate_emulator::demo;
use toolgate_jose::CompactJws;

use super::browser::{self, Browser, Pkce, redeem, refresh, register, register_json};
use super::{ALICE_TOOLS, Options, stack};

async fn get_json(url: &str) -> (u16, Value) {
    let response = reqwest::get(url).await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn discovery_documents_name_the_proxy() {
    let stack = stack(Options::default()).await;
    let base = &stack.base;
    for path in [
        "/.well-known/oauth-authorization-server",
        "/.well-known/openid-configuration",
    ] {
        let (status, doc) = get_json(&format!("{base}{path}")).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(doc["issuer"], base.as_str(), "{path}: issuer is the proxy's origin");
        assert_eq!(doc["authorization_endpoint"], format!("{base}/authorize"));
        assert_eq!(doc["token_endpoint"], format!("{base}/token"));
        assert_eq!(doc["registration_endpoint"], format!("{base}/register"));
        assert_eq!(doc["revocation_endpoint"], format!("{base}/revoke"));
        assert_eq!(doc["code_challenge_methods_supported"], serde_json::json!(["S256"]));
        assert_eq!(doc["client_id_metadata_document_supported"], true);
        assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
        assert_eq!(
            doc["scopes_supported"],
            serde_json::json!(["access_as_user"]),
            "short names only"
        );
        assert_eq!(
            doc["token_endpoint_auth_methods_supported"],
            serde_json::json!(["none", "private_key_jwt"]),
            "private_key_jwt for metadata-document clients"
        );
    }
    let (_, prm) = get_json(&format!("{base}/.well-known/oauth-protected-resource/mcp")).await;
    assert_eq!(prm["resource"], stack.mcp_url.as_str());
    assert_eq!(prm["authorization_servers"], serde_json::json!([base]));
    let (_, jwks) = get_json(&format!("{base}/.well-known/jwks.json")).await;
    assert_eq!(jwks["keys"][0]["kty"], "RSA");
    assert!(jwks["keys"][0]["kid"].is_string());

    // Browser-based clients call these endpoints cross-origin.
    let http = reqwest::Client::new();
    let preflight = http
        .request(reqwest::Method::OPTIONS, format!("{base}/token"))
        .header("origin", "http://localhost:6274")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
    let token_error = http
        .post(format!("{base}/token"))
        .form(&[("grant_type", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(token_error.headers()["access-control-allow-origin"], "*");
    assert_eq!(token_error.status(), 401, "no client authentication");

    let unauthenticated = reqwest::Client::new().post(&stack.mcp_url).send().await.unwrap();
    assert_eq!(unauthenticated.status(), 401);
    let challenge = unauthenticated.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.contains(&format!(
            "resource_metadata=\"{base}/.well-known/oauth-protected-resource/mcp\""
        )),
        "{challenge}"
    );
    assert!(challenge.contains("scope=\"access_as_user\""), "{challenge}");
}

#[tokio::test]
async fn a_registered_client_signs_a_user_in_with_consent_and_calls_tools() {
    let stack = stack(Options::default()).await;
    let base = &stack.base;
    let redirect = "http://127.0.0.1:9/callback";
    let client_id = register(base, &[redirect]).await;
    let pkce = Pkce::new();
    let mut browser = Browser::new();

    // /authorize → Entra with the proxy's own client, PKCE pair and state; `resource` stripped.
    let start = browser
        .get(&pkce.authorize_url(base, &client_id, redirect, &[("resource", &stack.mcp_url)]))
        .await;
    assert_eq!(start.status, 302, "{}", start.body);
    let entra = url::Url::parse(start.location.as_deref().unwrap()).unwrap();
    let param = |name: &str| {
        entra
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    assert!(entra.as_str().starts_with(&stack.emulator.base_url()));
    assert_eq!(param("client_id").as_deref(), Some(demo::API_CLIENT_ID));
    assert_eq!(param("redirect_uri"), Some(format!("{base}/auth/callback")));
    assert_eq!(param("resource"), None, "resource is never sent to Entra");
    let scope = param("scope").unwrap();
    assert!(
        scope.contains(demo::API_SCOPE_ACCESS_AS_USER) && scope.contains("offline_access"),
        "{scope}"
    );
    assert_eq!(param("code_challenge_method").as_deref(), Some("S256"));
    assert_ne!(
        param("code_challenge").as_deref(),
        Some(pkce.challenge.as_str()),
        "the proxy's own PKCE pair"
    );
    assert_ne!(
        param("state").as_deref(),
        Some(pkce.state.as_str()),
        "a transaction id, not the client's state"
    );
    let set_cookie = start.headers["set-cookie"].to_str().unwrap();
    assert!(set_cookie.starts_with("__Host-toolgate-tx-"), "{set_cookie}");
    assert!(
        set_cookie.contains("Secure; HttpOnly; SameSite=Lax") && set_cookie.contains("Path=/"),
        "{set_cookie}"
    );

    // Entra → callback → the consent page: client, redirect host, scopes, who is signed in.
    let back = browser.sign_in_at_entra(entra.as_str(), "alice").await;
    let consent = browser.get(back.location.as_deref().unwrap()).await;
    assert_eq!(consent.status, 200);
    assert!(consent.location.is_none(), "no redirect to the client before consent");
    for shown in [
        "e2e test client",
        "127.0.0.1",
        "access_as_user",
        "Alice",
        "registered itself",
    ] {
        assert!(
            consent.body.contains(shown),
            "consent page lacks {shown}: {}",
            consent.body
        );
    }
    let csp = consent.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(consent.headers["x-frame-options"], "DENY");
    assert_eq!(consent.headers["cache-control"], "no-store");

    // Approve → the client's redirect URI with code, state and iss (RFC 9207).
    let done = browser.decide(base, &consent, "approve").await;
    assert_eq!(done.status, 302, "{}", done.body);
    assert!(done.location.as_deref().unwrap().starts_with(redirect));
    assert_eq!(done.location_param("state"), Some(pkce.state.clone()));
    assert_eq!(done.location_param("iss"), Some(base.clone()));
    assert!(
        browser.cookies.is_empty(),
        "binding and CSRF cookies are cleared: {:?}",
        browser.cookies
    );
    let code = done.location_param("code").unwrap();

    let tokens = redeem(base, &client_id, redirect, &code, &pkce.verifier).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert_eq!(tokens.body["token_type"], "Bearer");
    assert_eq!(tokens.body["expires_in"], 900);
    assert_eq!(tokens.body["scope"], "access_as_user");
    let access_token = tokens.access_token();
    let jws = CompactJws::parse(&access_token).unwrap();
    assert_eq!(jws.header_str("typ"), Some("at+jwt"));
    let (_, jwks) = get_json(&format!("{base}/.well-known/jwks.json")).await;
    assert_eq!(jws.header_str("kid"), jwks["keys"][0]["kid"].as_str());
    let claims = &jws.payload;
    assert_eq!(claims["iss"], base.as_str(), "the proxy's own token, not Entra's");
    assert_eq!(claims["aud"], stack.mcp_url.as_str());
    assert_eq!(claims["sub"], format!("user:{}/{}", demo::TENANT_ID, demo::ALICE_OID));
    assert_eq!(claims["client_id"], client_id.as_str());
    assert_eq!(claims["oid"], demo::ALICE_OID);
    assert_eq!(claims["tid"], demo::TENANT_ID);
    let roles: Vec<&str> = claims["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(roles.contains(&"Task.Write"), "{roles:?}");

    // The token works on MCP: alice sees exactly what entra-jwt would show her.
    let mut mcp = McpClient::connect(&stack.mcp_url, &access_token).await.unwrap();
    let mut tools = mcp.list_tools().await.unwrap();
    tools.sort();
    assert_eq!(tools, ALICE_TOOLS);
    let whoami: Value = reqwest::Client::new()
        .get(format!("{base}/whoami"))
        .bearer_auth(&access_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(whoami["provider"], "entra-proxy");
    assert_eq!(whoami["client_app_id"], client_id.as_str());

    // Refresh rotates; the old refresh token is then a replay that revokes the family.
    let refreshed = refresh(base, &client_id, &tokens.refresh_token()).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    assert_ne!(refreshed.access_token(), access_token);
    assert_ne!(refreshed.refresh_token(), tokens.refresh_token());
    let mut mcp = McpClient::connect(&stack.mcp_url, &refreshed.access_token())
        .await
        .unwrap();
    assert_eq!(mcp.list_tools().await.unwrap().len(), ALICE_TOOLS.len());
}

#[tokio::test]
async fn denying_consent_sends_access_denied_and_issues_nothing() {
    let stack = stack(Options::default()).await;
    let base = &stack.base;
    let redirect = "http://127.0.0.1:9/callback";
    let client_id = register(base, &[redirect]).await;
    let pkce = Pkce::new();
    let mut browser = Browser::new();
    let consent = browser
        .reach_consent(&pkce.authorize_url(base, &client_id, redirect, &[]), "bob")
        .await;
    let denied = browser.decide(base, &consent, "deny").await;
    assert_eq!(denied.status, 302);
    assert_eq!(denied.location_param("error").as_deref(), Some("access_denied"));
    assert_eq!(denied.location_param("state"), Some(pkce.state.clone()));
    assert_eq!(denied.location_param("code"), None);
}

#[tokio::test]
async fn revocation_ends_the_whole_grant() {
    let stack = stack(Options::default()).await;
    let base = &stack.base;
    let (client_id, tokens) = browser::sign_in(base, "alice").await;
    let http = reqwest::Client::new();
    let unknown = http
        .post(format!("{base}/revoke"))
        .form(&[("client_id", client_id.as_str()), ("token", "never-issued")])
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 200, "RFC 7009: unknown tokens are not an error");
    let revoked = http
        .post(format!("{base}/revoke"))
        .form(&[
            ("client_id", client_id.as_str()),
            ("token", tokens.refresh_token().as_str()),
            ("token_type_hint", "refresh_token"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let after = refresh(base, &client_id, &tokens.refresh_token()).await;
    assert_eq!((after.status, after.error()), (400, "invalid_grant"), "{}", after.body);
}

#[tokio::test]
async fn remembered_consent_is_off_by_default_and_opt_in() {
    for (remember, expect_page) in [(false, true), (true, false)] {
        let stack = stack(Options {
            proxy_toml: format!("remember_consent = {remember}"),
            ..Options::default()
        })
        .await;
        let base = &stack.base;
        let redirect = "http://127.0.0.1:9/callback";
        let client_id = register(base, &[redirect]).await;
        let mut browser = Browser::new();
        let first = browser::authorize(
            &mut browser,
            base,
            &Pkce::new().authorize_url(base, &client_id, redirect, &[]),
            "alice",
        )
        .await;
        assert!(first.location_param("code").is_some());
        // The user (or a native app opening the system browser) starts the sign-in: `none`.
        for site in ["none", "same-origin"] {
            let start = browser
                .get_with_fetch_site(&Pkce::new().authorize_url(base, &client_id, redirect, &[]), site)
                .await;
            let back = browser
                .sign_in_at_entra(start.location.as_deref().unwrap(), "alice")
                .await;
            let second = browser.get(back.location.as_deref().unwrap()).await;
            assert_eq!(
                second.status == 200,
                expect_page,
                "remember_consent = {remember}, Sec-Fetch-Site: {site}: {second:?}"
            );
            if !expect_page {
                assert!(second.location_param("code").is_some());
            }
        }
        // Even when remembered, a sign-in started from another site's link, from a sibling site,
        // or by a browser that sends no Fetch Metadata at all shows the page.
        for site in [Some("cross-site"), Some("same-site"), None] {
            let url = Pkce::new().authorize_url(base, &client_id, redirect, &[]);
            let start = match site {
                Some(site) => browser.get_with_fetch_site(&url, site).await,
                None => browser.get(&url).await,
            };
            let back = browser
                .sign_in_at_entra(start.location.as_deref().unwrap(), "alice")
                .await;
            let third = browser.get(back.location.as_deref().unwrap()).await;
            assert_eq!(
                third.status, 200,
                "Sec-Fetch-Site {site:?}: consent page again ({remember}): {third:?}"
            );
        }
    }
}

#[tokio::test]
async fn the_consent_allow_button_is_armed_late_and_only_its_own_script_may_run() {
    use aws_lc_rs::digest::{SHA256, digest};

    let stack = stack(Options::default()).await;
    let base = &stack.base;
    let redirect = "http://127.0.0.1:9/callback";
    let client_id = register(base, &[redirect]).await;
    let consent = Browser::new()
        .reach_consent(&Pkce::new().authorize_url(base, &client_id, redirect, &[]), "alice")
        .await;
    assert_eq!(consent.status, 200, "{}", consent.body);
    let csp = consent.headers["content-security-policy"].to_str().unwrap().to_owned();
    let script = consent
        .body
        .split("<script>")
        .nth(1)
        .and_then(|rest| rest.split("</script>").next())
        .unwrap();
    assert_eq!(consent.body.matches("<script").count(), 1, "one inline script");
    // Standard, padded base64 (CSP hash sources), from the URL-safe form.
    let mut hash = toolgate_jose::base64url_encode(digest(&SHA256, script.as_bytes()))
        .replace('-', "+")
        .replace('_', "/");
    while !hash.len().is_multiple_of(4) {
        hash.push('=');
    }
    let script_src = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src"))
        .unwrap();
    assert_eq!(script_src, format!("script-src 'sha256-{hash}'"), "{csp}");
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe"), "no unsafe-inline for scripts or styles: {csp}");
    // The page's one <style> is allowed by its hash too, and nothing uses style attributes.
    let style = consent
        .body
        .split("<style>")
        .nth(1)
        .and_then(|rest| rest.split("</style>").next())
        .unwrap();
    let mut style_hash = toolgate_jose::base64url_encode(digest(&SHA256, style.as_bytes()))
        .replace('-', "+")
        .replace('_', "/");
    while !style_hash.len().is_multiple_of(4) {
        style_hash.push('=');
    }
    assert!(csp.contains(&format!("style-src 'sha256-{style_hash}'")), "{csp}");
    assert!(!consent.body.contains("style=\""), "no style attributes");
    // The script disables Allow until the page has been visible and focused for a second…
    assert!(script.contains("document.hasFocus()") && script.contains("visibilitychange"));
    assert!(
        script.contains("b.disabled=true") && script.contains("},1000)"),
        "{script}"
    );
    // …and without JavaScript, CSS keeps pointer input off it for the first second.
    assert!(
        consent
            .body
            .contains("id=\"allow\" name=\"decision\" value=\"approve\"")
    );
    assert!(
        consent.body.contains("#allow{animation:arm 1s steps(1,end) both}")
            && consent.body.contains("from{pointer-events:none"),
        "{}",
        consent.body
    );
}

#[tokio::test]
async fn browser_login_shows_a_one_time_code_for_a_token() {
    let stack = stack(Options::default()).await;
    let base = &stack.base;
    let mut browser = Browser::new();
    let start = browser.get(&format!("{base}/auth/login")).await;
    assert_eq!(start.status, 302);
    let back = browser
        .sign_in_at_entra(start.location.as_deref().unwrap(), "carol")
        .await;
    let page = browser.get(back.location.as_deref().unwrap()).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let code = page
        .body
        .split("<code id=\"code\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap()
        .to_owned();
    let http = reqwest::Client::new();
    let exchange = |code: String| {
        let http = http.clone();
        let url = format!("{base}/auth/exchange");
        async move { http.post(url).form(&[("code", code)]).send().await.unwrap() }
    };
    let first = exchange(code.clone()).await;
    assert_eq!(first.status(), 200);
    let body: Value = first.json().await.unwrap();
    let token = body["access_token"].as_str().unwrap();
    let whoami: Value = http
        .get(format!("{base}/whoami"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(whoami["id"], format!("user:{}/{}", demo::TENANT_ID, demo::CAROL_OID));
    let second = exchange(code).await;
    assert_eq!(second.status(), 400, "single use");
}

#[tokio::test]
async fn tools_get_the_users_entra_token_for_on_behalf_of() {
    let stack = stack(Options::default()).await;
    let (_, tokens) = browser::sign_in(&stack.base, "alice").await;
    let proxy = stack.gateway.entra_proxy.as_ref().unwrap();
    let principal = proxy.signer().principal(&tokens.access_token(), "entra-proxy").unwrap();
    let entra_token = proxy.upstream_access_token(&principal).await.unwrap();
    assert_eq!(format!("{entra_token:?}"), "UpstreamAccessToken([redacted])");
    let entra_token = entra_token.expose_secret();
    assert_ne!(entra_token, tokens.access_token());
    let validator = crate::harness::validator(crate::harness::api_settings(&stack.emulator));
    let verified = validator.validate(entra_token).await.unwrap();
    assert_eq!(
        verified.claims["oid"],
        demo::ALICE_OID,
        "Entra's token for the same user"
    );
}

#[tokio::test]
async fn copilot_studio_reads_the_static_client_from_get_register() {
    let copilot_redirect = "https://global.consent.azure-apim.net/redirect/toolgate";
    let stack = stack(Options {
        proxy_toml: format!(
            "registration = \"static\"\nstatic_client = \"copilot-studio\"\n\n[[auth.proxy.clients]]\nclient_id = \"copilot-studio\"\nclient_name = \"Copilot Studio\"\nredirect_uris = [\"{copilot_redirect}\"]\n"
        ),
        ..Options::default()
    })
    .await;
    let base = &stack.base;
    let (status, got) = get_json(&format!("{base}/register")).await;
    assert_eq!(status, 200, "a read, not a registration");
    assert_eq!(got["client_id"], "copilot-studio");
    assert_eq!(got["redirect_uris"], serde_json::json!([copilot_redirect]));
    assert!(got.get("client_secret").is_none(), "no secret is ever handed out");
    let posted: Value = reqwest::Client::new()
        .post(format!("{base}/register"))
        .json(&serde_json::json!({"redirect_uris": ["https://elsewhere.example/cb"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        posted["client_id"], "copilot-studio",
        "static mode hands out the one client"
    );
    // The static client still goes through consent like any other.
    let mut browser = Browser::new();
    let consent = browser
        .reach_consent(
            &Pkce::new().authorize_url(base, "copilot-studio", copilot_redirect, &[]),
            "bob",
        )
        .await;
    assert!(consent.body.contains("Copilot Studio") && consent.body.contains("pre-registered"));
}

/// Serves one Client ID Metadata Document over plain http on loopback (the test flags allow it:
/// there are no certificates here); returns its URL.
pub(super) async fn serve_metadata_document(
    redirect_uri: &'static str,
    wrong_id: bool,
    jwks: Option<Value>,
) -> (String, tokio::task::JoinHandle<()>) {
    use poem::{EndpointExt, Route, get, handler, web::Data};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/client.json", listener.local_addr().unwrap());
    let client_id = if wrong_id {
        "http://elsewhere.example/client.json".to_owned()
    } else {
        url.clone()
    };
    let mut document = serde_json::json!({
        "client_id": client_id,
        "client_name": "Metadata document client",
        "redirect_uris": [redirect_uri],
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "none",
    });
    if let Some(jwks) = jwks {
        document["jwks"] = jwks;
        document["token_endpoint_auth_method"] = Value::from("private_key_jwt");
    }
    let document = document.to_string();
    #[handler]
    fn document_handler(Data(body): Data<&String>) -> poem::Response {
        poem::Response::builder()
            .content_type("application/json")
            .header("cache-control", "max-age=300")
            .body(body.clone())
    }
    let app = Route::new().at("/client.json", get(document_handler)).data(document);
    let acceptor = poem::listener::TcpAcceptor::from_tokio(listener).unwrap();
    let server = tokio::spawn(async move {
        let _ = poem::Server::new_with_acceptor(acceptor).run(app).await;
    });
    (url, server)
}

#[tokio::test]
async fn a_client_id_metadata_document_client_signs_in_without_registering() {
    let stack = stack(Options {
        proxy_toml: "danger_cimd_allow_http = true\ndanger_cimd_allow_private_addresses = true".into(),
        ..Options::default()
    })
    .await;
    let base = &stack.base;
    let redirect = "http://127.0.0.1:9/callback";
    let (client_id, _server) = serve_metadata_document(redirect, false, None).await;
    let pkce = Pkce::new();
    let mut browser = Browser::new();
    let start = browser.get(&pkce.authorize_url(base, &client_id, redirect, &[])).await;
    assert_eq!(start.status, 302, "{}", start.body);
    let back = browser
        .sign_in_at_entra(start.location.as_deref().unwrap(), "alice")
        .await;
    let consent = browser.get(back.location.as_deref().unwrap()).await;
    assert!(consent.body.contains("Metadata document client"), "{}", consent.body);
    assert!(
        consent.body.contains("described by its metadata document at"),
        "{}",
        consent.body
    );
    let done = browser.decide(base, &consent, "approve").await;
    let tokens = redeem(
        base,
        &client_id,
        redirect,
        &done.location_param("code").unwrap(),
        &pkce.verifier,
    )
    .await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    let claims = CompactJws::parse(&tokens.access_token()).unwrap().payload;
    assert_eq!(claims["client_id"], client_id.as_str());
    // A redirect URI the document does not list is refused.
    let other = browser
        .get(&pkce.authorize_url(base, &client_id, "http://127.0.0.1:9/elsewhere", &[]))
        .await;
    assert_eq!(other.status, 400);

    // A document whose client_id is not its own URL is refused.
    let (impostor, _server) = serve_metadata_document(redirect, true, None).await;
    let refused = browser.get(&pkce.authorize_url(base, &impostor, redirect, &[])).await;
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("Client metadata refused"), "{}", refused.body);
}

#[tokio::test]
async fn entra_tokens_are_refreshed_when_they_near_expiry() {
    let stack = super::ClockStack::start(crate::harness::emulator().await, |_| {}).await;
    let (base, proxy, clock, validator) = (&stack.base, &stack.proxy, &stack.clock, &stack.validator);
    let (client_id, tokens) = browser::sign_in(base, "alice").await;
    let principal = proxy.signer().principal(&tokens.access_token(), "entra-proxy").unwrap();
    let first = proxy.upstream_access_token(&principal).await.unwrap();
    assert_eq!(
        proxy.upstream_access_token(&principal).await.unwrap(),
        first,
        "fresh: no refresh yet"
    );

    // Almost an hour later Entra's token is inside the five-minute margin: a client refresh
    // refreshes it at Entra first (and re-validates it).
    clock.advance(3500);
    let refreshed = refresh(base, &client_id, &tokens.refresh_token()).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let principal = proxy
        .signer()
        .principal(&refreshed.access_token(), "entra-proxy")
        .unwrap();
    let second = proxy.upstream_access_token(&principal).await.unwrap();
    assert_ne!(second, first, "Entra's token was refreshed");
    let verified = validator.validate(second.expose_secret()).await.unwrap();
    assert_eq!(verified.claims["oid"], demo::ALICE_OID);
}

#[tokio::test]
async fn multi_tenant_sign_in_goes_through_organizations_and_the_allow_list() {
    for (allowed, frank_admitted) in [
        (vec![demo::TENANT_ID, demo::FABRIKAM_TENANT_ID], true),
        (vec![demo::TENANT_ID], false),
    ] {
        let allowed_toml = allowed
            .iter()
            .map(|t| format!("\"{t}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let stack = stack(Options {
            entra_toml: format!("tenancy = \"multi\"\nallowed_tenants = [{allowed_toml}]"),
            ..Options::default()
        })
        .await;
        let base = &stack.base;
        let redirect = "http://127.0.0.1:9/callback";
        let client_id = register(base, &[redirect]).await;
        let pkce = Pkce::new();
        let mut browser = Browser::new();
        let start = browser.get(&pkce.authorize_url(base, &client_id, redirect, &[])).await;
        assert!(
            start
                .location
                .as_deref()
                .unwrap()
                .contains("/organizations/oauth2/v2.0/authorize"),
            "{start:?}"
        );
        let back = browser
            .sign_in_at_entra(start.location.as_deref().unwrap(), "frank")
            .await;
        let reply = browser.get(back.location.as_deref().unwrap()).await;
        if frank_admitted {
            assert_eq!(reply.status, 200, "consent page for a fabrikam user: {}", reply.body);
            let done = browser.decide(base, &reply, "approve").await;
            let tokens = redeem(
                base,
                &client_id,
                redirect,
                &done.location_param("code").unwrap(),
                &pkce.verifier,
            )
            .await;
            let claims = CompactJws::parse(&tokens.access_token()).unwrap().payload;
            assert_eq!(claims["tid"], demo::FABRIKAM_TENANT_ID);
        } else {
            assert_eq!(
                reply.location_param("error").as_deref(),
                Some("access_denied"),
                "{reply:?}"
            );
            let refused: Vec<_> = stack
                .audit_rows()
                .await
                .into_iter()
                .filter(|row| row.outcome == "signin_refused")
                .map(|row| row.reason_code.unwrap_or_default())
                .collect();
            assert_eq!(refused, ["tenant_not_allowed"]);
        }
    }
}

/// A whole authorization for a `private_key_jwt` client, redeemed with `client_assertion`.
async fn redeem_with_assertion(base: &str, client_id: &str, redirect: &str, client_assertion: &str) -> browser::Tokens {
    let pkce = Pkce::new();
    let mut browser = Browser::new();
    let done = browser::authorize(
        &mut browser,
        base,
        &pkce.authorize_url(base, client_id, redirect, &[]),
        "alice",
    )
    .await;
    let code = done.location_param("code").unwrap();
    browser::token_request(
        base,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", client_id),
            ("redirect_uri", redirect),
            ("code", &code),
            ("code_verifier", &pkce.verifier),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", client_assertion),
        ],
    )
    .await
}

#[tokio::test]
async fn a_metadata_document_client_authenticates_with_private_key_jwt() {
    use toolgate_jose::{RsaSigningKey, encode_compact};

    let stack = stack(Options {
        proxy_toml: "danger_cimd_allow_http = true\ndanger_cimd_allow_private_addresses = true".into(),
        ..Options::default()
    })
    .await;
    let base = &stack.base;
    let redirect = "http://127.0.0.1:9/callback";
    let key = RsaSigningKey::generate("client-key-1").unwrap();
    let jwks = serde_json::json!({ "keys": [key.public_jwk()] });
    let (client_id, _server) = serve_metadata_document(redirect, false, Some(jwks)).await;
    let now = crate::harness::now();
    let assertion = |signer: &RsaSigningKey, aud: &str, jti: &str, exp: i64| {
        let claims =
            serde_json::json!({"iss": client_id, "sub": client_id, "aud": aud, "jti": jti, "exp": exp, "iat": now});
        encode_compact(serde_json::Map::new(), &claims, signer).unwrap()
    };
    let token_endpoint = format!("{base}/token");

    let good = assertion(&key, &token_endpoint, "jti-1", now + 60);
    let accepted = redeem_with_assertion(base, &client_id, redirect, &good).await;
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    let replayed = redeem_with_assertion(base, &client_id, redirect, &good).await;
    assert_eq!(
        (replayed.status, replayed.error()),
        (401, "invalid_client"),
        "an assertion is single-use"
    );
    let other_key = RsaSigningKey::generate("client-key-1").unwrap();
    for (why, bad) in [
        (
            "signed by another key",
            assertion(&other_key, &token_endpoint, "jti-2", now + 60),
        ),
        (
            "for another token endpoint",
            assertion(&key, "https://other.example/token", "jti-3", now + 60),
        ),
        ("living an hour", assertion(&key, &token_endpoint, "jti-4", now + 3600)),
        ("expired", assertion(&key, &token_endpoint, "jti-5", now - 10)),
    ] {
        let refused = redeem_with_assertion(base, &client_id, redirect, &bad).await;
        assert_eq!(
            (refused.status, refused.error()),
            (401, "invalid_client"),
            "{why}: {}",
            refused.body
        );
    }
    // Without an assertion the client is not authenticated at all.
    let pkce = Pkce::new();
    let mut browser = Browser::new();
    let done = browser::authorize(
        &mut browser,
        base,
        &pkce.authorize_url(base, &client_id, redirect, &[]),
        "alice",
    )
    .await;
    let bare = redeem(
        base,
        &client_id,
        redirect,
        &done.location_param("code").unwrap(),
        &pkce.verifier,
    )
    .await;
    assert_eq!((bare.status, bare.error()), (401, "invalid_client"));
}

/// What Cursor registers (RFC 7591), and the variants other versions send.
const CURSOR_REDIRECTS: [&str; 3] = [
    "cursor://anysphere.cursor-mcp/oauth/callback",
    "https://cursor.example/oauth/callback",
    "http://localhost:8787/callback",
];

fn cursor_registration(application_type: Option<&str>, redirect_uris: &[&str]) -> Value {
    let mut body = serde_json::json!({
        "client_name": "Cursor",
        "redirect_uris": redirect_uris,
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    });
    if let Some(application_type) = application_type {
        body["application_type"] = Value::from(application_type);
    }
    body
}

#[tokio::test]
async fn cursor_style_registrations_are_accepted_and_every_redirect_uri_works() {
    let stack = stack(Options::default()).await;
    let base = &stack.base;
    let mut cursor_client = None;
    for (application_type, uris) in [
        (Some("web"), &CURSOR_REDIRECTS[..]),
        (None, &CURSOR_REDIRECTS[..]),
        (Some("web"), &CURSOR_REDIRECTS[1..]),
        (None, &CURSOR_REDIRECTS[1..]),
        (Some("native"), &["myapp:/cb"][..]),
    ] {
        let (status, registered) = register_json(base, &cursor_registration(application_type, uris)).await;
        assert_eq!(status, 201, "{application_type:?} {uris:?}: {registered}");
        assert_eq!(
            registered["application_type"], "native",
            "a web label with native redirects is treated as native"
        );
        assert_eq!(registered["redirect_uris"], serde_json::json!(uris));
        let client_id = registered["client_id"].as_str().unwrap().to_owned();
        for uri in uris {
            let reply = Browser::new()
                .get(&Pkce::new().authorize_url(base, &client_id, uri, &[]))
                .await;
            assert_eq!(reply.status, 302, "{uri}: {}", reply.body);
            assert!(
                reply
                    .location
                    .as_deref()
                    .unwrap()
                    .starts_with(&stack.emulator.base_url()),
                "{uri}: on to Entra"
            );
        }
        cursor_client.get_or_insert(client_id);
    }

    // The whole flow through each of Cursor's redirect URIs (the loopback one on another port):
    // the consent page names where the user will be sent, and the code redeems.
    let client_id = cursor_client.unwrap();
    for (uri, shown) in [
        (
            CURSOR_REDIRECTS[0],
            "the app on this device that opens cursor://anysphere.cursor-mcp links",
        ),
        (CURSOR_REDIRECTS[1], "the website cursor.example"),
        (
            "http://localhost:50123/callback",
            "an app on this computer (localhost port 50123)",
        ),
    ] {
        let pkce = Pkce::new();
        let mut browser = Browser::new();
        let consent = browser
            .reach_consent(&pkce.authorize_url(base, &client_id, uri, &[]), "alice")
            .await;
        assert_eq!(consent.status, 200, "{uri}: {}", consent.body);
        assert!(
            consent.body.contains(shown),
            "{uri}: consent page lacks {shown:?}: {}",
            consent.body
        );
        let done = browser.decide(base, &consent, "approve").await;
        assert!(done.location.as_deref().unwrap().starts_with(uri), "{done:?}");
        assert_eq!(done.location_param("state"), Some(pkce.state.clone()));
        let tokens = redeem(
            base,
            &client_id,
            uri,
            &done.location_param("code").unwrap(),
            &pkce.verifier,
        )
        .await;
        assert_eq!(tokens.status, 200, "{uri}: {}", tokens.body);
    }
}

#[tokio::test]
async fn unsafe_redirect_schemes_are_refused_at_registration() {
    let stack = stack(Options::default()).await;
    for uri in [
        "javascript:alert(1)",
        "data:text/html,hi",
        "file:///etc/passwd",
        "vbscript:msgbox(1)",
        "about:blank",
        "blob:https://x.example/1",
        "filesystem:https://x.example/t/x",
        "view-source:https://x.example/",
        "chrome-extension://abc/cb.html",
        "ftp://x.example/cb",
        "ws://127.0.0.1/cb",
        "mailto:a@x.example",
        "http://x.example/cb",
        "c:/windows/cb",
    ] {
        let (status, answer) = register_json(&stack.base, &cursor_registration(None, &[uri])).await;
        assert_eq!(
            (status, answer["error"].as_str()),
            (400, Some("invalid_redirect_uri")),
            "{uri}: {answer}"
        );
    }
}

#[tokio::test]
async fn an_authorization_without_state_proceeds_and_its_redirects_carry_no_state() {
    let stack = stack(Options::default()).await;
    let base = &stack.base;
    let redirect = "http://127.0.0.1:9/callback";
    let client_id = register(base, &[redirect]).await;
    let pkce = Pkce::new();
    let mut browser = Browser::new();
    let no_state = pkce.authorize_url(base, &client_id, redirect, &[("state", "")]);
    assert!(!no_state.contains("state="), "{no_state}");
    let done = browser::authorize(&mut browser, base, &no_state, "alice").await;
    assert_eq!(done.status, 302, "{done:?}");
    let location = done.location.clone().unwrap();
    assert!(location.starts_with(redirect), "{location}");
    assert_eq!(
        done.location_param("state"),
        None,
        "no state when none was sent: {location}"
    );
    assert_eq!(done.location_param("iss"), Some(base.clone()));
    let tokens = redeem(
        base,
        &client_id,
        redirect,
        &done.location_param("code").unwrap(),
        &pkce.verifier,
    )
    .await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    // A refusal without state carries none either.
    let consent = browser
        .reach_consent(
            &Pkce::new().authorize_url(base, &client_id, redirect, &[("state", "")]),
            "alice",
        )
        .await;
    let denied = browser.decide(base, &consent, "deny").await;
    assert_eq!(denied.location_param("error").as_deref(), Some("access_denied"));
    assert_eq!(denied.location_param("state"), None, "{denied:?}");
}

#[tokio::test]
async fn unknown_scopes_are_ignored_from_registration_to_refresh() {
    let stack = stack(Options::default()).await;
    let base = &stack.base;
    let redirect = "https://claude.ai/api/mcp/auth_callback";
    // Claude registers with `scope: "claudeai"`.
    let (status, registered) = register_json(
        base,
        &serde_json::json!({
            "client_name": "Claude",
            "redirect_uris": [redirect],
            "grant_types": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_method": "none",
            "scope": "claudeai",
        }),
    )
    .await;
    assert_eq!(status, 201, "{registered}");
    assert_eq!(registered["scope"], "access_as_user", "what the client will get");
    let client_id = registered["client_id"].as_str().unwrap().to_owned();
    for requested in ["claudeai", "claudeai access_as_user"] {
        let pkce = Pkce::new();
        let mut browser = Browser::new();
        let url = pkce.authorize_url(base, &client_id, redirect, &[("scope", requested)]);
        let start = browser.get(&url).await;
        assert_eq!(start.status, 302, "{requested}: {}", start.body);
        let entra = url::Url::parse(start.location.as_deref().unwrap()).unwrap();
        let entra_scope = entra
            .query_pairs()
            .find(|(k, _)| k == "scope")
            .map(|(_, v)| v.into_owned())
            .unwrap();
        assert!(
            entra_scope.contains(demo::API_SCOPE_ACCESS_AS_USER) && !entra_scope.contains("claudeai"),
            "{requested}: {entra_scope}"
        );
        let back = browser.sign_in_at_entra(entra.as_str(), "alice").await;
        let consent = browser.get(back.location.as_deref().unwrap()).await;
        assert_eq!(consent.status, 200, "{requested}: {}", consent.body);
        assert!(!consent.body.contains("claudeai"), "only granted scopes are shown");
        let done = browser.decide(base, &consent, "approve").await;
        let tokens = redeem(
            base,
            &client_id,
            redirect,
            &done.location_param("code").unwrap(),
            &pkce.verifier,
        )
        .await;
        assert_eq!(tokens.status, 200, "{requested}: {}", tokens.body);
        assert_eq!(tokens.body["scope"], "access_as_user", "{requested}");
        let claims = CompactJws::parse(&tokens.access_token()).unwrap().payload;
        assert_eq!(claims["scp"], "access_as_user", "{requested}");
        assert_eq!(claims["scope"], "access_as_user", "{requested}");
        // A refresh asking for the same again is narrowed the same way.
        let refreshed = browser::token_request(
            base,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", &client_id),
                ("refresh_token", &tokens.refresh_token()),
                ("scope", requested),
            ],
        )
        .await;
        assert_eq!(refreshed.status, 200, "{requested}: {}", refreshed.body);
        assert_eq!(refreshed.body["scope"], "access_as_user");
        let claims = CompactJws::parse(&refreshed.access_token()).unwrap().payload;
        assert_eq!(claims["scp"], "access_as_user");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn entra_briefly_unreachable_leaves_the_refresh_token_usable() {
    // Entra behind a link the test can cut; the proxy's clock moves so Entra's token needs refreshing.
    let emulator = crate::harness::emulator().await;
    let link = super::Cuttable::start(super::emulator_addr(&emulator)).await;
    let stack = super::ClockStack::start(emulator, |config| {
        config.upstream.authority_host = format!("http://{}", link.addr);
    })
    .await;
    let base = &stack.base;
    let (client_id, tokens) = browser::sign_in(base, "alice").await;
    let first = tokens.refresh_token();
    stack.clock.advance(3500);

    link.cut();
    for attempt in 0..2 {
        let failed = refresh(base, &client_id, &first).await;
        assert_eq!(
            (failed.status, failed.error()),
            (503, "temporarily_unavailable"),
            "attempt {attempt}: {}",
            failed.body
        );
    }
    link.restore();
    // The retry with the same token succeeds: the failed attempts consumed nothing.
    let rotated = refresh(base, &client_id, &first).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    assert_ne!(rotated.refresh_token(), first);
    // Real reuse — the token was exchanged, then presented again — still revokes the family.
    let replay = refresh(base, &client_id, &first).await;
    assert_eq!(
        (replay.status, replay.error()),
        (400, "invalid_grant"),
        "{}",
        replay.body
    );
    assert!(replay.body["error_description"].as_str().unwrap().contains("reuse"));
    let newest = refresh(base, &client_id, &rotated.refresh_token()).await;
    assert_eq!(newest.error(), "invalid_grant", "the whole family is revoked");

    // Entra unreachable when the proxy redeems the sign-in's code: the client hears
    // `temporarily_unavailable` at its redirect URI.
    let redirect = "http://127.0.0.1:9/callback";
    let client_id = register(base, &[redirect]).await;
    let pkce = Pkce::new();
    let mut browser = Browser::new();
    let start = browser.get(&pkce.authorize_url(base, &client_id, redirect, &[])).await;
    let back = browser
        .sign_in_at_entra(start.location.as_deref().unwrap(), "alice")
        .await;
    link.cut();
    let reply = browser.get(back.location.as_deref().unwrap()).await;
    assert_eq!(reply.status, 302, "{reply:?}");
    assert!(reply.location.as_deref().unwrap().starts_with(redirect));
    assert_eq!(
        reply.location_param("error").as_deref(),
        Some("temporarily_unavailable")
    );
    assert_eq!(reply.location_param("state"), Some(pkce.state.clone()));
    assert_eq!(reply.location_param("iss"), Some(base.clone()));
}

//! The Entra emulator over real HTTP: each test starts its own emulator on 127.0.0.1:0 and
//! talks to it with a client that does not follow redirects (OAuth answers are 302s to inspect).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use aws_lc_rs::digest;
use reqwest::StatusCode;
use serde_json::{Map, Value, json};
use toolgate_emulator::demo::{self, *};
use toolgate_emulator::{Emulator, EmulatorConfig, RunningEmulator, TokenRequestSpec};
use toolgate_jose::{CompactJws, JwkSet, RsaPublicKey, base64url_encode};

use crate::raw_http::{Framing, status_for_endless_body};

async fn start() -> RunningEmulator {
    Emulator::start(EmulatorConfig::demo(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn claims(token: &str) -> Map<String, Value> {
    CompactJws::parse(token).unwrap().payload
}

fn pkce() -> (String, String) {
    let verifier = format!("verifier-{}-0123456789abcdefghijklmnopqrstuvwxyz", std::process::id());
    let challenge = base64url_encode(digest::digest(&digest::SHA256, verifier.as_bytes()).as_ref());
    (verifier, challenge)
}

fn authorize_url(emu: &RunningEmulator, tenant: &str) -> String {
    format!("{}/{tenant}/oauth2/v2.0/authorize", emu.base_url())
}

fn token_url(emu: &RunningEmulator) -> String {
    format!("{}/{TENANT_ID}/oauth2/v2.0/token", emu.base_url())
}

fn location(resp: &reqwest::Response) -> url::Url {
    assert_eq!(resp.status(), StatusCode::FOUND, "expected a redirect");
    url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap()
}

fn query(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// Silent sign-in (`prompt=none` + `login_hint`) returning the code.
async fn silent_code(
    emu: &RunningEmulator,
    client_id: &str,
    redirect: &str,
    scope: &str,
    user: &str,
    extra: &[(&str, &str)],
) -> String {
    let mut params = vec![
        ("client_id", client_id),
        ("response_type", "code"),
        ("redirect_uri", redirect),
        ("scope", scope),
        ("state", "s1"),
        ("prompt", "none"),
        ("login_hint", user),
    ];
    params.extend_from_slice(extra);
    let resp = http()
        .get(authorize_url(emu, TENANT_ID))
        .query(&params)
        .send()
        .await
        .unwrap();
    let loc = location(&resp);
    assert_eq!(query(&loc, "state").as_deref(), Some("s1"));
    query(&loc, "code").unwrap_or_else(|| panic!("no code in {loc}"))
}

async fn post_token(emu: &RunningEmulator, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let resp = http().post(token_url(emu)).form(form).send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

/// A code for alice through the public CLI client with PKCE S256, then its token response.
async fn cli_tokens(emu: &RunningEmulator, user: &str, scope: &str) -> Value {
    let (verifier, challenge) = pkce();
    let redirect = "http://localhost:53682";
    let code = silent_code(
        emu,
        CLI_CLIENT_ID,
        redirect,
        scope,
        user,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("nonce", "n-123"),
        ],
    )
    .await;
    let (status, body) = post_token(
        emu,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLI_CLIENT_ID),
            ("code", &code),
            ("redirect_uri", redirect),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn assert_entra_error(body: &Value, error: &str, code: u64) {
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["error_codes"], json!([code]), "{body}");
    let description = body["error_description"].as_str().unwrap();
    assert!(description.starts_with(&format!("AADSTS{code}: ")), "{description}");
    assert!(
        description.contains("\r\nTrace ID: ") && description.contains("\r\nCorrelation ID: "),
        "{description}"
    );
    uuid::Uuid::parse_str(body["trace_id"].as_str().unwrap()).unwrap();
    uuid::Uuid::parse_str(body["correlation_id"].as_str().unwrap()).unwrap();
    assert!(body["timestamp"].as_str().unwrap().ends_with('Z'));
}

async fn jwks(emu: &RunningEmulator, tenant: &str) -> JwkSet {
    let url = format!("{}/{tenant}/discovery/v2.0/keys", emu.base_url());
    http().get(url).send().await.unwrap().json().await.unwrap()
}

/// Verifies a token against the published JWKS, as a validator would.
async fn verifies_with_jwks(emu: &RunningEmulator, token: &str) -> bool {
    let jws = CompactJws::parse(token).unwrap();
    let kid = jws.header_str("kid").unwrap().to_owned();
    let set = jwks(emu, TENANT_ID).await;
    set.keys.iter().filter(|k| k.kid.as_deref() == Some(&kid)).any(|k| {
        RsaPublicKey::from_jwk(k)
            .unwrap()
            .verify_rs256(jws.signing_input.as_bytes(), &jws.signature)
            .is_ok()
    })
}

#[tokio::test]
async fn discovery_documents_match_entra() {
    let emu = start().await;
    let base = emu.base_url();
    let v2: Value = http()
        .get(format!("{base}/{TENANT_ID}/v2.0/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v2["issuer"], emu.v2_issuer(TENANT_ID));
    assert_eq!(v2["jwks_uri"], format!("{base}/{TENANT_ID}/discovery/v2.0/keys"));
    assert_eq!(
        v2["authorization_endpoint"],
        format!("{base}/{TENANT_ID}/oauth2/v2.0/authorize")
    );
    assert_eq!(v2["token_endpoint"], format!("{base}/{TENANT_ID}/oauth2/v2.0/token"));
    assert_eq!(v2["id_token_signing_alg_values_supported"], json!(["RS256"]));
    assert!(v2.get("code_challenge_methods_supported").is_none());
    // The domain names the same tenant.
    let by_domain: Value = http()
        .get(format!("{base}/{TENANT_DOMAIN}/v2.0/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(by_domain["issuer"], emu.v2_issuer(TENANT_ID));
    let v1: Value = http()
        .get(format!("{base}/{TENANT_ID}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v1["issuer"], emu.v1_issuer(TENANT_ID));
    assert!(v1["issuer"].as_str().unwrap().ends_with('/'));
    for multi in ["common", "organizations"] {
        let doc: Value = http()
            .get(format!("{base}/{multi}/v2.0/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(doc["issuer"], format!("{base}/{{tenantid}}/v2.0"));
        assert_eq!(doc["token_endpoint"], format!("{base}/{multi}/oauth2/v2.0/token"));
    }
    for path in [
        "/.well-known/oauth-authorization-server",
        &format!("/{TENANT_ID}/v2.0/.well-known/oauth-authorization-server"),
        &format!("/.well-known/oauth-authorization-server/{TENANT_ID}/v2.0"),
    ] {
        let resp = http().get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let unknown = http()
        .get(format!("{base}/nosuchtenant/v2.0/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    assert_eq!(emu.metadata_fetch_count(), 6);
}

#[tokio::test]
async fn jwks_has_entra_shape() {
    let emu = start().await;
    let set = jwks(&emu, TENANT_ID).await;
    assert_eq!(set.keys.len(), 1);
    let key = &set.keys[0];
    assert_eq!(key.kty, "RSA");
    assert_eq!(key.key_use.as_deref(), Some("sig"));
    assert_eq!(key.kid.as_deref(), Some(emu.active_kid().as_str()));
    assert_eq!(key.x5t, key.kid, "Entra's kid is the x5t");
    assert!(key.n.as_ref().unwrap().len() > 300 && key.e.as_deref() == Some("AQAB"));
    assert_eq!(key.issuer.as_deref(), Some(emu.v2_issuer(TENANT_ID).as_str()));
    let common = jwks(&emu, "common").await;
    assert_eq!(
        common.keys[0].issuer.as_deref(),
        Some(format!("{}/{{tenantid}}/v2.0", emu.base_url()).as_str())
    );
    let v1: JwkSet = http()
        .get(format!("{}/{TENANT_ID}/discovery/keys", emu.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v1.keys[0].kid, key.kid);
    assert!(v1.keys[0].issuer.is_none());
    assert_eq!(emu.jwks_fetch_count(), 3);
}

#[tokio::test]
async fn authorize_refuses_unregistered_redirect_with_an_error_page() {
    let emu = start().await;
    let resp = http()
        .get(authorize_url(&emu, TENANT_ID))
        .query(&[
            ("client_id", API_CLIENT_ID),
            ("response_type", "code"),
            ("redirect_uri", "https://evil.example/cb"),
            ("scope", API_SCOPE_ACCESS_AS_USER),
            ("state", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.headers().get("location").is_none());
    assert!(resp.text().await.unwrap().contains("AADSTS50011"));
    // An unknown client is also an error page.
    let resp = http()
        .get(authorize_url(&emu, TENANT_ID))
        .query(&[
            ("client_id", "00000000-0000-4000-8000-00000000dead"),
            ("response_type", "code"),
            ("redirect_uri", "http://localhost/"),
            ("scope", "openid"),
        ])
        .send()
        .await
        .unwrap();
    assert!(resp.text().await.unwrap().contains("AADSTS700016"));
    // The CLI registered `http://localhost`: any port and path-less root match; another path does not.
    let code = silent_code(
        &emu,
        CLI_CLIENT_ID,
        "http://localhost:49152",
        API_SCOPE_ACCESS_AS_USER,
        "alice",
        &[],
    )
    .await;
    assert!(!code.is_empty());
    let resp = http()
        .get(authorize_url(&emu, TENANT_ID))
        .query(&[
            ("client_id", CLI_CLIENT_ID),
            ("response_type", "code"),
            ("redirect_uri", "http://localhost:49152/elsewhere"),
            ("scope", API_SCOPE_ACCESS_AS_USER),
        ])
        .send()
        .await
        .unwrap();
    assert!(resp.text().await.unwrap().contains("AADSTS50011"));
}

#[tokio::test]
async fn authorize_rejects_resource_mismatch_and_two_resources() {
    let emu = start().await;
    let base = [
        ("client_id", CLI_CLIENT_ID),
        ("response_type", "code"),
        ("redirect_uri", "http://localhost:1234"),
        ("state", "st"),
        ("prompt", "none"),
        ("login_hint", "alice"),
    ];
    let mut params = base.to_vec();
    params.push(("scope", API_SCOPE_ACCESS_AS_USER));
    params.push(("resource", "https://toolgate.example/mcp"));
    let loc = location(
        &http()
            .get(authorize_url(&emu, TENANT_ID))
            .query(&params)
            .send()
            .await
            .unwrap(),
    );
    assert_eq!(query(&loc, "error").as_deref(), Some("invalid_target"));
    assert!(query(&loc, "error_description").unwrap().starts_with("AADSTS9010010:"));
    assert_eq!(query(&loc, "state").as_deref(), Some("st"));
    // The matching resource is accepted.
    let mut params = base.to_vec();
    params.push(("scope", API_SCOPE_ACCESS_AS_USER));
    params.push(("resource", API_IDENTIFIER_URI));
    let loc = location(
        &http()
            .get(authorize_url(&emu, TENANT_ID))
            .query(&params)
            .send()
            .await
            .unwrap(),
    );
    assert!(query(&loc, "code").is_some());
    let mut params = base.to_vec();
    let two = format!("{API_SCOPE_ACCESS_AS_USER} {DOWNSTREAM_SCOPE_DATA_READ}");
    params.push(("scope", &two));
    let loc = location(
        &http()
            .get(authorize_url(&emu, TENANT_ID))
            .query(&params)
            .send()
            .await
            .unwrap(),
    );
    assert!(query(&loc, "error_description").unwrap().starts_with("AADSTS28000:"));
    let mut params = base.to_vec();
    let bad = format!("{API_IDENTIFIER_URI}/Nope.Write");
    params.push(("scope", &bad));
    let loc = location(
        &http()
            .get(authorize_url(&emu, TENANT_ID))
            .query(&params)
            .send()
            .await
            .unwrap(),
    );
    assert!(query(&loc, "error_description").unwrap().starts_with("AADSTS70011:"));
}

#[tokio::test]
async fn login_page_lists_tenant_users_escapes_and_posts_back_a_code() {
    let emu = start().await;
    let evil_state = "\"><script>alert(1)</script>";
    let params = [
        ("client_id", CLI_CLIENT_ID),
        ("response_type", "code"),
        ("redirect_uri", "http://localhost:9999"),
        ("scope", API_SCOPE_ACCESS_AS_USER),
        ("state", evil_state),
    ];
    let resp = http()
        .get(authorize_url(&emu, TENANT_ID))
        .query(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let page = resp.text().await.unwrap();
    assert!(page.contains("alice@contoso.example") && page.contains("Carol Admin"));
    assert!(!page.contains("frank"), "fabrikam users are not on contoso's page");
    assert!(!page.contains("<script>"), "state must be escaped");
    assert!(page.contains("&lt;script&gt;") || page.contains("&quot;&gt;"));
    assert!(page.contains(&format!("action=\"/{TENANT_ID}/oauth2/v2.0/authorize\"")));
    let mut form: Vec<(&str, &str)> = params.to_vec();
    form.push(("username", "alice"));
    let loc = location(
        &http()
            .post(authorize_url(&emu, TENANT_ID))
            .form(&form)
            .send()
            .await
            .unwrap(),
    );
    assert!(loc.as_str().starts_with("http://localhost:9999/?"));
    assert!(query(&loc, "code").is_some() && query(&loc, "session_state").is_some());
    assert_eq!(query(&loc, "state").as_deref(), Some(evil_state));
}

#[tokio::test]
async fn prompt_none_needs_a_known_login_hint() {
    let emu = start().await;
    let code = silent_code(
        &emu,
        CLI_CLIENT_ID,
        "http://localhost",
        API_SCOPE_ACCESS_AS_USER,
        "bob@contoso.example",
        &[],
    )
    .await;
    assert!(code.len() > 20);
    let params = [
        ("client_id", CLI_CLIENT_ID),
        ("response_type", "code"),
        ("redirect_uri", "http://localhost"),
        ("scope", API_SCOPE_ACCESS_AS_USER),
        ("prompt", "none"),
        ("state", "q"),
    ];
    let loc = location(
        &http()
            .get(authorize_url(&emu, TENANT_ID))
            .query(&params)
            .send()
            .await
            .unwrap(),
    );
    assert_eq!(query(&loc, "error").as_deref(), Some("login_required"));
    assert!(query(&loc, "error_description").unwrap().starts_with("AADSTS50058:"));
    assert!(query(&loc, "code").is_none());
}

#[tokio::test]
async fn auth_code_with_pkce_gives_entra_shaped_tokens() {
    let emu = start().await;
    let body = cli_tokens(
        &emu,
        "alice",
        &format!("{API_SCOPE_ACCESS_AS_USER} openid profile offline_access"),
    )
    .await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert!(body["ext_expires_in"].is_number());
    assert!(body["scope"].as_str().unwrap().contains(API_SCOPE_ACCESS_AS_USER));
    let at = body["access_token"].as_str().unwrap();
    let jws = CompactJws::parse(at).unwrap();
    assert_eq!(jws.header_str("typ"), Some("JWT"));
    assert_eq!(jws.header_str("alg"), Some("RS256"));
    assert_eq!(jws.header_str("kid"), Some(emu.active_kid().as_str()));
    assert!(jws.header.get("nonce").is_none());
    assert!(verifies_with_jwks(&emu, at).await);
    let c = jws.payload;
    assert_eq!(c["aud"], API_CLIENT_ID);
    assert_eq!(c["iss"], emu.v2_issuer(TENANT_ID));
    assert_eq!(c["ver"], "2.0");
    assert_eq!(c["scp"], "access_as_user");
    assert_eq!(c["roles"], json!(["Task.Read", "Task.Write"]));
    assert_eq!(c["oid"], ALICE_OID);
    assert_eq!(c["tid"], TENANT_ID);
    assert_eq!(c["azp"], CLI_CLIENT_ID);
    assert_eq!(c["azpacr"], "0");
    assert_eq!(c["preferred_username"], "alice@contoso.example");
    assert_eq!(c["groups"], json!([ENGINEERING_GROUP]));
    assert_eq!(c["acct"], 0);
    assert!(c.get("idtyp").is_none() && c.get("idp").is_none());
    let (iat, exp) = (c["iat"].as_i64().unwrap(), c["exp"].as_i64().unwrap());
    assert_eq!(exp - iat, 3600);
    // Pairwise sub: stable for the same app, different for another app, never the oid.
    let sub = c["sub"].as_str().unwrap();
    assert_ne!(sub, ALICE_OID);
    let same_app = emu
        .access_token_claims(&TokenRequestSpec {
            tenant: TENANT_ID.into(),
            client_id: CLI_CLIENT_ID.into(),
            user: Some("alice".into()),
            scopes: vec![API_SCOPE_ACCESS_AS_USER.into()],
        })
        .unwrap();
    assert_eq!(same_app["sub"], sub);
    let other_app = emu
        .access_token_claims(&TokenRequestSpec {
            tenant: TENANT_ID.into(),
            client_id: API_V1_CLIENT_ID.into(),
            user: Some("alice".into()),
            scopes: vec![API_SCOPE_ACCESS_AS_USER.into()],
        })
        .unwrap();
    assert_ne!(other_app["sub"], sub);
    // The ID token is for the client, echoes the nonce, and has no scp/roles.
    let id = claims(body["id_token"].as_str().unwrap());
    assert_eq!(id["aud"], CLI_CLIENT_ID);
    assert_eq!(id["nonce"], "n-123");
    assert!(id.get("scp").is_none() && id.get("roles").is_none());
    assert!(body["refresh_token"].is_string());
}

#[tokio::test]
async fn wrong_verifier_is_refused_with_entra_error_shape_and_codes_are_single_use() {
    let emu = start().await;
    let (verifier, challenge) = pkce();
    let redirect = "http://localhost:7777";
    let extra = [
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let code = silent_code(&emu, CLI_CLIENT_ID, redirect, API_SCOPE_ACCESS_AS_USER, "alice", &extra).await;
    let (status, body) = post_token(
        &emu,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLI_CLIENT_ID),
            ("code", &code),
            ("redirect_uri", redirect),
            ("code_verifier", "not-the-verifier-at-all-0123456789012345678"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_entra_error(&body, "invalid_grant", 501481);
    // Replay of a redeemed code.
    let code = silent_code(&emu, CLI_CLIENT_ID, redirect, API_SCOPE_ACCESS_AS_USER, "alice", &extra).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", CLI_CLIENT_ID),
        ("code", code.as_str()),
        ("redirect_uri", redirect),
        ("code_verifier", verifier.as_str()),
    ];
    assert_eq!(post_token(&emu, &form).await.0, StatusCode::OK);
    let (status, body) = post_token(&emu, &form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_entra_error(&body, "invalid_grant", 54005);
    let (_, body) = post_token(
        &emu,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLI_CLIENT_ID),
            ("code", "1.Abogus"),
            ("redirect_uri", redirect),
        ],
    )
    .await;
    assert_entra_error(&body, "invalid_grant", 70008);
}

#[tokio::test]
async fn confidential_web_client_needs_its_secret() {
    let emu = start().await;
    let redirect = "http://localhost:8080/auth/callback";
    let code = silent_code(&emu, API_CLIENT_ID, redirect, API_SCOPE_ACCESS_AS_USER, "alice", &[]).await;
    let (status, body) = post_token(
        &emu,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", API_CLIENT_ID),
            ("code", &code),
            ("redirect_uri", redirect),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_entra_error(&body, "invalid_client", 7000218);
    let code = silent_code(&emu, API_CLIENT_ID, redirect, API_SCOPE_ACCESS_AS_USER, "alice", &[]).await;
    let resp = http()
        .post(token_url(&emu))
        .basic_auth(API_CLIENT_ID, Some(API_CLIENT_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", redirect),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(claims(body["access_token"].as_str().unwrap())["azpacr"], "1");
    // SPA redirects: cross-origin redemption only.
    let (verifier, challenge) = pkce();
    let spa = "http://localhost:8080/docs/oauth-receiver.html";
    let extra = [
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let code = silent_code(&emu, API_CLIENT_ID, spa, API_SCOPE_ACCESS_AS_USER, "alice", &extra).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", API_CLIENT_ID),
        ("code", code.as_str()),
        ("redirect_uri", spa),
        ("code_verifier", verifier.as_str()),
    ];
    let (_, body) = post_token(&emu, &form).await;
    assert_entra_error(&body, "invalid_request", 9002327);
    let code = silent_code(&emu, API_CLIENT_ID, spa, API_SCOPE_ACCESS_AS_USER, "alice", &extra).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", API_CLIENT_ID),
        ("code", code.as_str()),
        ("redirect_uri", spa),
        ("code_verifier", verifier.as_str()),
    ];
    let resp = http()
        .post(token_url(&emu))
        .header("origin", "http://localhost:8080")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn refresh_tokens_only_with_offline_access_and_they_rotate() {
    let emu = start().await;
    let without = cli_tokens(&emu, "bob", API_SCOPE_ACCESS_AS_USER).await;
    assert!(without.get("refresh_token").is_none());
    assert!(without.get("id_token").is_none());
    let with = cli_tokens(&emu, "bob", &format!("{API_SCOPE_ACCESS_AS_USER} offline_access")).await;
    let rt1 = with["refresh_token"].as_str().unwrap().to_owned();
    let (status, body) = post_token(
        &emu,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", CLI_CLIENT_ID),
            ("refresh_token", &rt1),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rt2 = body["refresh_token"].as_str().unwrap();
    assert_ne!(rt1, rt2);
    let c = claims(body["access_token"].as_str().unwrap());
    assert_eq!(c["oid"], BOB_OID);
    assert_eq!(c["scp"], "access_as_user");
    let (status, body) = post_token(
        &emu,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", CLI_CLIENT_ID),
            ("refresh_token", "1.Anope"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_entra_error(&body, "invalid_grant", 9002313);
    // A refresh token is bound to its client.
    let (_, body) = post_token(
        &emu,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", NIGHTLY_JOB_CLIENT_ID),
            ("client_secret", NIGHTLY_JOB_CLIENT_SECRET),
            ("refresh_token", rt2),
        ],
    )
    .await;
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn client_credentials_gives_app_only_tokens() {
    let emu = start().await;
    let (status, body) = post_token(
        &emu,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", NIGHTLY_JOB_CLIENT_ID),
            ("client_secret", NIGHTLY_JOB_CLIENT_SECRET),
            ("scope", API_SCOPE_DEFAULT),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("refresh_token").is_none());
    let c = claims(body["access_token"].as_str().unwrap());
    assert_eq!(c["aud"], API_CLIENT_ID);
    assert_eq!(c["roles"], json!(["Task.Read"]));
    assert_eq!(c["idtyp"], "app");
    assert!(c.get("scp").is_none() && c.get("name").is_none() && c.get("preferred_username").is_none());
    assert_eq!(c["oid"], c["sub"]);
    assert_ne!(c["oid"], NIGHTLY_JOB_CLIENT_ID);
    assert_eq!(c["azp"], NIGHTLY_JOB_CLIENT_ID);
    // The service principal id is stable.
    let again = emu
        .access_token_claims(&TokenRequestSpec {
            tenant: TENANT_ID.into(),
            client_id: NIGHTLY_JOB_CLIENT_ID.into(),
            user: None,
            scopes: vec![API_SCOPE_DEFAULT.into()],
        })
        .unwrap();
    assert_eq!(again["oid"], c["oid"]);
    let (_, body) = post_token(
        &emu,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", NIGHTLY_JOB_CLIENT_ID),
            ("client_secret", NIGHTLY_JOB_CLIENT_SECRET),
            ("scope", API_SCOPE_ACCESS_AS_USER),
        ],
    )
    .await;
    assert_entra_error(&body, "invalid_scope", 1002012);
    let (status, body) = post_token(
        &emu,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", NIGHTLY_JOB_CLIENT_ID),
            ("scope", API_SCOPE_DEFAULT),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_entra_error(&body, "invalid_client", 7000218);
    let (status, body) = post_token(
        &emu,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", NIGHTLY_JOB_CLIENT_ID),
            ("client_secret", "wrong"),
            ("scope", API_SCOPE_DEFAULT),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_entra_error(&body, "invalid_client", 7000215);
    let (_, body) = post_token(
        &emu,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLI_CLIENT_ID),
            ("client_secret", "x"),
            ("scope", API_SCOPE_DEFAULT),
        ],
    )
    .await;
    assert_entra_error(&body, "invalid_client", 700025);
}

#[tokio::test]
async fn on_behalf_of_exchanges_a_user_token_for_a_downstream_token() {
    let emu = start().await;
    let incoming = emu
        .issue_access_token(&TokenRequestSpec {
            tenant: TENANT_ID.into(),
            client_id: CLI_CLIENT_ID.into(),
            user: Some("alice".into()),
            scopes: vec![API_SCOPE_ACCESS_AS_USER.into()],
        })
        .unwrap();
    let obo = |assertion: String| {
        let emu = &emu;
        async move {
            post_token(
                emu,
                &[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                    ("client_id", API_CLIENT_ID),
                    ("client_secret", API_CLIENT_SECRET),
                    ("assertion", &assertion),
                    ("scope", DOWNSTREAM_SCOPE_DATA_READ),
                    ("requested_token_use", "on_behalf_of"),
                ],
            )
            .await
        }
    };
    let (status, body) = obo(incoming.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let c = claims(body["access_token"].as_str().unwrap());
    assert_eq!(c["aud"], DOWNSTREAM_CLIENT_ID);
    assert_eq!(c["azp"], API_CLIENT_ID);
    assert_eq!(c["oid"], ALICE_OID);
    assert_eq!(c["scp"], "Data.Read");
    // An assertion signed by a key outside the JWKS is refused.
    let mut forged = claims(&incoming);
    forged.insert("exp".into(), json!(unix_now() + 600));
    let (status, body) = obo(emu.sign_with_unpublished_key(Map::new(), Value::Object(forged.clone()))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_entra_error(&body, "invalid_grant", 50013);
    // Expired, and for another audience.
    let mut expired = forged.clone();
    expired.insert("exp".into(), json!(unix_now() - 10));
    assert_entra_error(
        &obo(emu.sign_with_active_key(Map::new(), Value::Object(expired)))
            .await
            .1,
        "invalid_grant",
        50013,
    );
    let mut other_aud = forged;
    other_aud.insert("aud".into(), json!(DOWNSTREAM_CLIENT_ID));
    assert_entra_error(
        &obo(emu.sign_with_active_key(Map::new(), Value::Object(other_aud)))
            .await
            .1,
        "invalid_grant",
        50013,
    );
}

#[tokio::test]
async fn graph_tokens_carry_a_header_nonce_and_v1_apps_get_v1_tokens() {
    let emu = start().await;
    let body = cli_tokens(&emu, "alice", "User.Read openid").await;
    let jws = CompactJws::parse(body["access_token"].as_str().unwrap()).unwrap();
    assert!(jws.header_str("nonce").is_some());
    assert_eq!(jws.payload["aud"], "https://graph.microsoft.com");
    assert_eq!(jws.payload["ver"], "1.0");
    assert!(
        jws.payload["scp"]
            .as_str()
            .unwrap()
            .split(' ')
            .any(|s| s == "User.Read")
    );

    let body = cli_tokens(&emu, "alice", API_V1_SCOPE_ACCESS_AS_USER).await;
    let jws = CompactJws::parse(body["access_token"].as_str().unwrap()).unwrap();
    assert!(jws.header_str("x5t").is_some());
    assert!(jws.header.get("nonce").is_none());
    let c = jws.payload;
    assert_eq!(c["ver"], "1.0");
    assert_eq!(c["aud"], API_V1_IDENTIFIER_URI);
    assert_eq!(c["iss"], emu.v1_issuer(TENANT_ID));
    assert_eq!(c["appid"], CLI_CLIENT_ID);
    assert_eq!(c["upn"], "alice@contoso.example");
    assert_eq!(c["unique_name"], "alice@contoso.example");
    assert!(c.get("azp").is_none() && c.get("preferred_username").is_none());
}

#[tokio::test]
async fn guests_and_groups_overage() {
    let emu = start().await;
    let spec = |user: &str| TokenRequestSpec {
        tenant: TENANT_ID.into(),
        client_id: CLI_CLIENT_ID.into(),
        user: Some(user.into()),
        scopes: vec![API_SCOPE_ACCESS_AS_USER.into()],
    };
    let erin = claims(
        cli_tokens(&emu, "erin", API_SCOPE_ACCESS_AS_USER).await["access_token"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(erin["acct"], 1);
    assert_eq!(erin["idp"], emu.v1_issuer(FABRIKAM_TENANT_ID));
    assert_ne!(erin["idp"], erin["iss"]);
    assert_eq!(erin["tid"], TENANT_ID);
    let olivia = emu.access_token_claims(&spec("olivia")).unwrap();
    assert!(olivia.get("groups").is_none());
    assert_eq!(olivia["_claim_names"], json!({"groups": "src1"}));
    assert_eq!(
        olivia["_claim_sources"]["src1"]["endpoint"],
        format!("https://graph.microsoft.com/v1.0/users/{OLIVIA_OID}/getMemberObjects")
    );
    let dave = emu.access_token_claims(&spec("dave")).unwrap();
    assert!(dave.get("roles").is_none() && dave.get("groups").is_none());
    // frank is in fabrikam: not signed in through contoso, but through common.
    assert!(emu.access_token_claims(&spec("frank")).is_err());
    let frank = emu
        .access_token_claims(&TokenRequestSpec {
            tenant: "common".into(),
            ..spec("frank")
        })
        .unwrap();
    assert_eq!(frank["tid"], FABRIKAM_TENANT_ID);
    assert_eq!(frank["iss"], emu.v2_issuer(FABRIKAM_TENANT_ID));
}

#[tokio::test]
async fn rotate_keys_publishes_the_new_active_key() {
    let emu = start().await;
    let old = emu.active_kid();
    let new = emu.rotate_keys(false);
    assert_ne!(old, new);
    assert_eq!(emu.active_kid(), new);
    let kids: Vec<_> = jwks(&emu, TENANT_ID)
        .await
        .keys
        .into_iter()
        .filter_map(|k| k.kid)
        .collect();
    assert!(kids.contains(&old) && kids.contains(&new));
    let token = emu
        .issue_access_token(&TokenRequestSpec {
            tenant: TENANT_ID.into(),
            client_id: CLI_CLIENT_ID.into(),
            user: Some("alice".into()),
            scopes: vec![API_SCOPE_ACCESS_AS_USER.into()],
        })
        .unwrap();
    assert_eq!(CompactJws::parse(&token).unwrap().header_str("kid"), Some(new.as_str()));
    assert!(verifies_with_jwks(&emu, &token).await);
    // Through the admin route (with the emulator's admin token), retiring the old keys.
    let resp: Value = http()
        .post(format!("{}/_emulator/rotate-keys?retire_old=true", emu.base_url()))
        .bearer_auth(emu.admin_token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let newest = resp["kid"].as_str().unwrap().to_owned();
    assert_eq!(emu.active_kid(), newest);
    let kids: Vec<_> = jwks(&emu, TENANT_ID)
        .await
        .keys
        .into_iter()
        .filter_map(|k| k.kid)
        .collect();
    assert_eq!(kids, vec![newest]);
    // The unpublished key presents the active kid but does not verify.
    let forged = emu.sign_with_unpublished_key(Map::new(), json!({"sub": "x"}));
    assert_eq!(
        CompactJws::parse(&forged).unwrap().header_str("kid"),
        Some(emu.active_kid().as_str())
    );
    assert!(!verifies_with_jwks(&emu, &forged).await);
    assert!(verifies_with_jwks(&emu, &emu.sign_with_active_key(Map::new(), json!({"sub": "x"}))).await);
}

#[tokio::test]
async fn outage_answers_503_and_fetches_are_counted() {
    let emu = start().await;
    let keys = format!("{}/{TENANT_ID}/discovery/v2.0/keys", emu.base_url());
    let meta = format!("{}/{TENANT_ID}/v2.0/.well-known/openid-configuration", emu.base_url());
    assert_eq!(http().get(&keys).send().await.unwrap().status(), StatusCode::OK);
    emu.set_outage(true);
    assert_eq!(
        http().get(&keys).send().await.unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        http().get(&meta).send().await.unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    emu.set_outage(false);
    assert_eq!(http().get(&keys).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(emu.jwks_fetch_count(), 3);
    assert_eq!(emu.metadata_fetch_count(), 1);
    let users: Value = http()
        .get(format!("{}/_emulator/users", emu.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(users.as_array().unwrap().len(), demo_user_count());
}

fn unix_now() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(since.as_secs()).unwrap()
}

fn demo_user_count() -> usize {
    EmulatorConfig::demo().users.len()
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let emu = start().await;
    let url = format!("{}/_emulator/users", emu.base_url());
    assert!(http().get(&url).send().await.is_ok());
    emu.shutdown().await;
    assert!(http().get(&url).send().await.is_err());
    let _ = demo::TENANT_NAME;
}

/// The scope of issue 10 F5: 35 ASCII letters then `é`, whose two bytes straddle byte 36 (where
/// a bare app id GUID would end), then more.
fn multi_byte_scope() -> String {
    format!("{}é{}", "a".repeat(35), "bc/.default")
}

#[tokio::test]
async fn a_scope_with_a_multi_byte_character_at_byte_36_is_aadsts70011_not_a_dropped_connection() {
    let emu = start().await;
    let scope = multi_byte_scope();
    let base = [
        ("client_id", CLI_CLIENT_ID),
        ("response_type", "code"),
        ("redirect_uri", "http://localhost:1234"),
        ("state", "st"),
        ("prompt", "none"),
        ("login_hint", "alice"),
    ];
    // v2 authorize, by GET and by POST (the sign-in form): a redirect carrying AADSTS70011.
    let mut params = base.to_vec();
    params.push(("scope", &scope));
    let by_get = http()
        .get(authorize_url(&emu, TENANT_ID))
        .query(&params)
        .send()
        .await
        .expect("an answer, not a dropped connection");
    let by_post = http()
        .post(authorize_url(&emu, TENANT_ID))
        .form(&params)
        .send()
        .await
        .expect("an answer, not a dropped connection");
    for resp in [by_get, by_post] {
        let loc = location(&resp);
        assert_eq!(query(&loc, "error").as_deref(), Some("invalid_scope"), "{loc}");
        assert!(
            query(&loc, "error_description").unwrap().starts_with("AADSTS70011:"),
            "{loc}"
        );
        assert_eq!(query(&loc, "state").as_deref(), Some("st"));
    }
    // v1 authorize names the API with `resource`, which reaches the same code.
    let mut params = base.to_vec();
    let resource = format!("{}é{}", "a".repeat(35), "bcdef");
    params.push(("resource", &resource));
    let loc = location(
        &http()
            .get(format!("{}/{TENANT_ID}/oauth2/authorize", emu.base_url()))
            .query(&params)
            .send()
            .await
            .expect("an answer, not a dropped connection"),
    );
    assert!(
        query(&loc, "error_description").unwrap().starts_with("AADSTS70011:"),
        "{loc}"
    );
    // The v2 token endpoint (client credentials, `{resource}/.default`).
    let (status, body) = post_token(
        &emu,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", NIGHTLY_JOB_CLIENT_ID),
            ("client_secret", NIGHTLY_JOB_CLIENT_SECRET),
            ("scope", &scope),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_entra_error(&body, "invalid_scope", 70011);
    // The v1 token endpoint with `resource=` (turned into `{resource}/.default`).
    let resp = http()
        .post(format!("{}/{TENANT_ID}/oauth2/token", emu.base_url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", NIGHTLY_JOB_CLIENT_ID),
            ("client_secret", NIGHTLY_JOB_CLIENT_SECRET),
            ("resource", &resource),
        ])
        .send()
        .await
        .expect("an answer, not a dropped connection");
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_entra_error(&resp.json().await.unwrap(), "invalid_scope", 70011);
    // Still serving.
    let tokens = cli_tokens(&emu, "alice", API_SCOPE_ACCESS_AS_USER).await;
    assert!(tokens["access_token"].is_string());
}

/// Every route that reads a body (`/authorize` POST and `/token`, v2, v1 and B2C).
fn body_routes() -> Vec<String> {
    let b2c = format!("{B2C_TENANT_ID}/B2C_1_signupsignin");
    vec![
        format!("/{TENANT_ID}/oauth2/v2.0/token"),
        format!("/{TENANT_ID}/oauth2/token"),
        format!("/{b2c}/oauth2/v2.0/token"),
        format!("/{TENANT_ID}/oauth2/v2.0/authorize"),
        format!("/{TENANT_ID}/oauth2/authorize"),
        format!("/{b2c}/oauth2/v2.0/authorize"),
    ]
}

#[tokio::test]
async fn a_100_mb_body_is_refused_with_413_before_it_is_read() {
    let emu = start().await;
    let form = [("content-type", "application/x-www-form-urlencoded")];
    for path in body_routes() {
        // 100 MB declared, 1 MiB sent: the answer comes from the declared length alone.
        let declared = status_for_endless_body(
            emu.local_addr(),
            "POST",
            &path,
            &form,
            Framing::Declared(100 << 20),
            1 << 20,
        )
        .await;
        assert_eq!(declared, 413, "{path}");
        // No length declared: refused once 64 KiB have arrived, the rest never awaited.
        let chunked = status_for_endless_body(emu.local_addr(), "POST", &path, &form, Framing::Chunked, 1 << 20).await;
        assert_eq!(chunked, 413, "{path}");
    }
    // The refusal has the emulator's error shape.
    let resp = http()
        .post(token_url(&emu))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![b'a'; 64 * 1024 + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_entra_error(&resp.json().await.unwrap(), "invalid_request", 90015);
    // A form just under the limit is read (and answered on its merits), and the emulator serves on.
    let mut padded = vec![("grant_type", "client_credentials".to_owned())];
    padded.push(("client_id", NIGHTLY_JOB_CLIENT_ID.to_owned()));
    padded.push(("client_secret", NIGHTLY_JOB_CLIENT_SECRET.to_owned()));
    padded.push(("scope", API_SCOPE_DEFAULT.to_owned()));
    padded.push(("padding", "p".repeat(60 * 1024)));
    let resp = http().post(token_url(&emu)).form(&padded).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let tokens = cli_tokens(&emu, "alice", API_SCOPE_ACCESS_AS_USER).await;
    assert!(tokens["access_token"].is_string());
}

#[tokio::test]
async fn the_key_rotation_hook_needs_the_admin_token() {
    let emu = start().await;
    let before = emu.active_kid();
    let url = format!("{}/_emulator/rotate-keys?retire_old=true", emu.base_url());
    assert_eq!(emu.admin_token().len(), 43, "256 random bits, base64url");
    let wrong = format!("{}x", emu.admin_token());
    let refusals = [
        http().post(&url).send().await.unwrap(),
        http().post(&url).bearer_auth("").send().await.unwrap(),
        http().post(&url).bearer_auth(&wrong).send().await.unwrap(),
        http()
            .post(&url)
            .basic_auth("admin", Some(emu.admin_token()))
            .send()
            .await
            .unwrap(),
    ];
    for refused in refusals {
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        assert!(
            refused.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Bearer ")
        );
        let body = refused.text().await.unwrap();
        assert!(!body.contains(emu.admin_token()), "{body}");
    }
    assert_eq!(emu.active_kid(), before, "nothing rotated");
    let kids: Vec<_> = jwks(&emu, TENANT_ID)
        .await
        .keys
        .into_iter()
        .filter_map(|k| k.kid)
        .collect();
    assert_eq!(kids, vec![before.clone()]);
    // Each emulator has its own token.
    let other = start().await;
    assert_ne!(other.admin_token(), emu.admin_token());
    let foreign = http().post(&url).bearer_auth(other.admin_token()).send().await.unwrap();
    assert_eq!(foreign.status(), StatusCode::UNAUTHORIZED);
    // The right token rotates.
    let rotated: Value = http()
        .post(&url)
        .bearer_auth(emu.admin_token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(rotated["kid"], before.as_str());
    assert_eq!(rotated["kid"], emu.active_kid().as_str());
}

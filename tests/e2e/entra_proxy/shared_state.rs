//! The proxy on Redis: two toolgate processes finishing each other's flows, Redis going away
//! (503 from the proxy's endpoints, issued tokens still valid), and a deployment sharing the
//! signing key with another resource.

use std::net::SocketAddr;

use toolgate::mcp_client::McpClient;

use super::browser::{self, Browser, Pkce, redeem, refresh, register};
use super::{ALICE_TOOLS, Cuttable, Options, proxy_gateway, redis_state, redis_url, unique_prefix};

const REDIRECT: &str = "http://127.0.0.1:9/callback";

/// Rewrites `url`'s origin to `base` (a load balancer sending the request to another process).
fn via(base: &str, url: &str) -> String {
    let url = url::Url::parse(url).unwrap();
    let query = url.query().map(|q| format!("?{q}")).unwrap_or_default();
    format!("{base}{}{query}", url.path())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_sharing_redis_complete_one_flow() {
    let emulator = crate::harness::emulator().await;
    let prefix = unique_prefix("two-processes");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let public = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    // Both processes believe they are behind the same public URL, like replicas behind a load balancer.
    let options = Options {
        state_toml: redis_state(&redis_url(), &prefix),
        public_url: Some(public.clone()),
        ..Options::default()
    };
    let (a, a_base, _a_dir) = proxy_gateway(&emulator, &options).await;
    let (b, b_base, _b_dir) = proxy_gateway(&emulator, &options).await;
    let a_proxy = a.entra_proxy.as_ref().unwrap();
    let b_proxy = b.entra_proxy.as_ref().unwrap();
    assert_eq!(
        a_proxy.signer().kid(),
        b_proxy.signer().kid(),
        "one signing key, created once"
    );

    let client_id = register(&a_base, &[REDIRECT]).await;
    let pkce = Pkce::new();
    let mut browser = Browser::new();
    // /authorize on A, Entra's callback lands on B, the consent POST on A, the token at B.
    let start = browser
        .get(&pkce.authorize_url(&a_base, &client_id, REDIRECT, &[]))
        .await;
    assert_eq!(start.status, 302, "{}", start.body);
    let back = browser
        .sign_in_at_entra(start.location.as_deref().unwrap(), "alice")
        .await;
    let consent = browser.get(&via(&b_base, back.location.as_deref().unwrap())).await;
    assert_eq!(consent.status, 200, "{}", consent.body);
    let done = browser.decide(&a_base, &consent, "approve").await;
    assert_eq!(done.location_param("iss"), Some(public.clone()));
    let code = done.location_param("code").unwrap();
    let tokens = redeem(&b_base, &client_id, REDIRECT, &code, &pkce.verifier).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    // A token from B works on A.
    let mut mcp = McpClient::connect(&format!("{a_base}/mcp"), &tokens.access_token())
        .await
        .unwrap();
    let mut tools = mcp.list_tools().await.unwrap();
    tools.sort();
    assert_eq!(tools, ALICE_TOOLS);
    // Rotation on A, replay on B: the family is gone everywhere.
    let rotated = refresh(&a_base, &client_id, &tokens.refresh_token()).await;
    assert_eq!(rotated.status, 200);
    let replay = refresh(&b_base, &client_id, &tokens.refresh_token()).await;
    assert_eq!(replay.error(), "invalid_grant");
    let after = refresh(&a_base, &client_id, &rotated.refresh_token()).await;
    assert_eq!(after.error(), "invalid_grant");
    // The code was single-use across both processes.
    let again = redeem(&a_base, &client_id, REDIRECT, &code, &pkce.verifier).await;
    assert_eq!(again.error(), "invalid_grant");

    // Another deployment sharing the key but protecting another resource: its tokens are refused here.
    let other = Options {
        state_toml: redis_state(&redis_url(), &prefix),
        ..Options::default()
    };
    let (c, c_base, _c_dir) = proxy_gateway(&emulator, &other).await;
    let c_proxy = c.entra_proxy.as_ref().unwrap();
    assert_eq!(c_proxy.signer().kid(), a_proxy.signer().kid());
    let (_, foreign) = browser::sign_in(&c_base, "alice").await;
    let response = reqwest::Client::new()
        .get(format!("{a_base}/whoami"))
        .bearer_auth(foreign.access_token())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401, "issued by another issuer for another resource");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_down_means_503_from_the_proxy_while_issued_tokens_keep_working_in_open_sessions() {
    let emulator = crate::harness::emulator().await;
    let redis: SocketAddr = url::Url::parse(&redis_url())
        .ok()
        .and_then(|u| u.socket_addrs(|| Some(6379)).ok())
        .and_then(|addrs| addrs.into_iter().next())
        .unwrap();
    let link = Cuttable::start(redis).await;
    let options = Options {
        state_toml: redis_state(&format!("redis://{}", link.addr), &unique_prefix("redis-down")),
        ..Options::default()
    };
    let (gateway, base, _dir) = proxy_gateway(&emulator, &options).await;
    let (client_id, tokens) = browser::sign_in(&base, "alice").await;
    let mut mcp = McpClient::connect(&format!("{base}/mcp"), &tokens.access_token())
        .await
        .unwrap();

    link.cut();
    let http = reqwest::Client::new();
    let started = std::time::Instant::now();
    let token = browser::token_request(
        &base,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &client_id),
            ("refresh_token", &tokens.refresh_token()),
        ],
    )
    .await;
    assert_eq!(token.status, 503, "{}", token.body);
    assert_eq!(token.error(), "temporarily_unavailable");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "fails fast: {:?}",
        started.elapsed()
    );
    let register = http
        .post(format!("{base}/register"))
        .json(&serde_json::json!({"redirect_uris": [REDIRECT]}))
        .send()
        .await
        .unwrap();
    assert_eq!(register.status(), 503);
    assert_eq!(register.headers()["retry-after"], "5");
    let mut browser = Browser::new();
    let authorize = browser
        .get(&Pkce::new().authorize_url(&base, "some-dynamic-client", REDIRECT, &[]))
        .await;
    assert_eq!(authorize.status, 503, "{authorize:?}");
    assert!(authorize.body.contains("temporarily unavailable"));
    // Issued tokens are verified without the store: the session this replica holds goes on.
    assert_eq!(mcp.list_tools().await.unwrap().len(), ALICE_TOOLS.len());
    // A new session cannot be recorded for the other replicas (replicas.rs covers recovery).
    match McpClient::connect(&format!("{base}/mcp"), &tokens.access_token()).await {
        Err(toolgate::mcp_client::McpClientError::Refused { status, .. }) => assert_eq!(status, 503),
        other => panic!("a new session without Redis: {other:?}"),
    }

    link.restore();
    let mut recovered = None;
    for _ in 0..50 {
        let reply = refresh(&base, &client_id, &tokens.refresh_token()).await;
        if reply.status != 503 {
            recovered = Some(reply);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let recovered = recovered.expect("the proxy recovers when Redis is back");
    assert_eq!(recovered.status, 200, "nothing was lost: {}", recovered.body);
    drop(gateway);
}

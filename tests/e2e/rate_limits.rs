//! Rate limits (issue #11 §4, docs/rate-limits.md): real gateways in front of the reference
//! upstream, counters in the real Redis (a fresh key prefix per test), real HTTP. A flood from
//! one principal is refused while another's calls all succeed; per-tool and per-upstream limits;
//! one limit shared by two replicas; REST 429 with `Retry-After`; the MCP error's retry data;
//! refusals audited and counted; a Redis outage fails closed (or open, when configured).

use std::time::{Duration, Instant};

use futures::StreamExt as _;
use serde_json::{Value, json};
use toolgate::mcp_client::{McpClient, McpClientError};
use toolgate_core::LimitScope;
use toolgate_emulator::demo;
use toolgate_test_upstream::{RunningUpstream, serve_http};

use crate::entra_proxy::{Cuttable, redis_state, redis_url, unique_prefix};
use crate::gateway_mode::{REF_POLICIES, Replica, http_upstream, start_replica};

async fn token(emulator: &toolgate_emulator::RunningEmulator, user: &str) -> String {
    crate::harness::sign_in(emulator, user, &[demo::API_SCOPE_ACCESS_AS_USER]).await
}

/// One replica in front of a fresh reference upstream, with `limits` and its counters in Redis.
async fn stack(limits: &str) -> (toolgate_emulator::RunningEmulator, RunningUpstream, Replica) {
    let emulator = crate::harness::emulator().await;
    let upstream = serve_http("127.0.0.1:0".parse().unwrap(), Default::default()).await;
    let state = redis_state(&redis_url(), &unique_prefix("rate-limits"));
    let replica = start_replica(
        &emulator,
        &http_upstream("ref", &upstream, ""),
        REF_POLICIES,
        &format!("{state}\n{limits}"),
    )
    .await
    .unwrap();
    (emulator, upstream, replica)
}

fn stats(replica: &Replica) -> &toolgate_core::RateLimitStats {
    use toolgate_core::RateLimiter as _;
    replica.gateway.rate_limits.as_ref().expect("limits configured").stats()
}

/// The JSON-RPC error's `(code, data)` of a refused call, or `None` for a result.
fn error_of(answer: &Value) -> Option<(i64, Value)> {
    let error = answer.get("error")?;
    Some((error["code"].as_i64()?, error["data"].clone()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_from_one_principal_is_refused_while_another_principals_calls_all_succeed() {
    let (emulator, _upstream, replica) =
        stack("[rate_limits]\nper_principal = { requests = 20, per_seconds = 600 }\n[telemetry]\nmetrics_bind = \"127.0.0.1:0\"\n").await;
    let mut bob = McpClient::connect(&replica.mcp_url, &token(&emulator, "bob").await)
        .await
        .unwrap();
    let mut olivia = McpClient::connect(&replica.mcp_url, &token(&emulator, "olivia").await)
        .await
        .unwrap();

    // Bob floods: 60 calls, 30 at a time.
    let flood = {
        let url = replica.mcp_url.clone();
        let token = bob.token.clone();
        let session = bob.session.clone();
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let calls = (0..60).map(|i| {
                let request = http
                    .post(&url)
                    .bearer_auth(&token)
                    .header("accept", "application/json, text/event-stream")
                    .header("mcp-protocol-version", toolgate::mcp_client::PROTOCOL_VERSION)
                    .header("mcp-session-id", session.clone().unwrap_or_default())
                    .json(&json!({"jsonrpc": "2.0", "id": 1000 + i, "method": "tools/call",
                        "params": {"name": "ref__echo", "arguments": {"text": "flood"}}}));
                async move {
                    let response = request.send().await.unwrap();
                    let status = response.status().as_u16();
                    let retry_after = response
                        .headers()
                        .get("retry-after")
                        .map(|v| v.to_str().unwrap().to_owned());
                    (status, retry_after, response.text().await.unwrap())
                }
            });
            futures::stream::iter(calls)
                .buffer_unordered(30)
                .collect::<Vec<_>>()
                .await
        })
    };
    // Meanwhile Olivia's calls all succeed.
    for i in 0..15 {
        let answer = olivia
            .call("ref__echo", json!({"text": format!("olivia {i}")}))
            .await
            .unwrap();
        assert!(
            answer.get("result").is_some(),
            "olivia's call {i} during bob's flood: {answer}"
        );
    }
    let flood = flood.await.unwrap();
    let refused: Vec<_> = flood.iter().filter(|(status, _, _)| *status == 429).collect();
    let admitted = flood.iter().filter(|(status, _, _)| *status == 200).count();
    // 2 of bob's 20 went to initialize + initialized.
    assert_eq!(admitted, 18, "{flood:?}");
    assert_eq!(refused.len(), 42, "{flood:?}");
    for (_, retry_after, body) in &refused {
        let seconds: u64 = retry_after.as_deref().expect("Retry-After").parse().unwrap();
        assert!((1..=30).contains(&seconds), "one request every 30 s: {seconds}");
        let body: Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["error"]["code"], -32029, "{body}");
        assert_eq!(body["error"]["data"]["limit"], "principal", "{body}");
        assert_eq!(body["error"]["data"]["retryAfterSeconds"], seconds, "{body}");
    }
    // Bob is still refused; Olivia is not.
    match bob.call("ref__echo", json!({"text": "again"})).await {
        Err(McpClientError::Refused { status, .. }) => assert_eq!(status, 429),
        other => panic!("bob over his limit: {other:?}"),
    }
    assert!(olivia.call("ref__echo", json!({"text": "after"})).await.unwrap()["result"].is_object());

    assert_eq!(stats(&replica).refused(LimitScope::Principal), 43);
    // …and counted on /metrics, by scope.
    let metrics_addr = replica.gateway.metrics_addr().expect("metrics are configured");
    let scrape = reqwest::get(format!("http://{metrics_addr}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        scrape.contains("toolgate_rate_limit_refusals_total{scope=\"principal\"} 43"),
        "{scrape}"
    );
    assert!(
        scrape.contains("toolgate_rate_limit_refusals_total{scope=\"tool\"} 0"),
        "{scrape}"
    );
    let rows = replica.rows().await;
    let audited: Vec<_> = rows
        .iter()
        .filter(|r| r.outcome == "rate_limited" && r.reason_code.as_deref() == Some("rate_limited_principal"))
        .collect();
    assert_eq!(
        audited.len(),
        43,
        "every refusal is audited (within the refusal budget)"
    );
    assert!(
        audited
            .iter()
            .all(|r| r.principal_id.as_deref().is_some_and(|p| p.ends_with(demo::BOB_OID)))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_limit_refuses_with_retry_information_then_admits_again() {
    let (emulator, _upstream, replica) =
        stack("[[rate_limits.tool]]\nname = \"ref__ec*\"\nper_principal = { requests = 2, per_seconds = 1 }\n").await;
    let mut bob = McpClient::connect(&replica.mcp_url, &token(&emulator, "bob").await)
        .await
        .unwrap();
    let mut olivia = McpClient::connect(&replica.mcp_url, &token(&emulator, "olivia").await)
        .await
        .unwrap();
    for _ in 0..2 {
        assert!(bob.call("ref__echo", json!({"text": "ok"})).await.unwrap()["result"].is_object());
    }
    let refused = bob.call("ref__echo", json!({"text": "third"})).await.unwrap();
    let (code, data) = error_of(&refused).expect("an error");
    assert_eq!(code, -32029, "{refused}");
    assert_eq!(data["retryAfterSeconds"], 1, "{refused}");
    assert_eq!(data["limit"], "tool", "{refused}");
    // Other tools, and other principals, are not limited by bob's budget.
    assert!(
        bob.call("ref__test_simple_text", json!({})).await.unwrap()["result"].is_object(),
        "another tool"
    );
    assert!(olivia.call("ref__echo", json!({"text": "olivia"})).await.unwrap()["result"].is_object());
    // One call every 500 ms: admitted again after the wait.
    tokio::time::sleep(Duration::from_millis(550)).await;
    assert!(bob.call("ref__echo", json!({"text": "later"})).await.unwrap()["result"].is_object());

    assert_eq!(stats(&replica).refused(LimitScope::Tool), 1);
    let rows = replica.rows().await;
    let row = rows
        .iter()
        .find(|r| r.outcome == "rate_limited")
        .expect("the refusal is audited");
    assert_eq!(row.reason_code.as_deref(), Some("rate_limited_tool"));
    assert_eq!(row.tool.as_deref(), Some("ref__echo"));
    assert_eq!(row.upstream.as_deref(), Some("ref"));
    assert_eq!(row.method, "tools/call");
    assert!(row.policy_ids.is_empty(), "refused before policy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_total_is_shared_by_every_principal() {
    let (emulator, upstream, replica) =
        stack("[[rate_limits.upstream]]\nname = \"ref\"\ntotal = { requests = 3, per_seconds = 60 }\n").await;
    let mut bob = McpClient::connect(&replica.mcp_url, &token(&emulator, "bob").await)
        .await
        .unwrap();
    let mut olivia = McpClient::connect(&replica.mcp_url, &token(&emulator, "olivia").await)
        .await
        .unwrap();
    assert!(bob.call("ref__echo", json!({"text": "1"})).await.unwrap()["result"].is_object());
    assert!(bob.call("ref__test_simple_text", json!({})).await.unwrap()["result"].is_object());
    assert!(olivia.call("ref__echo", json!({"text": "3"})).await.unwrap()["result"].is_object());
    let calls_before = upstream.tool_calls();
    let refused = olivia.call("ref__echo", json!({"text": "4"})).await.unwrap();
    let (code, data) = error_of(&refused).expect("an error");
    assert_eq!((code, data["limit"].as_str()), (-32029, Some("upstream")), "{refused}");
    assert!(data["retryAfterSeconds"].as_u64().unwrap() >= 19, "{refused}");
    assert_eq!(
        upstream.tool_calls(),
        calls_before,
        "the refused call never reached the upstream"
    );
    assert_eq!(stats(&replica).refused(LimitScope::Upstream), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_one_redis_share_a_limit() {
    let emulator = crate::harness::emulator().await;
    let upstream = serve_http("127.0.0.1:0".parse().unwrap(), Default::default()).await;
    let state = redis_state(&redis_url(), &unique_prefix("rate-limits-replicas"));
    let extra = format!(
        "{state}\n[[rate_limits.tool]]\nname = \"ref__echo\"\nper_principal = {{ requests = 3, per_seconds = 60 }}\n"
    );
    let upstreams = http_upstream("ref", &upstream, "");
    let a = start_replica(&emulator, &upstreams, REF_POLICIES, &extra)
        .await
        .unwrap();
    let b = start_replica(&emulator, &upstreams, REF_POLICIES, &extra)
        .await
        .unwrap();
    let bob = token(&emulator, "bob").await;
    let mut on_a = McpClient::connect(&a.mcp_url, &bob).await.unwrap();
    let mut on_b = McpClient::connect(&b.mcp_url, &bob).await.unwrap();
    assert!(on_a.call("ref__echo", json!({"text": "a1"})).await.unwrap()["result"].is_object());
    assert!(on_b.call("ref__echo", json!({"text": "b1"})).await.unwrap()["result"].is_object());
    assert!(on_a.call("ref__echo", json!({"text": "a2"})).await.unwrap()["result"].is_object());
    let refused = on_b.call("ref__echo", json!({"text": "b2"})).await.unwrap();
    assert_eq!(error_of(&refused).map(|(code, _)| code), Some(-32029), "{refused}");
    let refused = on_a.call("ref__echo", json!({"text": "a3"})).await.unwrap();
    assert_eq!(error_of(&refused).map(|(code, _)| code), Some(-32029), "{refused}");
    assert_eq!(stats(&a).refused(LimitScope::Tool), 1);
    assert_eq!(stats(&b).refused(LimitScope::Tool), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_answers_429_with_retry_after() {
    let (emulator, _upstream, replica) = stack(
        "[rate_limits]\nper_principal = { requests = 4, per_seconds = 60 }\n\
         [[rate_limits.tool]]\nname = \"ref__echo\"\nper_principal = { requests = 1, per_seconds = 60 }\n",
    )
    .await;
    let api = replica.mcp_url.replace("/mcp", "/api/v1");
    let bob = token(&emulator, "bob").await;
    let http = reqwest::Client::new();
    let call = || {
        http.post(format!("{api}/tools/ref__echo"))
            .bearer_auth(&bob)
            .json(&json!({"text": "rest"}))
            .send()
    };
    assert_eq!(call().await.unwrap().status(), 200);
    // The tool's limit (in the gate): 429, Retry-After ≈ 60 s.
    let refused = call().await.unwrap();
    assert_eq!(refused.status(), 429);
    let seconds: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((59..=60).contains(&seconds), "{seconds}");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "rate_limited", "{body}");
    // The per-principal limit (at the edge, for every operation): 4 per minute, 2 used.
    for _ in 0..2 {
        let listed = http.get(format!("{api}/tools")).bearer_auth(&bob).send().await.unwrap();
        assert_eq!(listed.status(), 200);
    }
    let refused = http.get(format!("{api}/tools")).bearer_auth(&bob).send().await.unwrap();
    assert_eq!(refused.status(), 429);
    let seconds: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=15).contains(&seconds), "one request every 15 s: {seconds}");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "rate_limited", "{body}");
    assert_eq!(stats(&replica).refused(LimitScope::Tool), 1);
    assert_eq!(stats(&replica).refused(LimitScope::Principal), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_fail_closed_while_redis_is_down_or_open_when_configured() {
    let redis: std::net::SocketAddr = {
        let url = url::Url::parse(&redis_url()).unwrap();
        url.socket_addrs(|| Some(6379)).unwrap()[0]
    };
    let link = Cuttable::start(redis).await;
    let limits = "[[rate_limits.tool]]\nname = \"ref__echo\"\nper_principal = { requests = 100, per_seconds = 60 }\n";
    let emulator = crate::harness::emulator().await;
    let upstream = serve_http("127.0.0.1:0".parse().unwrap(), Default::default()).await;
    let upstreams = http_upstream("ref", &upstream, "");
    let state = |name| redis_state(&format!("redis://{}", link.addr), &unique_prefix(name));
    let closed = start_replica(
        &emulator,
        &upstreams,
        REF_POLICIES,
        &format!("{}\n{limits}", state("rate-closed")),
    )
    .await
    .unwrap();
    let open = start_replica(
        &emulator,
        &upstreams,
        REF_POLICIES,
        &format!(
            "{}\n[rate_limits]\non_store_unavailable = \"allow\"\n{limits}",
            state("rate-open")
        ),
    )
    .await
    .unwrap();
    let bob = token(&emulator, "bob").await;
    let mut on_closed = McpClient::connect(&closed.mcp_url, &bob).await.unwrap();
    let mut on_open = McpClient::connect(&open.mcp_url, &bob).await.unwrap();
    assert!(on_closed.call("ref__echo", json!({"text": "up"})).await.unwrap()["result"].is_object());

    link.cut();
    let started = Instant::now();
    let refused = on_closed.call("ref__echo", json!({"text": "down"})).await.unwrap();
    let (code, data) = error_of(&refused).expect("refused while the counters are unreachable");
    assert_eq!(code, -32603, "{refused}");
    assert_eq!(data["reason"], "rate_limits_unavailable", "{refused}");
    assert_eq!(data["retryAfterSeconds"], 1, "{refused}");
    assert!(started.elapsed() < Duration::from_secs(5), "within the store's timeout");
    // Right after a failure the store is not asked again: refused at once.
    let started = Instant::now();
    let refused = on_closed
        .call("ref__echo", json!({"text": "down again"}))
        .await
        .unwrap();
    assert!(error_of(&refused).is_some(), "{refused}");
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    // Fail open: admitted, counted.
    assert!(on_open.call("ref__echo", json!({"text": "open"})).await.unwrap()["result"].is_object());
    assert!(stats(&open).store_unavailable() >= 1);
    assert!(stats(&closed).store_unavailable() >= 2);

    link.restore();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let answer = on_closed.call("ref__echo", json!({"text": "back"})).await.unwrap();
        if answer["result"].is_object() {
            break;
        }
        assert!(Instant::now() < deadline, "no recovery: {answer}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        closed
            .rows()
            .await
            .iter()
            .any(|r| r.outcome == "error" && r.reason_code.as_deref() == Some("rate_limit_store_unavailable")),
        "the refusal is audited"
    );
}

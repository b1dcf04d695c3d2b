//! Lifecycle (issue #11 §5): readiness reflects signing keys, the audit trail, the shared state
//! store and the upstreams, while liveness stays cheap; a graceful shutdown closes every upstream
//! session toolgate opened (the catalog connection, sessions' own, the shared stateless one).

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use toolgate::mcp_client::McpClient;
use toolgate_test_upstream::serve_http;

use crate::entra_proxy::{Cuttable, redis_state, redis_url, unique_prefix};
use crate::gateway_mode::{REF_POLICIES, Replica, http_upstream, start_replica, start_replica_at};

async fn ready(replica: &Replica) -> (u16, Value) {
    let response = reqwest::get(replica.mcp_url.replace("/mcp", "/api/v1/ready"))
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn state_of<'a>(body: &'a Value, component: &str) -> &'a Value {
    body["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == component)
        .map_or(&Value::Null, |c| &c["state"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_the_shared_state_store_and_reports_keys() {
    let redis: std::net::SocketAddr = url::Url::parse(&redis_url())
        .unwrap()
        .socket_addrs(|| Some(6379))
        .unwrap()[0];
    let link = Cuttable::start(redis).await;
    let emulator = crate::harness::emulator().await;
    let upstream = serve_http("127.0.0.1:0".parse().unwrap(), Default::default()).await;
    let state = redis_state(&format!("redis://{}", link.addr), &unique_prefix("lifecycle"));
    let gateway = start_replica(&emulator, &http_upstream("ref", &upstream, ""), REF_POLICIES, &state)
        .await
        .unwrap();
    let wait_for = |state: &'static str| {
        let gateway = &gateway;
        async move {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let (status, body) = ready(gateway).await;
                if state_of(&body, "state_store") == state {
                    return (status, body);
                }
                assert!(Instant::now() < deadline, "state_store never became {state}: {body}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    let (status, body) = wait_for("up").await;
    assert_eq!((status, &body["status"]), (200, &json!("ready")), "{body}");
    assert_eq!(state_of(&body, "keys"), "loaded", "{body}");
    assert_eq!(state_of(&body, "policy"), "in_force", "{body}");
    assert_eq!(state_of(&body, "upstream:ref"), "up", "{body}");

    link.cut();
    let (status, body) = wait_for("down").await;
    // Reported, degraded, still in the balancer: only new sessions need the store.
    assert_eq!((status, &body["status"]), (200, &json!("degraded")), "{body}");
    let health = reqwest::get(gateway.mcp_url.replace("/mcp", "/api/v1/health"))
        .await
        .unwrap();
    assert_eq!(health.status(), 200, "liveness does not depend on Redis");

    link.restore();
    let (status, body) = wait_for("up").await;
    assert_eq!((status, &body["status"]), (200, &json!("ready")), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_without_signing_keys_is_not_ready_but_alive() {
    let upstream = serve_http("127.0.0.1:0".parse().unwrap(), Default::default()).await;
    // Nothing listens at this authority: the keys cannot load, every token would be refused.
    let closed = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", probe.local_addr().unwrap())
    };
    let gateway = start_replica_at(&closed, &http_upstream("ref", &upstream, ""), REF_POLICIES, "", "")
        .await
        .unwrap();
    let (status, body) = ready(&gateway).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(state_of(&body, "keys"), "not_loaded", "{body}");
    let health = reqwest::get(gateway.mcp_url.replace("/mcp", "/api/v1/health"))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_shutdown_closes_every_upstream_session() {
    let emulator = crate::harness::emulator().await;
    let upstream = serve_http("127.0.0.1:0".parse().unwrap(), Default::default()).await;
    let gateway = start_replica(&emulator, &http_upstream("ref", &upstream, ""), REF_POLICIES, "")
        .await
        .unwrap();
    let token = crate::harness::sign_in(&emulator, "bob", &[toolgate_emulator::demo::API_SCOPE_ACCESS_AS_USER]).await;
    // A session of its own, and a REST call (the shared stateless connection).
    let mut client = McpClient::connect(&gateway.mcp_url, &token).await.unwrap();
    client.call("ref__echo", json!({"text": "x"})).await.unwrap();
    let rest = reqwest::Client::new()
        .post(gateway.mcp_url.replace("/mcp", "/api/v1/tools/ref__echo"))
        .bearer_auth(&token)
        .json(&json!({"text": "y"}))
        .send()
        .await
        .unwrap();
    assert_eq!(rest.status(), 200);
    assert_eq!(
        upstream.add_tool("before").await.unwrap(),
        3,
        "catalog, session, shared"
    );

    gateway.gateway.shutdown().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    for attempt in 0.. {
        let open = upstream.add_tool(&format!("after_{attempt}")).await.unwrap();
        if open == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{open} upstream sessions still open after shutdown"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

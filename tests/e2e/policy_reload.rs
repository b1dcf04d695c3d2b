//! Policy hot reload (issue #11 §2): on a file change, on `SIGHUP` and through the admin API;
//! validated first and swapped atomically; a refused reload keeps the set in force, is audited
//! and shows in readiness; replicas converge on one policy set through Redis, under load, with no
//! failed request.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use toolgate::mcp_client::McpClient;
use toolgate_test_upstream::serve_http;

use crate::entra_proxy::{redis_state, redis_url, unique_prefix};
use crate::gateway_mode::{REF_POLICIES, Replica, http_upstream, start_replica_with};

/// A forbid that caps transfers at 100 (REF_POLICIES caps them at 1,000).
const CAP_100: &str = r#"
@id("transfer-cap-100")
forbid (principal, action == Action::"call:ref__transfer", resource)
when { context.input.amount > 100 };
"#;

async fn transfer(client: &mut McpClient, amount: i64) -> Value {
    client
        .call("ref__transfer", json!({"amount": amount, "currency": "EUR"}))
        .await
        .unwrap()
}

fn allowed(answer: &Value) -> bool {
    answer.get("result").is_some()
}

/// Waits (at most 10 s) until `check` holds.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn policy_dir(replica: &Replica) -> std::path::PathBuf {
    replica.dir.path().join("policies")
}

async fn api(replica: &Replica, path: &str) -> String {
    replica.mcp_url.replace("/mcp", &format!("/api/v1/{path}"))
}

async fn reload(replica: &Replica, token: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(api(replica, "policy/reload").await)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

async fn ready(replica: &Replica) -> (u16, Value) {
    let response = reqwest::get(api(replica, "ready").await).await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn reload_rows(rows: &[toolgate_core::AuditEvent]) -> Vec<String> {
    rows.iter()
        .filter(|r| r.method == "policy/reload")
        .map(|r| format!("{}: {}", r.outcome.as_str(), r.reason_code.clone().unwrap_or_default()))
        .collect()
}

async fn one_gateway(
    policy_keys: &str,
) -> (
    toolgate_emulator::RunningEmulator,
    toolgate_test_upstream::RunningUpstream,
    Replica,
) {
    let emulator = crate::harness::emulator().await;
    let upstream = serve_http("127.0.0.1:0".parse().unwrap(), Default::default()).await;
    let replica = start_replica_with(
        &emulator,
        &http_upstream("ref", &upstream, ""),
        REF_POLICIES,
        "",
        policy_keys,
    )
    .await
    .unwrap();
    (emulator, upstream, replica)
}

async fn token(emulator: &toolgate_emulator::RunningEmulator, user: &str) -> String {
    crate::harness::sign_in(emulator, user, &[toolgate_emulator::demo::API_SCOPE_ACCESS_AS_USER]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_policy_file_is_in_force_without_a_restart() {
    let (emulator, _upstream, gateway) = one_gateway("").await;
    let mut bob = McpClient::connect(&gateway.mcp_url, &token(&emulator, "bob").await)
        .await
        .unwrap();
    assert!(allowed(&transfer(&mut bob, 500).await));
    let before = gateway.gateway.policy.policy_set_hash();

    std::fs::write(policy_dir(&gateway).join("cap.cedar"), CAP_100).unwrap();
    eventually("the new file is in force", || {
        let policy = gateway.gateway.policy.clone();
        let before = before.clone();
        async move { policy.policy_set_hash() != before }
    })
    .await;
    let denied = transfer(&mut bob, 500).await;
    assert_eq!(denied["error"]["message"], "tool not found", "{denied}");
    assert!(allowed(&transfer(&mut bob, 50).await));
    // The open session kept working across the swap, and the reload is in the audit trail.
    assert_eq!(
        reload_rows(&gateway.rows().await),
        vec!["ok: reloaded (file_change)".to_owned()]
    );
    let denial = gateway
        .rows()
        .await
        .into_iter()
        .rfind(|r| r.method == "tools/call" && r.outcome == "denied")
        .unwrap();
    assert_eq!(denial.policy_ids, vec!["transfer-cap-100".to_owned()]);
    assert_eq!(denial.policy_set_hash, Some(gateway.gateway.policy.policy_set_hash()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_reload_is_refused_audited_and_shown_by_readiness_until_fixed() {
    let (emulator, _upstream, gateway) = one_gateway("watch = false").await;
    let admin = token(&emulator, "carol").await;
    let mut bob = McpClient::connect(&gateway.mcp_url, &token(&emulator, "bob").await)
        .await
        .unwrap();
    let before = gateway.gateway.policy.policy_set_hash();

    // Not an admin: refused.
    let (status, _) = reload(&gateway, &token(&emulator, "bob").await).await;
    assert_eq!(status, 403);
    // Unchanged files: 200, nothing changed, nothing audited.
    let (status, body) = reload(&gateway, &admin).await;
    assert_eq!((status, &body["changed"]), (200, &json!(false)), "{body}");
    assert_eq!(body["policy_set_hash"], before);

    // A typo in an argument name: the schema says `amount`.
    std::fs::write(
        policy_dir(&gateway).join("typo.cedar"),
        "forbid (principal, action == Action::\"call:ref__transfer\", resource)\nwhen { context.input.amout > 100 };\n",
    )
    .unwrap();
    let (status, body) = reload(&gateway, &admin).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"], "policy_invalid");
    assert!(body["message"].as_str().unwrap().contains("typo.cedar:2:"), "{body}");
    assert_eq!(body["policy_set_hash"], before, "the set in force stays");
    assert!(
        allowed(&transfer(&mut bob, 500).await),
        "the previous policies still decide"
    );
    let (status, readiness) = ready(&gateway).await;
    assert_eq!(status, 200, "{readiness}");
    assert_eq!(readiness["status"], "degraded", "{readiness}");
    assert_eq!(readiness["components"][0]["state"], "reload_refused", "{readiness}");

    // Fixed: in force, readiness back to ready.
    std::fs::write(policy_dir(&gateway).join("typo.cedar"), CAP_100).unwrap();
    let (status, body) = reload(&gateway, &admin).await;
    assert_eq!((status, &body["changed"]), (200, &json!(true)), "{body}");
    assert_ne!(body["policy_set_hash"], before);
    assert!(!allowed(&transfer(&mut bob, 500).await));
    let (status, readiness) = ready(&gateway).await;
    assert_eq!((status, &readiness["status"]), (200, &json!("ready")), "{readiness}");

    let rows = gateway.rows().await;
    let reloads = reload_rows(&rows);
    assert_eq!(reloads.len(), 2, "{reloads:?}");
    assert!(reloads[0].starts_with("refused: reload_refused (api): "), "{reloads:?}");
    assert_eq!(reloads[1], "ok: reloaded (api)");
    let by: Vec<_> = rows
        .iter()
        .filter(|r| r.method == "policy/reload")
        .map(|r| r.principal_id.clone())
        .collect();
    assert!(
        by.iter().all(|p| p
            .as_deref()
            .is_some_and(|p| p.ends_with(toolgate_emulator::demo::CAROL_OID))),
        "{by:?}"
    );

    // An emptied directory is not taken as "deny everything".
    for file in std::fs::read_dir(policy_dir(&gateway)).unwrap() {
        std::fs::remove_file(file.unwrap().path()).unwrap();
    }
    let (status, body) = reload(&gateway, &admin).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["message"].as_str().unwrap().contains("no *.cedar files"), "{body}");
    assert!(allowed(&transfer(&mut bob, 50).await));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_the_policies() {
    let (emulator, _upstream, gateway) = one_gateway("watch = false").await;
    let mut bob = McpClient::connect(&gateway.mcp_url, &token(&emulator, "bob").await)
        .await
        .unwrap();
    std::fs::write(policy_dir(&gateway).join("cap.cedar"), CAP_100).unwrap();
    // Without a trigger, nothing changes (watching is off).
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(allowed(&transfer(&mut bob, 500).await));

    // nextest runs each test in its own process: the signal reaches this gateway only.
    let status = std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    eventually("SIGHUP reloaded the policies", || {
        let rows = gateway.rows();
        async move { reload_rows(&rows.await) == vec!["ok: reloaded (signal)".to_owned()] }
    })
    .await;
    assert!(!allowed(&transfer(&mut bob, 500).await));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_converge_on_a_reload_under_load_with_no_failed_request() {
    let emulator = crate::harness::emulator().await;
    let upstream = serve_http("127.0.0.1:0".parse().unwrap(), Default::default()).await;
    let state = redis_state(&redis_url(), &unique_prefix("policy-reload"));
    let upstreams = http_upstream("ref", &upstream, "");
    // Watching is off: only the API on `a`, and `a`'s notice for `b`, can reload.
    let a = start_replica_with(&emulator, &upstreams, REF_POLICIES, &state, "watch = false")
        .await
        .unwrap();
    let b = start_replica_with(&emulator, &upstreams, REF_POLICIES, &state, "watch = false")
        .await
        .unwrap();
    assert_eq!(a.gateway.policy.policy_set_hash(), b.gateway.policy.policy_set_hash());
    let before = a.gateway.policy.policy_set_hash();
    let bob = token(&emulator, "bob").await;

    // Load: four sessions (two per replica) calling without pause.
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut load = Vec::new();
    for url in [&a.mcp_url, &b.mcp_url, &a.mcp_url, &b.mcp_url] {
        let mut client = McpClient::connect(url, &bob).await.unwrap();
        let (stop, ok, failed) = (stop.clone(), ok.clone(), failed.clone());
        load.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                match client.call("ref__echo", json!({"text": "load"})).await {
                    Ok(answer) if answer["result"]["content"][0]["text"] == "load" => {
                        ok.fetch_add(1, Ordering::Relaxed)
                    }
                    _ => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The deployment updates both replicas' files; an administrator reloads one replica.
    for replica in [&a, &b] {
        std::fs::write(policy_dir(replica).join("cap.cedar"), CAP_100).unwrap();
    }
    let (status, body) = reload(&a, &token(&emulator, "carol").await).await;
    assert_eq!((status, &body["changed"]), (200, &json!(true)), "{body}");
    let after = body["policy_set_hash"].as_str().unwrap().to_owned();
    assert_ne!(after, before);
    let started = Instant::now();
    eventually("b converged on a's policy set", || {
        let policy = b.gateway.policy.clone();
        let after = after.clone();
        async move { policy.policy_set_hash() == after }
    })
    .await;
    let converged_in = started.elapsed();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.unwrap();
    }
    let (ok, failed) = (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    assert_eq!(failed, 0, "no request failed during the swap ({ok} succeeded)");
    assert!(ok > 20, "the load ran: {ok}");
    assert!(converged_in < Duration::from_secs(5), "converged in {converged_in:?}");
    for replica in [&a, &b] {
        let mut client = McpClient::connect(&replica.mcp_url, &bob).await.unwrap();
        assert!(!allowed(&transfer(&mut client, 500).await), "{}", replica.mcp_url);
    }
    assert_eq!(reload_rows(&b.rows().await), vec!["ok: reloaded (replica)".to_owned()]);
}

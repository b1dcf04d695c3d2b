//! Issue #10 — what a client, a signed-in caller or an anonymous one can do to the gate, the
//! server and the audit trail: each given input with its right answer, over real HTTP.

use std::time::{Duration, Instant};

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use toolgate::mcp_client::{McpClient, PROTOCOL_VERSION};
use toolgate_core::AuditDecision;

use crate::gateway::stack;
use crate::probe::{answer, probe_stack};

/// A POST to `url` as an MCP client would send it.
fn post(url: &str, token: Option<&str>, session: Option<&str>) -> reqwest::RequestBuilder {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", PROTOCOL_VERSION);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(session) = session {
        request = request.header("mcp-session-id", session);
    }
    request
}

fn initialize() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": PROTOCOL_VERSION, "capabilities": {},
        "clientInfo": {"name": "hardening", "version": "1"}}})
}

async fn status_and_json(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let body = response.text().await.unwrap();
    (status, answer(&body))
}

#[tokio::test]
async fn both_resource_metadata_urls_answer_cors_preflight() {
    let stack = stack("").await;
    let base = stack.gateway.url();
    for path in [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
    ] {
        let preflight = reqwest::Client::new()
            .request(reqwest::Method::OPTIONS, format!("{base}{path}"))
            .header("origin", "http://localhost:6274")
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "mcp-protocol-version")
            .send()
            .await
            .unwrap();
        assert!(preflight.status().is_success(), "{path}: {}", preflight.status());
        assert_eq!(preflight.headers()["access-control-allow-origin"], "*", "{path}");
        let allowed = preflight.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .to_lowercase();
        assert!(allowed.contains("mcp-protocol-version"), "{path}: {allowed}");
        let document = reqwest::Client::new()
            .get(format!("{base}{path}"))
            .header("origin", "http://localhost:6274")
            .send()
            .await
            .unwrap();
        assert_eq!(document.headers()["access-control-allow-origin"], "*", "{path}");
    }
}

#[tokio::test]
async fn requests_without_bearer_credentials_get_the_discovery_challenge_on_mcp() {
    let stack = stack("").await;
    for header in ["Basic YWxpY2U6cHc=", "Bearer ", "Bearer"] {
        let response = post(&stack.mcp_url, None, None)
            .header("authorization", header)
            .json(&initialize())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{header}");
        let challenge = response.headers()["www-authenticate"].to_str().unwrap();
        assert!(challenge.starts_with("Bearer "), "{header}: {challenge}");
        assert!(challenge.contains("resource_metadata=\""), "{header}: {challenge}");
        assert!(!challenge.contains("error="), "{header}: {challenge}");
    }
}

#[tokio::test]
async fn same_origin_and_loopback_requests_pass_and_rebinding_is_refused_with_a_row() {
    let stack = stack("").await;
    let token = stack.token("bob").await;
    let port = stack.gateway.server.local_addr().port();
    // The conformance suite's dns-rebinding-protection scenario: the URL's own host and origin.
    for (host, origin) in [
        (format!("localhost:{port}"), format!("http://localhost:{port}")),
        (format!("127.0.0.1:{port}"), format!("http://127.0.0.1:{port}")),
        (format!("localhost:{port}"), "http://localhost:6274".to_owned()),
    ] {
        let response = post(&stack.mcp_url, Some(&token), None)
            .header("host", &host)
            .header("origin", &origin)
            .json(&initialize())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{host} {origin}");
    }
    for (host, origin, reason) in [
        (
            "evil.example.com".to_owned(),
            Some("http://evil.example.com"),
            "host_not_allowed",
        ),
        (
            format!("127.0.0.1:{port}"),
            Some("http://evil.example.com"),
            "origin_not_allowed",
        ),
        (format!("127.0.0.1:{port}"), Some("null"), "origin_not_allowed"),
    ] {
        let mut request = post(&stack.mcp_url, Some(&token), None).header("host", &host);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        let response = request.json(&initialize()).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{host} {origin:?}");
        let rows = stack.audit_rows().await;
        assert!(
            rows.iter()
                .any(|r| r.reason_code.as_deref() == Some(reason) && r.principal_id.is_some()),
            "a row for {reason}"
        );
    }
}

#[tokio::test]
async fn a_call_runs_only_after_its_decision_is_durably_recorded() {
    let stack = probe_stack(|_, _| {}).await;
    let mut client = McpClient::connect(&stack.mcp_url, &stack.token("bob").await)
        .await
        .unwrap();
    let response = client.call("audited_first", json!({})).await.unwrap();
    let seen: Value = serde_json::from_str(response["result"]["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(seen, json!({"found": true, "outcome": "pending"}), "{response}");
    let rows = stack.rows().await;
    let calls: Vec<_> = rows
        .iter()
        .filter(|r| r.tool.as_deref() == Some("audited_first"))
        .collect();
    assert_eq!(calls.len(), 1, "one row per call: {calls:?}");
    assert_eq!(calls[0].outcome, "ok", "the outcome completes the decision's row");
    assert!(calls[0].latency_us > 0);
}

#[tokio::test]
async fn with_the_audit_trail_refusing_an_allowed_call_does_not_run() {
    // The database is unreachable and the spool holds one byte: every event is refused.
    let stack = stack(
        "[audit]\ndatabase_url = \"postgres://toolgate@127.0.0.1:9/nowhere\"\nspool_path = \"{dir}/spool\"\nspool_max_bytes = 1\nconnect_timeout = \"200ms\"\non_spool_full = \"fail_closed\"\n",
    )
    .await;
    let before = stack.tasks().list(None).len();
    let mut alice = McpClient::connect(&stack.mcp_url, &stack.token("alice").await)
        .await
        .unwrap();
    // The list's row cannot be placed: from then on the trail reports itself full.
    let _ = alice.request("tools/list", json!({})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let created = alice
        .call("create_task", json!({"title": "must not exist", "priority": 2}))
        .await
        .unwrap();
    assert_eq!(created["error"]["message"], "audit trail unavailable", "{created}");
    assert_eq!(stack.tasks().list(None).len(), before, "the tool did not run");
}

#[tokio::test]
async fn refused_requests_cost_bounded_rows_and_a_flood_is_summarized() {
    let stack = stack("").await;
    let huge = "s".repeat(250 * 1024);
    for _ in 0..20 {
        let response = post(&stack.mcp_url, None, Some(&huge))
            .json(&initialize())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let rows = stack.audit_rows().await;
    let refused: Vec<_> = rows
        .iter()
        .filter(|r| r.decision == AuditDecision::AuthFailed)
        .collect();
    assert_eq!(refused.len(), 20);
    for row in &refused {
        let size = serde_json::to_string(row).unwrap().len();
        assert!(size < 2_000, "a refusal row holds {size} bytes");
        assert!(row.session_id.as_deref().unwrap().chars().count() <= 129);
    }

    // A flood: every refusal is either a row of its own or counted in a summary row, and an
    // authorized call in the middle of it keeps its row.
    let flood = 600;
    let requests = (0..flood).map(|_| post(&stack.mcp_url, None, None).json(&initialize()).send());
    let token = stack.token("bob").await;
    let (answers, authorized) = tokio::join!(join_all(requests), async {
        let mut bob = McpClient::connect(&stack.mcp_url, &token).await.unwrap();
        bob.call("list_tasks", json!({})).await.unwrap()
    });
    assert!(
        answers
            .iter()
            .all(|a| a.as_ref().unwrap().status() == StatusCode::UNAUTHORIZED)
    );
    assert!(authorized.get("result").is_some(), "{authorized}");
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let rows = stack.audit_rows().await;
    let individual = rows
        .iter()
        .filter(|r| r.decision == AuditDecision::AuthFailed && r.outcome == "auth_failed")
        .count();
    let summarized: u64 = rows
        .iter()
        .filter(|r| r.method == "auth_failures_suppressed")
        .map(|r| r.arguments.as_ref().unwrap()["suppressed"].as_u64().unwrap())
        .sum();
    assert_eq!(
        individual as u64 + summarized,
        20 + flood,
        "every refusal is accounted for"
    );
    assert!(summarized > 0, "the flood exceeded the budget");
    assert!(
        rows.iter()
            .any(|r| r.tool.as_deref() == Some("list_tasks") && r.outcome == "ok")
    );
}

#[tokio::test]
async fn another_principals_session_and_a_batch_are_refused_with_rows() {
    let stack = stack("").await;
    let alice = McpClient::connect(&stack.mcp_url, &stack.token("alice").await)
        .await
        .unwrap();
    let bob_token = stack.token("bob").await;
    let hijack = post(&stack.mcp_url, Some(&bob_token), alice.session.as_deref())
        .json(&json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(hijack.status(), StatusCode::FORBIDDEN);
    let batch = post(&stack.mcp_url, Some(&bob_token), None)
        .json(&json!([initialize(), {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}]))
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(batch).await;
    assert_eq!(
        (status, body["error"]["code"].as_i64()),
        (StatusCode::BAD_REQUEST, Some(-32600)),
        "{body}"
    );
    let rows = stack.audit_rows().await;
    for reason in ["session_of_another_principal", "batch_refused"] {
        let row = rows
            .iter()
            .find(|r| r.reason_code.as_deref() == Some(reason))
            .unwrap_or_else(|| panic!("a row for {reason}"));
        assert!(
            row.principal_id
                .as_deref()
                .is_some_and(|p| p.ends_with(toolgate_emulator::demo::BOB_OID))
        );
        assert_eq!(row.decision, AuditDecision::Deny);
    }
}

/// Reads from `stream` until it closes; `true` if it closed within `limit`.
async fn closes_within(stream: &mut tokio::net::TcpStream, limit: Duration) -> bool {
    let mut buffer = [0u8; 4096];
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

#[tokio::test]
async fn slow_headers_and_idle_connections_are_cut_off_and_connections_capped() {
    let stack = stack(
        "[server]\nbind = \"{addr}\"\nheader_read_timeout_seconds = 1\nidle_timeout_seconds = 2\nmax_connections = 3\n",
    )
    .await;
    let addr = stack.gateway.server.local_addr();

    // Slowloris: a header line every 300 ms never completes a request.
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    let dripping = async {
        for n in 0..20 {
            if slow.write_all(format!("X-Drip-{n}: 1\r\n").as_bytes()).await.is_err() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        false
    };
    assert!(dripping.await, "a connection dripping headers is closed");

    // A connection that completed a request and then says nothing is closed when idle.
    let mut idle = tokio::net::TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    assert!(
        closes_within(&mut idle, Duration::from_secs(6)).await,
        "an idle connection is closed"
    );

    // The cap: with three connections held, a fourth waits until one goes.
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut connection = tokio::net::TcpStream::connect(addr).await.unwrap();
        connection
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .await
            .unwrap();
        let mut buffer = [0u8; 512];
        let read = connection.read(&mut buffer).await.unwrap();
        assert!(String::from_utf8_lossy(&buffer[..read]).starts_with("HTTP/1.1 200"));
        held.push(connection);
    }
    let fourth = reqwest::Client::new().get(format!("http://{addr}/healthz")).send();
    tokio::pin!(fourth);
    assert!(
        tokio::time::timeout(Duration::from_millis(500), &mut fourth)
            .await
            .is_err(),
        "the fourth connection waits"
    );
    held.clear();
    let answered = tokio::time::timeout(Duration::from_secs(5), fourth).await;
    assert_eq!(answered.unwrap().unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn sessions_per_principal_are_capped_and_idle_sessions_expire() {
    let stack = probe_stack(|_, sessions| {
        sessions.max_per_principal = 3;
        sessions.idle_timeout = Duration::from_secs(2);
    })
    .await;
    let token = stack.token("dave").await;
    let mut clients = Vec::new();
    for _ in 0..5 {
        clients.push(McpClient::connect(&stack.mcp_url, &token).await.unwrap());
    }
    let dave = format!(
        "user:{}/{}",
        toolgate_emulator::demo::TENANT_ID,
        toolgate_emulator::demo::DAVE_OID
    );
    assert_eq!(stack.bindings.sessions_of(&dave), 3);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut statuses = Vec::new();
    for client in &mut clients {
        statuses.push(match client.request("tools/list", json!({})).await {
            Ok(_) => StatusCode::OK,
            Err(toolgate::mcp_client::McpClientError::Refused { status, .. }) => status,
            Err(other) => panic!("{other}"),
        });
    }
    assert_eq!(
        statuses,
        [
            StatusCode::NOT_FOUND,
            StatusCode::NOT_FOUND,
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::OK
        ],
        "the two least recently used sessions were closed"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let expired = clients[4].request("tools/list", json!({})).await;
    assert!(
        matches!(expired, Err(toolgate::mcp_client::McpClientError::Refused { status, .. }) if status == StatusCode::NOT_FOUND),
        "{expired:?}"
    );
}

#[tokio::test]
async fn the_tool_receives_exactly_the_arguments_the_policy_judged() {
    let stack = probe_stack(|_, _| {}).await;
    let mut bob = McpClient::connect(&stack.mcp_url, &stack.token("bob").await)
        .await
        .unwrap();
    // `priority > 5` is forbidden; `prio` is the tool's own alias for it, which no schema shows.
    let denied = bob.call("aliased", json!({"priority": 9})).await.unwrap();
    assert!(denied.get("error").is_some(), "{denied}");
    let smuggled = bob.call("aliased", json!({"prio": 9})).await.unwrap();
    let parsed: Value = serde_json::from_str(smuggled["result"]["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(
        parsed,
        json!({"priority": null}),
        "the undeclared `prio` never reached the tool"
    );
    let allowed = bob.call("aliased", json!({"priority": 4})).await.unwrap();
    let parsed: Value = serde_json::from_str(allowed["result"]["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(parsed, json!({"priority": 4}));
    // The audit digest is of the judged arguments.
    let rows = stack.rows().await;
    let smuggled_row = rows
        .iter()
        .find(|r| r.tool.as_deref() == Some("aliased") && r.decision == AuditDecision::Allow)
        .unwrap();
    assert_eq!(
        smuggled_row.argument_digest.as_deref(),
        Some(toolgate_core::argument_digest(&json!({})).as_str())
    );
}

#[tokio::test]
async fn a_denied_prompt_is_refused_before_its_handler_is_entered() {
    let stack = probe_stack(|_, _| {}).await;
    let mut bob = McpClient::connect(&stack.mcp_url, &stack.token("bob").await)
        .await
        .unwrap();
    let denied = bob
        .request("prompts/get", json!({"name": "secret_prompt"}))
        .await
        .unwrap();
    assert!(denied.get("error").is_some(), "{denied}");
    assert_eq!(stack.probe.prompt_entries.load(std::sync::atomic::Ordering::SeqCst), 0);
    let allowed = bob
        .request("prompts/get", json!({"name": "open_prompt"}))
        .await
        .unwrap();
    assert!(allowed.get("result").is_some(), "{allowed}");
    assert_eq!(stack.probe.prompt_entries.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test]
async fn amplifying_bodies_are_refused_before_parsing_and_concurrency_is_capped_per_principal() {
    let stack = probe_stack(|transport, _| transport.max_concurrent_requests_per_principal = 2).await;
    let token = stack.token("bob").await;
    let bob = McpClient::connect(&stack.mcp_url, &token).await.unwrap();
    let session = bob.session.clone();
    // A 3 MB ping whose _meta holds 200,000 small keys.
    let keys: String = (0..200_000).map(|i| format!("\"key_{i:07}\":0,")).collect();
    let body = format!(r#"{{"jsonrpc":"2.0","id":9,"method":"ping","params":{{"_meta":{{{keys}"z":0}}}}}}"#);
    assert!(body.len() > 3_000_000);
    let pings = (0..16).map(|_| {
        post(&stack.mcp_url, Some(&token), session.as_deref())
            .body(body.clone())
            .send()
    });
    for response in join_all(pings).await {
        let (status, answer) = status_and_json(response.unwrap()).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            continue;
        }
        assert_eq!(
            (status, answer["error"]["code"].as_i64()),
            (StatusCode::BAD_REQUEST, Some(-32600)),
            "{answer}"
        );
    }
    let body_limit = post(&stack.mcp_url, Some(&token), session.as_deref())
        .body(vec![b' '; 5 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(body_limit.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // Two slow calls in flight: a third request of the same principal is refused at once.
    let slow = |id: u64| {
        post(&stack.mcp_url, Some(&token), session.as_deref())
            .json(&json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": "sleep", "arguments": {"ms": 1500}}}))
            .send()
    };
    let (first, second, third) = tokio::join!(slow(20), slow(21), async {
        tokio::time::sleep(Duration::from_millis(400)).await;
        slow(22).await
    });
    let third = third.unwrap();
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(third.headers()["retry-after"], "1");
    for slow in [first, second] {
        let (status, answer) = status_and_json(slow.unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(answer["result"]["content"][0]["text"], "slept", "{answer}");
    }
    // Another principal is not affected by bob's load.
    let mut alice = McpClient::connect(&stack.mcp_url, &stack.token("alice").await)
        .await
        .unwrap();
    assert!(alice.request("ping", json!({})).await.unwrap().get("result").is_some());
}

#[tokio::test]
async fn over_long_names_uris_methods_and_ids_are_refused_before_policy_audit_and_logs() {
    let stack = probe_stack(|_, _| {}).await;
    let token = stack.token("bob").await;
    let bob = McpClient::connect(&stack.mcp_url, &token).await.unwrap();
    let session = bob.session.clone();
    let long = "n".repeat(1_000_000);
    for (body, code) in [
        (
            json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": long, "arguments": {}}}),
            -32602,
        ),
        (
            json!({"jsonrpc": "2.0", "id": 4, "method": "prompts/get", "params": {"name": long}}),
            -32602,
        ),
        (
            json!({"jsonrpc": "2.0", "id": 5, "method": "resources/read", "params": {"uri": format!("file:///{long}")}}),
            -32602,
        ),
        (json!({"jsonrpc": "2.0", "id": 6, "method": long}), -32602),
        (json!({"jsonrpc": "2.0", "id": long, "method": "ping"}), -32600),
    ] {
        let response = post(&stack.mcp_url, Some(&token), session.as_deref())
            .json(&body)
            .send()
            .await
            .unwrap();
        let (_, answer) = status_and_json(response).await;
        assert_eq!(
            answer["error"]["code"].as_i64(),
            Some(code),
            "{}",
            &answer.to_string()[..200.min(answer.to_string().len())]
        );
        assert!(answer.to_string().len() < 1_000, "nothing long is echoed back");
    }
    // Names of 129 characters reach no policy either (MCP's limit is 128).
    let response = post(&stack.mcp_url, Some(&token), session.as_deref())
        .json(&json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "x".repeat(129), "arguments": {}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(status_and_json(response).await.1["error"]["code"], -32602);
    let rows = stack.rows().await;
    let largest = rows
        .iter()
        .map(|r| serde_json::to_string(r).unwrap().len())
        .max()
        .unwrap_or(0);
    assert!(largest < 2_000, "the largest audit row holds {largest} bytes");
}

#[tokio::test]
async fn a_second_request_with_an_id_in_flight_is_answered_at_once() {
    let stack = probe_stack(|_, _| {}).await;
    let token = stack.token("bob").await;
    let bob = McpClient::connect(&stack.mcp_url, &token).await.unwrap();
    let session = bob.session.clone();
    let call = json!({"jsonrpc": "2.0", "id": 77, "method": "tools/call", "params": {"name": "sleep", "arguments": {"ms": 2000}}});
    let first = post(&stack.mcp_url, Some(&token), session.as_deref())
        .json(&call)
        .send();
    let second = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let started = Instant::now();
        let response = post(&stack.mcp_url, Some(&token), session.as_deref())
            .json(&call)
            .send()
            .await
            .unwrap();
        (started.elapsed(), status_and_json(response).await)
    };
    let (first, (waited, (_, duplicate))) = tokio::join!(first, second);
    assert_eq!(duplicate["error"]["code"], -32600, "{duplicate}");
    assert_eq!(duplicate["id"], 77);
    assert!(
        waited < Duration::from_millis(1500),
        "answered at once, not after the first ({waited:?})"
    );
    let (_, first) = status_and_json(first.unwrap()).await;
    assert!(first.get("result").is_some(), "{first}");
    // Once answered, the id may be used again.
    let again = post(&stack.mcp_url, Some(&token), session.as_deref())
        .json(&json!({"jsonrpc": "2.0", "id": 77, "method": "ping"}))
        .send()
        .await
        .unwrap();
    assert!(status_and_json(again).await.1.get("result").is_some());
}

#[tokio::test]
async fn client_mistakes_get_client_errors() {
    let stack = probe_stack(|_, _| {}).await;
    let token = stack.token("bob").await;
    for (body, status, code) in [
        ("{", StatusCode::BAD_REQUEST, -32700),
        ("[]", StatusCode::BAD_REQUEST, -32600),
        ("42", StatusCode::BAD_REQUEST, -32600),
        (r#"{"jsonrpc":"2.0","id":1}"#, StatusCode::BAD_REQUEST, -32600),
    ] {
        let response = post(&stack.mcp_url, Some(&token), None)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["content-type"], "application/json", "{body}");
        let (got, answer) = status_and_json(response).await;
        assert_eq!(
            (got, answer["error"]["code"].as_i64()),
            (status, Some(code)),
            "{body}: {answer}"
        );
    }

    // A chunked body with the chunk size `zz`.
    let addr = stack.server.local_addr();
    let mut raw = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{{}}\r\n0\r\n\r\n",
        addr.port()
    );
    raw.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 1024];
    let read = raw.read(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");

    // Requests racing their own session's deletion: never a server error.
    for _ in 0..30 {
        let client = McpClient::connect(&stack.mcp_url, &token).await.unwrap();
        let session = client.session.clone().unwrap();
        let delete = reqwest::Client::new()
            .delete(&stack.mcp_url)
            .bearer_auth(&token)
            .header("mcp-session-id", &session)
            .send();
        let call = post(&stack.mcp_url, Some(&token), Some(&session))
            .json(&json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}))
            .send();
        let (deleted, called) = tokio::join!(delete, call);
        assert!(deleted.unwrap().status().is_success());
        let status = called.unwrap().status();
        assert!(
            status == StatusCode::OK || status == StatusCode::NOT_FOUND,
            "a request racing its session's deletion got {status}"
        );
    }
}

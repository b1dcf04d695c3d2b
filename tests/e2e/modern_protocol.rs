//! MCP 2026-07-28 beside 2025-11-25 (issue #11 §1): the stateless era (`server/discover`, no
//! `initialize`, no session) through the gateway with the official Python SDK client, its
//! requests sharing one upstream connection; and the SEP-2243 `Mcp-Method`/`Mcp-Name` headers
//! checked against the body on every protocol version, so no decision can be steered by a
//! header.

use serde_json::{Value, json};
use toolgate::mcp_client::McpClient;
use toolgate_test_upstream::serve_http;

use crate::gateway_mode::{REF_POLICIES, gateway, http_upstream};

async fn run_walk(mcp_url: &str, token: &str, mode: &str) -> Value {
    crate::harness::run_python_client(
        "modern_walk.py",
        &[("MCP_URL", mcp_url), ("TOKEN", token), ("MODE", mode)],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_2026_07_28_era_is_served_statelessly_through_the_gateway() {
    let upstream = serve_http("127.0.0.1:0".parse().unwrap(), Default::default()).await;
    let stack = gateway(&http_upstream("ref", &upstream, ""), REF_POLICIES).await;
    let token = stack.token("bob").await;
    let report = run_walk(&stack.mcp_url, &token, "auto").await;
    assert_eq!(report["protocol"], "2026-07-28", "{report}");
    assert_eq!(
        report["session_ids"],
        json!([]),
        "no session in the stateless era: {report}"
    );
    assert!(
        report["tools"].as_array().unwrap().contains(&json!("ref__echo")),
        "{report}"
    );
    assert_eq!(
        report["echoes"],
        json!(["modern 0", "modern 1", "modern 2"]),
        "{report}"
    );
    assert!(
        report["denied"].as_str().unwrap().contains("tool not found"),
        "the policy denies the transfer: {report}"
    );
    // The decisions are audited like any other, without a session.
    let rows = stack.rows().await;
    let calls: Vec<_> = rows.iter().filter(|r| r.method == "tools/call").collect();
    assert_eq!(calls.iter().filter(|r| r.outcome == "ok").count(), 3, "{calls:?}");
    assert!(calls.iter().all(|r| r.session_id.is_none()), "{calls:?}");
    assert!(calls.iter().any(|r| r.policy_ids.iter().any(|p| p == "transfer-cap")));
    // Every stateless request used one shared upstream connection, kept open beside toolgate's
    // catalog connection: two sessions are told about a new tool.
    assert_eq!(upstream.add_tool("after_walk").await.unwrap(), 2);

    // Clients of the handshake era are served as before, on the same endpoint.
    let legacy = run_walk(&stack.mcp_url, &token, "legacy").await;
    assert_eq!(legacy["protocol"], "2025-11-25", "{legacy}");
    assert_eq!(legacy["session_ids"].as_array().unwrap().len(), 1, "{legacy}");
    assert_eq!(legacy["echoes"], report["echoes"]);
}

/// A raw POST to the MCP endpoint with `headers`.
async fn post(url: &str, token: &str, session: Option<&str>, headers: &[(&str, &str)], body: Value) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(url)
        .bearer_auth(token)
        .header("accept", "application/json, text/event-stream")
        .json(&body);
    if let Some(session) = session {
        request = request.header("mcp-session-id", session);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    // A JSON body, or the last JSON event of an SSE stream (after rmcp's empty priming event).
    let json = serde_json::from_str(&text).unwrap_or_else(|_| {
        text.lines()
            .rev()
            .filter_map(|line| line.strip_prefix("data: "))
            .find_map(|data| serde_json::from_str(data).ok())
            .unwrap_or(Value::String(text.clone()))
    });
    (status, json)
}

fn call(tool: &str, arguments: Value, meta: Option<Value>) -> Value {
    let mut params = json!({"name": tool, "arguments": arguments});
    if let Some(meta) = meta {
        params["_meta"] = meta;
    }
    json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": params})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_method_and_name_headers_must_agree_with_the_body_on_every_version() {
    let upstream = serve_http("127.0.0.1:0".parse().unwrap(), Default::default()).await;
    let stack = gateway(&http_upstream("ref", &upstream, ""), REF_POLICIES).await;
    let token = stack.token("bob").await;
    let session = stack.client("bob").await.session.unwrap();
    let transfer = || call("ref__transfer", json!({"amount": 5000, "currency": "EUR"}), None);
    let legacy = [("mcp-protocol-version", "2025-11-25")];

    // A handshake-era session: the headers are not required, but when present they must agree.
    let cases: [(&[(&str, &str)], &str); 4] = [
        (
            &[("mcp-method", "tools/list")],
            "Mcp-Method header `tools/list` does not match body method `tools/call`",
        ),
        (
            &[("mcp-name", "ref__echo")],
            "Mcp-Name header `ref__echo` does not match body value `ref__transfer`",
        ),
        (
            &[("mcp-method", "tools/call"), ("mcp-method", "tools/call")],
            "the Mcp-Method header appears more than once",
        ),
        (
            &[("mcp-name", "=?base64?cmVmX19lY2hv?=")],
            "Mcp-Name header `ref__echo` does not match body value `ref__transfer`",
        ),
    ];
    for (headers, message) in cases {
        let all: Vec<(&str, &str)> = legacy.iter().chain(headers.iter()).copied().collect();
        let (status, body) = post(&stack.mcp_url, &token, Some(&session), &all, transfer()).await;
        assert_eq!(status, 400, "{headers:?}: {body}");
        assert_eq!(body["error"]["code"], -32020, "{body}");
        assert_eq!(body["error"]["message"], message, "{body}");
        assert_eq!(body["id"], 7);
    }
    // Agreeing headers pass to the decision (which denies the transfer as usual).
    let agreeing = [
        ("mcp-protocol-version", "2025-11-25"),
        ("mcp-method", "tools/call"),
        ("mcp-name", "=?base64?cmVmX190cmFuc2Zlcg==?="),
    ];
    let (status, body) = post(&stack.mcp_url, &token, Some(&session), &agreeing, transfer()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["error"]["message"], "tool not found", "{body}");

    // The stateless era requires the headers (rmcp) and the same agreement.
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
    });
    let modern = call("ref__echo", json!({"text": "hi"}), Some(meta));
    let version = ("mcp-protocol-version", "2026-07-28");
    let (status, body) = post(&stack.mcp_url, &token, None, &[version], modern.clone()).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &json!(-32020)),
        "missing headers: {body}"
    );
    let (status, body) = post(
        &stack.mcp_url,
        &token,
        None,
        &[version, ("mcp-method", "tools/call"), ("mcp-name", "ref__transfer")],
        modern.clone(),
    )
    .await;
    assert_eq!((status, &body["error"]["code"]), (400, &json!(-32020)), "{body}");
    let (status, body) = post(
        &stack.mcp_url,
        &token,
        None,
        &[version, ("mcp-method", "tools/call"), ("mcp-name", "ref__echo")],
        modern,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["content"][0]["text"], "hi", "{body}");

    let rows = stack.rows().await;
    assert_eq!(
        rows.iter()
            .filter(|r| r.reason_code.as_deref() == Some("header_mismatch"))
            .count(),
        5,
        "each mismatch the edge refused is audited"
    );
    // Nothing refused reached the upstream: only the echo and no transfer ran there.
    assert_eq!(upstream.tool_calls(), 1);
}

/// The REST API's calls share the stateless links too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_calls_share_one_upstream_connection() {
    let upstream = serve_http("127.0.0.1:0".parse().unwrap(), Default::default()).await;
    let stack = gateway(&http_upstream("ref", &upstream, ""), REF_POLICIES).await;
    let token = stack.token("bob").await;
    let api = stack.mcp_url.replace("/mcp", "/api/v1/tools/ref__echo");
    for i in 0..5 {
        let response = reqwest::Client::new()
            .post(&api)
            .bearer_auth(&token)
            .json(&json!({"text": format!("rest {i}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["content"][0]["text"], format!("rest {i}"), "{body}");
    }
    assert_eq!(upstream.tool_calls(), 5);
    assert_eq!(
        upstream.add_tool("after_rest").await.unwrap(),
        2,
        "catalog + one shared connection"
    );
    // A session of its own still opens its own upstream session.
    let mut client = McpClient::connect(&stack.mcp_url, &token).await.unwrap();
    client.call("ref__echo", json!({"text": "own"})).await.unwrap();
    assert_eq!(upstream.add_tool("after_session").await.unwrap(), 3);
}

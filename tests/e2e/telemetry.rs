//! Metrics and traces (issue #11 §3), over real HTTP: `/metrics` scraped from its own listener
//! after real MCP calls through the gate to a real upstream; spans exported over OTLP/HTTP to a
//! receiver running in the test, which decodes them with `opentelemetry-proto`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::Span;
use parking_lot::Mutex;
use poem::web::Data;
use poem::{EndpointExt as _, Route, handler, post};
use prost::Message as _;
use serde_json::json;
use toolgate::mcp_client::McpClient;
use toolgate_test_upstream::serve_http;

use crate::gateway_mode::{REF_POLICIES, Replica, http_upstream, start_replica};

const METRICS: &str = "[telemetry]\nmetrics_bind = \"127.0.0.1:0\"\n";

async fn bob_token(emulator: &toolgate_emulator::RunningEmulator) -> String {
    crate::harness::sign_in(emulator, "bob", &[toolgate_emulator::demo::API_SCOPE_ACCESS_AS_USER]).await
}

async fn scrape(replica: &Replica) -> (String, String) {
    let addr = replica.gateway.metrics_addr().expect("metrics are configured");
    let response = reqwest::get(format!("http://{addr}/metrics")).await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    (content_type, response.text().await.unwrap())
}

/// The value of the sample `series` (name and labels exactly as exposed).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        line.strip_prefix(series)?
            .strip_prefix(' ')?
            .split(' ')
            .next()?
            .parse()
            .ok()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_real_calls_with_bounded_labels_on_their_own_listener() {
    let emulator = crate::harness::emulator().await;
    let upstream = serve_http("127.0.0.1:0".parse().unwrap(), Default::default()).await;
    let replica = start_replica(&emulator, &http_upstream("ref", &upstream, ""), REF_POLICIES, METRICS)
        .await
        .unwrap();
    let token = bob_token(&emulator).await;
    let mut bob = McpClient::connect(&replica.mcp_url, &token).await.unwrap();
    for _ in 0..3 {
        let answer = bob.call("ref__echo", json!({"text": "hello"})).await.unwrap();
        assert!(answer.get("result").is_some(), "{answer}");
    }
    let denied = bob
        .call("ref__transfer", json!({"amount": 5000, "currency": "EUR"}))
        .await
        .unwrap();
    assert!(
        denied.get("error").is_some() || denied["result"]["isError"] == true,
        "{denied}"
    );
    bob.list_tools().await.unwrap();
    let anonymous = reqwest::Client::new()
        .post(&replica.mcp_url)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);

    let (content_type, text) = scrape(&replica).await;
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    assert!(text.trim_end().ends_with("# EOF"), "OpenMetrics text ends with # EOF");
    let at_least = |series: &str, min: f64| {
        let value = sample(&text, series).unwrap_or_else(|| panic!("no sample {series} in:\n{text}"));
        assert!(value >= min, "{series} = {value}, expected at least {min}\n{text}");
    };
    at_least(r#"toolgate_requests_total{method="tools/call",outcome="ok"}"#, 3.0);
    at_least(r#"toolgate_requests_total{method="tools/call",outcome="denied"}"#, 1.0);
    at_least(r#"toolgate_requests_total{method="tools/list",outcome="ok"}"#, 1.0);
    at_least(r#"toolgate_requests_total{method="http",outcome="auth_failed"}"#, 1.0);
    at_least(r#"toolgate_decisions_total{effect="allow"}"#, 3.0);
    at_least(r#"toolgate_decisions_total{effect="deny"}"#, 1.0);
    at_least(
        r#"toolgate_decision_policies_total{effect="allow",policy="ref-readers"}"#,
        3.0,
    );
    assert_eq!(
        sample(
            &text,
            r#"toolgate_decision_policies_total{effect="deny",policy="transfer-cap"}"#
        ),
        Some(1.0),
        "{text}"
    );
    // Histograms: buckets, counts.
    at_least(r#"toolgate_request_duration_seconds_count{method="tools/call"}"#, 4.0);
    at_least(
        r#"toolgate_request_duration_seconds_bucket{le="30.0",method="tools/call"}"#,
        4.0,
    );
    at_least("toolgate_auth_duration_seconds_count", 5.0);
    at_least(r#"toolgate_auth_duration_seconds_bucket{le="+Inf"}"#, 5.0);
    at_least("toolgate_policy_duration_seconds_count", 4.0);
    at_least("toolgate_upstream_duration_seconds_count", 3.0);
    // Gauges read at scrape time.
    assert_eq!(
        sample(&text, r#"toolgate_upstream_up{upstream="ref"}"#),
        Some(1.0),
        "{text}"
    );
    assert_eq!(sample(&text, "toolgate_signing_keys_loaded"), Some(1.0), "{text}");
    at_least("toolgate_signing_keys", 1.0);
    assert!(sample(&text, "toolgate_audit_queue_depth").is_some(), "{text}");
    assert_eq!(sample(&text, "toolgate_audit_spool_bytes"), Some(0.0), "{text}");
    assert_eq!(sample(&text, "toolgate_audit_database_up"), Some(1.0), "{text}");
    // No [rate_limits] here: no rate-limit series (the flood test in rate_limits.rs counts them).
    assert!(!text.contains("toolgate_rate_limit_refusals"), "{text}");

    // Nobody's identity is a label: not the principal, not the tenant, not the arguments.
    let rows = replica.rows().await;
    let principal = rows
        .iter()
        .find_map(|r| r.principal_id.clone())
        .expect("bob's calls are audited");
    assert!(
        !text.contains(&principal),
        "the principal id {principal} appears in the scrape"
    );
    assert!(!text.contains("hello"), "a tool argument appears in the scrape");
    assert!(!text.contains("/mcp"), "a request path appears in the scrape");

    // Not on the public listener.
    let public = reqwest::get(replica.mcp_url.replace("/mcp", "/metrics")).await.unwrap();
    assert_eq!(public.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_metrics_listener_unless_configured() {
    let emulator = crate::harness::emulator().await;
    let upstream = serve_http("127.0.0.1:0".parse().unwrap(), Default::default()).await;
    let replica = start_replica(&emulator, &http_upstream("ref", &upstream, ""), REF_POLICIES, "")
        .await
        .unwrap();
    assert_eq!(replica.gateway.metrics_addr(), None);
    let public = reqwest::get(replica.mcp_url.replace("/mcp", "/metrics")).await.unwrap();
    assert_eq!(public.status(), 404);
}

/// An OTLP/HTTP protobuf receiver (`POST /v1/traces`) keeping every span it is sent.
struct Receiver {
    spans: Arc<Mutex<Vec<Span>>>,
    _server: toolgate::server::RunningServer,
    endpoint: String,
}

#[handler]
fn receive(body: Vec<u8>, Data(spans): Data<&Arc<Mutex<Vec<Span>>>>) -> poem::Response {
    let Ok(request) = ExportTraceServiceRequest::decode(body.as_ref()) else {
        return poem::Response::builder()
            .status(poem::http::StatusCode::BAD_REQUEST)
            .finish();
    };
    let mut kept = spans.lock();
    for resource in request.resource_spans {
        for scope in resource.scope_spans {
            kept.extend(scope.spans);
        }
    }
    poem::Response::builder()
        .content_type("application/x-protobuf")
        .body(Vec::<u8>::new())
}

async fn receiver() -> Receiver {
    let spans = Arc::new(Mutex::new(Vec::new()));
    let app = Route::new().at("/v1/traces", post(receive)).data(spans.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = toolgate::server::serve_on(app, listener).unwrap();
    Receiver {
        spans,
        _server: server,
        endpoint: format!("http://{addr}/v1/traces"),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `00-TRACE-SPAN-01` → (trace id, span id).
fn ids(traceparent: &str) -> (String, String) {
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts.len(), 4, "{traceparent}");
    (parts[1].to_owned(), parts[2].to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traces_reach_an_otlp_receiver_with_their_links_and_the_upstream_gets_the_trace() {
    assert!(toolgate_telemetry::trace::init_subscriber(
        tracing_subscriber::EnvFilter::new("info,rmcp=warn")
    ));
    let receiver = receiver().await;
    let emulator = crate::harness::emulator().await;
    let upstream = serve_http("127.0.0.1:0".parse().unwrap(), Default::default()).await;
    let config = format!(
        "[telemetry.traces]\nendpoint = \"{}\"\nservice_name = \"toolgate-test\"\n",
        receiver.endpoint
    );
    let replica = start_replica(&emulator, &http_upstream("ref", &upstream, ""), REF_POLICIES, &config)
        .await
        .unwrap();
    let token = bob_token(&emulator).await;
    let mut bob = McpClient::connect(&replica.mcp_url, &token).await.unwrap();
    // The upstream session is opened by this first call (untraced by the caller).
    let answer = bob.call("ref__echo", json!({"text": "warm-up"})).await.unwrap();
    assert!(answer.get("result").is_some(), "{answer}");

    // 1. The caller's trace in the HTTP header.
    let header_parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    bob.headers.insert("traceparent", header_parent.parse().unwrap());
    let answer = bob.call("ref__echo", json!({"text": "by header"})).await.unwrap();
    assert!(answer.get("result").is_some(), "{answer}");
    bob.headers.clear();
    // 2. The caller's trace in `params._meta` only (SEP-414).
    let meta_parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let answer = bob
        .request(
            "tools/call",
            json!({"name": "ref__echo", "arguments": {"text": "by meta"}, "_meta": {"traceparent": meta_parent}}),
        )
        .await
        .unwrap();
    assert!(answer.get("result").is_some(), "{answer}");

    // The upstream got both traces, as a header and in `_meta`, naming toolgate's span.
    let received = upstream.received_traces();
    let echo: Vec<_> = received.iter().filter(|r| r.tool == "echo").skip(1).collect();
    assert_eq!(echo.len(), 2, "{received:?}");
    let (header_trace, header_caller_span) = ids(header_parent);
    let (meta_trace, meta_caller_span) = ids(meta_parent);
    for (call, trace, caller_span) in [
        (echo[0], &header_trace, &header_caller_span),
        (echo[1], &meta_trace, &meta_caller_span),
    ] {
        let header = call
            .header
            .as_deref()
            .unwrap_or_else(|| panic!("no traceparent header upstream: {received:?}"));
        let meta = call.meta.as_deref().expect("a _meta.traceparent upstream");
        assert_eq!(header, meta, "header and _meta name the same span");
        let (upstream_trace, upstream_parent) = ids(header);
        assert_eq!(&upstream_trace, trace, "the caller's trace continues upstream");
        assert_ne!(
            &upstream_parent, caller_span,
            "the upstream's parent is toolgate's span"
        );
    }

    replica.gateway.shutdown().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let spans = loop {
        let spans = receiver.spans.lock().clone();
        let upstream_spans = spans.iter().filter(|s| s.name == "toolgate.upstream").count();
        if upstream_spans >= 3 || Instant::now() > deadline {
            break spans;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let in_trace = |trace: &str, name: &str| -> Vec<Span> {
        spans
            .iter()
            .filter(|s| hex(&s.trace_id) == trace && s.name == name)
            .cloned()
            .collect()
    };
    let one = |trace: &str, name: &str| -> Span {
        let found = in_trace(trace, name);
        assert_eq!(
            found.len(),
            1,
            "{name} in trace {trace}: {found:?}\nall: {:?}",
            names(&spans)
        );
        found.into_iter().next().unwrap()
    };

    // Header: request ← caller; authenticate, mcp ← request; decision, audit, upstream ← mcp.
    let request = one(&header_trace, "request");
    assert_eq!(hex(&request.parent_span_id), header_caller_span);
    let authenticate = one(&header_trace, "toolgate.authenticate");
    assert_eq!(authenticate.parent_span_id, request.span_id);
    let mcp = one(&header_trace, "toolgate.mcp");
    assert_eq!(mcp.parent_span_id, request.span_id);
    let decision = one(&header_trace, "toolgate.decision");
    assert_eq!(decision.parent_span_id, mcp.span_id);
    let upstream_span = one(&header_trace, "toolgate.upstream");
    assert_eq!(upstream_span.parent_span_id, mcp.span_id);
    let audits = in_trace(&header_trace, "toolgate.audit");
    assert_eq!(audits.len(), 2, "the decision (durable) and the outcome");
    assert!(audits.iter().all(|a| a.parent_span_id == mcp.span_id));
    assert_eq!(
        hex(&upstream_span.span_id),
        ids(echo[0].header.as_deref().unwrap()).1,
        "the upstream was told toolgate.upstream is its parent"
    );

    // `_meta`: the MCP request's span continues the caller's trace named there.
    let mcp = one(&meta_trace, "toolgate.mcp");
    assert_eq!(hex(&mcp.parent_span_id), meta_caller_span);
    let decision = one(&meta_trace, "toolgate.decision");
    assert_eq!(decision.parent_span_id, mcp.span_id);
    let upstream_span = one(&meta_trace, "toolgate.upstream");
    assert_eq!(upstream_span.parent_span_id, mcp.span_id);
    assert_eq!(hex(&upstream_span.span_id), ids(echo[1].header.as_deref().unwrap()).1);
}

fn names(spans: &[Span]) -> Vec<(String, String)> {
    spans.iter().map(|s| (s.name.clone(), hex(&s.trace_id))).collect()
}

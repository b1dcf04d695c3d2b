//! The REST API under /api/v1: same provider, same Cedar engine, same audit trail as /mcp;
//! the OpenAPI document and Swagger UI carry this deployment's OAuth settings.

use reqwest::StatusCode;
use serde_json::{Value, json};
use toolgate::mcp_client::McpClient;
use toolgate_emulator::demo;

use crate::gateway::stack;
use crate::raw_http::{Framing, status_for_endless_body};

fn base(stack: &crate::gateway::Stack) -> String {
    stack.gateway.url()
}

#[tokio::test]
async fn whoami_and_tools_follow_the_same_provider_and_policies() {
    let stack = stack("").await;
    let http = reqwest::Client::new();
    let bob = stack.token("bob").await;
    let response = http
        .get(format!("{}/api/v1/whoami", base(&stack)))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let me: Value = response.json().await.unwrap();
    assert_eq!(me["id"], format!("user:{}/{}", demo::TENANT_ID, demo::BOB_OID));

    let tools: Value = http
        .get(format!("{}/api/v1/tools", base(&stack)))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut names: Vec<&str> = tools
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["get_task", "list_tasks"]);

    let anonymous = http
        .get(format!("{}/api/v1/whoami", base(&stack)))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(
        anonymous.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("resource_metadata=")
    );
}

#[tokio::test]
async fn explain_and_audit_are_for_admins_only() {
    let stack = stack("").await;
    let http = reqwest::Client::new();
    // Something to audit: bob tries the purge over MCP.
    let mut bob = McpClient::connect(&stack.mcp_url, &stack.token("bob").await)
        .await
        .unwrap();
    bob.call("purge_tasks", json!({"older_than_days": 1})).await.unwrap();
    stack.gateway.audit.flush().await;

    let question = json!({
        "principal": {"kind": "user", "id": "bob", "tenant": demo::TENANT_ID, "roles": ["Task.Read"]},
        "tool": "create_task",
        "question": "call",
        "arguments": {"title": "x", "priority": 5}
    });
    let alice = stack.token("alice").await;
    let refused = http
        .post(format!("{}/api/v1/policy/explain", base(&stack)))
        .bearer_auth(&alice)
        .json(&question)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    let carol = stack.token("carol").await;
    let explained: Value = http
        .post(format!("{}/api/v1/policy/explain", base(&stack)))
        .bearer_auth(&carol)
        .json(&question)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(explained["effect"], "deny", "{explained}");
    assert_eq!(explained["determining_policies"], json!(["urgent-needs-task-all"]));
    assert_eq!(explained["policy_set_hash"], stack.gateway.policy.policy_set_hash());

    let page: Value = http
        .get(format!("{}/api/v1/audit?decision=deny&tool=purge_tasks", base(&stack)))
        .bearer_auth(&carol)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 1, "{page}");
    assert_eq!(page["rows"][0]["policy_ids"], json!(["dangerous-admin-only"]));
    let refused = http
        .get(format!("{}/api/v1/audit", base(&stack)))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let bad = http
        .get(format!("{}/api/v1/audit?decision=maybe", base(&stack)))
        .bearer_auth(&carol)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn health_is_open_and_ready_checks_the_audit_trail() {
    let stack = stack("").await;
    assert_eq!(
        reqwest::get(format!("{}/api/v1/health", base(&stack)))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        reqwest::get(format!("{}/api/v1/ready", base(&stack)))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_openapi_document_carries_this_deployments_oauth_settings() {
    let stack = stack("").await;
    let text = reqwest::get(format!("{}/api/v1/openapi.json", base(&stack)))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !text.contains("toolgate.invalid") && !text.contains("placeholder"),
        "placeholders left: {text}"
    );
    let spec: Value = serde_json::from_str(&text).unwrap();
    let flow = &spec["components"]["securitySchemes"]["EntraAuth"]["flows"]["authorizationCode"];
    let authority = format!("{}/{}/oauth2/v2.0", stack.emulator.base_url(), demo::TENANT_ID);
    assert_eq!(flow["authorizationUrl"], format!("{authority}/authorize"), "{flow}");
    assert_eq!(flow["tokenUrl"], format!("{authority}/token"));
    assert!(flow["scopes"].get(demo::API_SCOPE_ACCESS_AS_USER).is_some(), "{flow}");
    assert_eq!(spec["servers"][0]["url"], format!("{}/api/v1", base(&stack)));
}

#[tokio::test]
async fn swagger_ui_runs_pkce_with_the_client_prefilled_and_no_secret() {
    let stack = stack("").await;
    let page = reqwest::get(format!("{}/docs", base(&stack)))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("usePkceWithAuthorizationCodeGrant: true"),
        "initOAuth not injected"
    );
    assert!(page.contains(&format!("clientId: \"{}\"", demo::API_CLIENT_ID)));
    assert!(page.contains(demo::API_SCOPE_ACCESS_AS_USER));
    assert!(!page.contains(demo::API_CLIENT_SECRET), "no secret reaches the browser");
    let receiver = reqwest::get(format!("{}/docs/oauth-receiver.html", base(&stack)))
        .await
        .unwrap();
    assert_eq!(receiver.status(), StatusCode::OK);
}

#[tokio::test]
async fn tools_are_called_over_rest_through_the_same_gate_and_audit() {
    let stack = stack("").await;
    let http = reqwest::Client::new();
    let alice = stack.token("alice").await;
    let created = http
        .post(format!("{}/api/v1/tools/create_task", base(&stack)))
        .bearer_auth(&alice)
        .json(&json!({"title": "From REST", "priority": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::OK);
    let result: Value = created.json().await.unwrap();
    assert!(
        result["content"][0]["text"].as_str().unwrap().contains("From REST"),
        "{result}"
    );
    assert_eq!(stack.tasks().list(None).len(), 3);

    // Refused by policy: answered exactly like a tool that does not exist.
    let urgent = http
        .post(format!("{}/api/v1/tools/create_task", base(&stack)))
        .bearer_auth(&alice)
        .json(&json!({"title": "Urgent", "priority": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(urgent.status(), StatusCode::NOT_FOUND);
    let missing = http
        .post(format!("{}/api/v1/tools/nope", base(&stack)))
        .bearer_auth(&alice)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let urgent_body: Value = urgent.json().await.unwrap();
    let missing_body: Value = missing.json().await.unwrap();
    assert_eq!(urgent_body, missing_body);

    let rows = stack.audit_rows().await;
    let calls: Vec<_> = rows
        .iter()
        .filter(|r| r.tool.as_deref() == Some("create_task"))
        .collect();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].decision, toolgate_core::AuditDecision::Allow);
    assert_eq!(calls[1].decision, toolgate_core::AuditDecision::Deny);
    assert_eq!(calls[1].policy_ids, vec!["urgent-needs-task-all".to_owned()]);
    assert_eq!(
        calls[1].principal_id.as_deref(),
        Some(format!("user:{}/{}", demo::TENANT_ID, demo::ALICE_OID).as_str())
    );
    assert!(!calls[0].request_id.is_empty());
}

/// Every operation that takes a body, its documented limit (docs/api.md), and a body just under
/// it that is served.
fn body_operations() -> [(&'static str, usize, Value); 2] {
    let question = |padding: usize| {
        json!({
            "principal": {"kind": "user", "id": "alice", "tenant": demo::TENANT_ID, "roles": ["Task.Write"]},
            "tool": "create_task",
            "question": "call",
            "arguments": {"title": "x", "priority": 2, "padding": "p".repeat(padding)}
        })
    };
    [
        (
            "/api/v1/tools/create_task",
            1024 * 1024,
            json!({"title": "Padded", "padding": "p".repeat(1_000_000)}),
        ),
        ("/api/v1/policy/explain", 64 * 1024, question(60 * 1024)),
    ]
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_413_before_authentication_and_parsing() {
    let stack = stack("").await;
    let http = reqwest::Client::new();
    let carol = stack.token("carol").await;
    let alice = stack.token("alice").await;
    let addr = stack.gateway.server.local_addr();
    let json_type = [("content-type", "application/json")];
    for (path, limit, _) in body_operations() {
        let url = format!("{}{path}", base(&stack));
        // One byte over, from an admin, a non-admin (explain is admin only) and nobody: 413 for
        // all, so no check ran before the limit.
        for token in [Some(&carol), Some(&alice), None] {
            let mut request = http
                .post(&url)
                .header("content-type", "application/json")
                .body(vec![b' '; limit + 1]);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE, "{path}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["error"], "payload_too_large", "{body}");
            assert!(body["message"].as_str().unwrap().contains(&limit.to_string()), "{body}");
        }
        // The 64 MB of issue 10 C4, declared and never sent: refused from the header alone.
        let auth = format!("Bearer {carol}");
        let headers = [json_type[0], ("authorization", auth.as_str())];
        let declared =
            status_for_endless_body(addr, "POST", path, &headers, Framing::Declared(64 << 20), 2 << 20).await;
        assert_eq!(declared, 413, "{path}");
        // Chunked, no length: refused once the limit is passed, the rest never awaited.
        let chunked = status_for_endless_body(addr, "POST", path, &headers, Framing::Chunked, limit + (1 << 20)).await;
        assert_eq!(chunked, 413, "{path}");
    }
    // Operations without a body take none.
    let whoami = status_for_endless_body(
        addr,
        "GET",
        "/api/v1/whoami",
        &json_type,
        Framing::Declared(64 << 20),
        1 << 20,
    )
    .await;
    assert_eq!(whoami, 413);
    // The audit trail saw no call.
    assert!(stack.audit_rows().await.iter().all(|row| row.tool.is_none()));
}

#[tokio::test]
async fn bodies_under_their_limit_are_served_as_before() {
    let stack = stack("").await;
    let http = reqwest::Client::new();
    let carol = stack.token("carol").await;
    for (path, limit, body) in body_operations() {
        let text = body.to_string();
        assert!(
            text.len() < limit && text.len() > limit * 9 / 10,
            "{path}: {}",
            text.len()
        );
        let response = http
            .post(format!("{}{path}", base(&stack)))
            .bearer_auth(&carol)
            .header("content-type", "application/json")
            .body(text)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let answer: Value = response.json().await.unwrap();
        if path.ends_with("explain") {
            assert_eq!(answer["effect"], "allow", "{answer}");
        } else {
            assert_eq!(answer["isError"], false, "{answer}");
        }
    }
    assert!(stack.tasks().list(None).iter().any(|t| t.title == "Padded"));
    // GETs without a body, and with an empty one, are unaffected.
    let whoami = http
        .get(format!("{}/api/v1/whoami", base(&stack)))
        .bearer_auth(&carol)
        .header("content-length", "0")
        .send()
        .await
        .unwrap();
    assert_eq!(whoami.status(), StatusCode::OK);
}

#[tokio::test]
async fn readiness_stays_ready_and_is_served_from_one_probe() {
    let stack = stack("").await;
    let http = reqwest::Client::new();
    let url = format!("{}/api/v1/ready", base(&stack));
    // Many asks at once (a load balancer, a flood): all answered, all ready.
    let asks: Vec<_> = (0..40).map(|_| http.get(&url).send()).collect();
    for answer in futures::future::join_all(asks).await {
        let answer = answer.unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["status"], "ready");
    }
    // Readiness reads no row and writes none.
    assert!(stack.audit_rows().await.is_empty());
    assert!(toolgate_audit::READINESS_STATEMENT.ends_with("LIMIT 0"));
}

/// `'sha256-…'` (standard base64, as CSP writes it) of `text`.
fn csp_hash(text: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes());
    let url_safe = toolgate_jose::base64url_encode(digest.as_ref());
    let mut standard: String = url_safe
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    while !standard.len().is_multiple_of(4) {
        standard.push('=');
    }
    format!("'sha256-{standard}'")
}

/// The text of every inline `<script>` element of `html`: what follows the first `<script …>`
/// tag before each `</script>` (a script may mention `<script` in its text; only `</script>`
/// ends it).
fn inline_scripts(html: &str) -> Vec<&str> {
    let mut scripts = Vec::new();
    let mut segments: Vec<&str> = html.split("</script>").collect();
    segments.pop();
    for segment in segments {
        let opening = segment
            .match_indices("<script")
            .map(|(at, _)| at)
            .find(|at| matches!(segment.as_bytes().get(at + "<script".len()), Some(b' ' | b'>')))
            .unwrap_or_else(|| panic!("no opening tag before </script>"));
        let (_, text) = segment[opening..].split_once('>').unwrap();
        scripts.push(text);
    }
    scripts
}

fn directive<'a>(csp: &'a str, name: &str) -> &'a str {
    csp.split(';')
        .map(str::trim)
        .find_map(|d| d.strip_prefix(name).map(str::trim))
        .unwrap_or_else(|| panic!("no {name} in {csp}"))
}

#[tokio::test]
async fn swagger_ui_pages_refuse_framing_and_run_only_their_own_inline_code() {
    let stack = stack("").await;
    for (path, cache, scripts) in [("/docs", "no-cache", 2), ("/docs/oauth-receiver.html", "no-store", 1)] {
        let response = reqwest::get(format!("{}{path}", base(&stack))).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let header = |name: &str| {
            response.headers()[name]
                .to_str()
                .unwrap_or_else(|_| panic!("{path}: {name}"))
                .to_owned()
        };
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        assert_eq!(header("referrer-policy"), "no-referrer", "{path}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("cache-control"), cache, "{path}");
        let csp = header("content-security-policy");
        assert_eq!(directive(&csp, "frame-ancestors"), "'none'", "{csp}");
        assert_eq!(directive(&csp, "default-src"), "'none'", "{csp}");
        assert_eq!(directive(&csp, "base-uri"), "'none'", "{csp}");
        assert!(!csp.contains("unsafe") && !csp.contains('*'), "{csp}");
        // Exactly the page's own inline scripts may run: one hash for each, nothing else.
        let page = response.text().await.unwrap();
        let inline = inline_scripts(&page);
        assert_eq!(inline.len(), scripts, "{path}");
        let allowed: Vec<&str> = directive(&csp, "script-src").split(' ').collect();
        let expected: Vec<String> = inline.iter().map(|s| csp_hash(s)).collect();
        assert_eq!(allowed, expected, "{path}");
    }
    // Swagger UI may call the API and redeem codes at the emulator, nowhere else.
    let page = reqwest::get(format!("{}/docs", base(&stack))).await.unwrap();
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert_eq!(
        directive(&csp, "connect-src"),
        format!("'self' {} {}", base(&stack), stack.emulator.base_url()),
        "{csp}"
    );
    // The OpenAPI document is not sniffed either.
    let spec = reqwest::get(format!("{}/api/v1/openapi.json", base(&stack)))
        .await
        .unwrap();
    assert_eq!(spec.headers()["x-content-type-options"], "nosniff");
}

//! The REST API under /api/v1: same provider, same Cedar engine, same audit trail as /mcp;
//! the OpenAPI document and Swagger UI carry this deployment's OAuth settings.

use reqwest::StatusCode;
use serde_json::{Value, json};
use toolgate::mcp_client::McpClient;
use toolgate_emulator::demo;

use crate::gateway::stack;

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
    assert_eq!(stack.gateway.tasks.list(None).len(), 3);

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

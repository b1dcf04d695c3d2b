//! The core loop over real HTTP with real tokens: request → provider → principal → Cedar →
//! tool → audit.

use serde_json::{Value, json};
use toolgate::mcp_client::{McpClient, McpClientError};
use toolgate_core::AuditDecision;
use toolgate_emulator::demo;

use crate::gateway::stack;

const ALL: [&str; 5] = ["create_task", "delete_task", "get_task", "list_tasks", "purge_tasks"];

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn each_demo_user_sees_exactly_the_tools_the_policies_allow() {
    let stack = stack("").await;
    let expected = [
        ("alice", vec!["create_task", "delete_task", "get_task", "list_tasks"]),
        ("bob", vec!["get_task", "list_tasks"]),
        ("carol", ALL.to_vec()),
        ("dave", vec![]),
    ];
    for (user, tools) in expected {
        let mut client = McpClient::connect(&stack.mcp_url, &stack.token(user).await)
            .await
            .unwrap();
        assert_eq!(client.list_tools().await.unwrap(), names(&tools), "{user}");
    }
    // An app (client credentials) with Task.Read.
    let app = crate::harness::app_token(&stack.emulator).await;
    let mut client = McpClient::connect(&stack.mcp_url, &app).await.unwrap();
    assert_eq!(client.list_tools().await.unwrap(), names(&["get_task", "list_tasks"]));
}

#[tokio::test]
async fn tools_list_is_marked_private() {
    let stack = stack("").await;
    let mut client = McpClient::connect(&stack.mcp_url, &stack.token("bob").await)
        .await
        .unwrap();
    let response = client.request("tools/list", json!({})).await.unwrap();
    assert_eq!(response["result"]["cacheScope"], "private", "{response}");
    let rows = stack.audit_rows().await;
    let list = rows
        .iter()
        .find(|r| r.method == "tools/list")
        .expect("the list is audited");
    assert_eq!(list.reason_code.as_deref(), Some("listed 2 of 5"));
    assert_eq!(
        list.policy_set_hash.as_deref(),
        Some(stack.gateway.policy.policy_set_hash().as_str())
    );
}

#[tokio::test]
async fn a_denied_call_looks_like_an_unknown_tool_and_is_audited_with_its_policy() {
    let stack = stack("").await;
    let mut bob = McpClient::connect(&stack.mcp_url, &stack.token("bob").await)
        .await
        .unwrap();
    let denied = bob.call("purge_tasks", json!({"older_than_days": 0})).await.unwrap();
    let unknown = bob.call("no_such_tool", json!({})).await.unwrap();
    assert_eq!(
        denied["error"]["code"], unknown["error"]["code"],
        "{denied} vs {unknown}"
    );
    assert_eq!(denied["error"]["message"], unknown["error"]["message"]);
    assert_eq!(stack.tasks().list(None).len(), 2, "the purge did not run");

    let allowed = bob.call("list_tasks", json!({})).await.unwrap();
    assert!(allowed.get("result").is_some(), "{allowed}");

    let rows = stack.audit_rows().await;
    let purge = rows
        .iter()
        .find(|r| r.tool.as_deref() == Some("purge_tasks"))
        .expect("an audit row for the denial");
    assert_eq!(purge.decision, AuditDecision::Deny);
    assert_eq!(
        purge.principal_id.as_deref(),
        Some(format!("user:{}/{}", demo::TENANT_ID, demo::BOB_OID).as_str())
    );
    assert_eq!(purge.policy_ids, vec!["dangerous-admin-only".to_owned()]);
    assert_eq!(
        purge.policy_set_hash.as_deref(),
        Some(stack.gateway.policy.policy_set_hash().as_str())
    );
    assert!(purge.argument_digest.as_deref().is_some_and(|d| d.len() == 64));
    assert!(purge.session_id.is_some());
    let list = rows.iter().find(|r| r.tool.as_deref() == Some("list_tasks")).unwrap();
    assert_eq!(list.decision, AuditDecision::Allow);
    assert_eq!(list.policy_ids, vec!["task-read".to_owned()]);
    assert_eq!(list.outcome, "ok");
}

#[tokio::test]
async fn an_argument_conditioned_tool_stays_listed_and_refuses_the_wrong_call() {
    let stack = stack("").await;
    let mut alice = McpClient::connect(&stack.mcp_url, &stack.token("alice").await)
        .await
        .unwrap();
    assert!(alice.list_tools().await.unwrap().contains(&"create_task".to_owned()));
    let normal = alice
        .call("create_task", json!({"title": "Write docs", "priority": 2}))
        .await
        .unwrap();
    assert!(normal.get("result").is_some(), "{normal}");
    let urgent = alice
        .call("create_task", json!({"title": "Fix prod", "priority": 5}))
        .await
        .unwrap();
    assert!(urgent.get("error").is_some(), "{urgent}");
    let mut carol = McpClient::connect(&stack.mcp_url, &stack.token("carol").await)
        .await
        .unwrap();
    let urgent_by_carol = carol
        .call("create_task", json!({"title": "Fix prod", "priority": 5}))
        .await
        .unwrap();
    assert!(urgent_by_carol.get("result").is_some(), "{urgent_by_carol}");

    let rows = stack.audit_rows().await;
    let refused: Vec<_> = rows.iter().filter(|r| r.decision == AuditDecision::Deny).collect();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].policy_ids, vec!["urgent-needs-task-all".to_owned()]);
}

#[tokio::test]
async fn a_session_presented_with_another_users_token_is_refused() {
    let stack = stack("").await;
    let mut alice = McpClient::connect(&stack.mcp_url, &stack.token("alice").await)
        .await
        .unwrap();
    assert!(alice.session.is_some(), "stateful mode hands out a session id");
    let mut hijacker = McpClient::new(&stack.mcp_url, &stack.token("bob").await);
    hijacker.session = alice.session.clone();
    match hijacker.request("tools/list", json!({})).await {
        Err(McpClientError::Refused { status, .. }) => assert_eq!(status.as_u16(), 403),
        other => panic!("expected a 403, got {other:?}"),
    }
    // Alice keeps her session.
    assert_eq!(alice.list_tools().await.unwrap().len(), 4);
}

#[tokio::test]
async fn shadow_mode_allows_and_records_would_deny() {
    let stack = stack(&format!(
        "[policy]\ndir = \"{}\"\nshadow = true\n",
        concat!(env!("CARGO_MANIFEST_DIR"), "/../policies")
    ))
    .await;
    let mut bob = McpClient::connect(&stack.mcp_url, &stack.token("bob").await)
        .await
        .unwrap();
    let response = bob.call("delete_task", json!({"id": 1})).await.unwrap();
    assert!(
        response.get("result").is_some(),
        "shadow mode lets it through: {response}"
    );
    let rows = stack.audit_rows().await;
    let row = rows.iter().find(|r| r.tool.as_deref() == Some("delete_task")).unwrap();
    assert_eq!(row.decision, AuditDecision::ShadowDeny);
    assert_eq!(row.reason_code.as_deref(), Some("shadow_would_deny"));
}

#[tokio::test]
async fn a_shadow_forbid_lets_the_call_through_and_the_audit_row_says_it_would_deny() {
    let dir = tempfile::tempdir().unwrap();
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/../policies");
    for file in ["roles.cedar", "guards.cedar"] {
        std::fs::copy(format!("{demo}/{file}"), dir.path().join(file)).unwrap();
    }
    std::fs::write(
        dir.path().join("trial.cedar"),
        "@id(\"trial-no-delete\")\n@mode(\"shadow\")\nforbid (principal, action == Action::\"call:delete_task\", resource);\n",
    )
    .unwrap();
    let stack = stack(&format!("[policy]\ndir = \"{}\"\n", dir.path().display())).await;
    let mut alice = McpClient::connect(&stack.mcp_url, &stack.token("alice").await)
        .await
        .unwrap();
    // Enforced policies alone: alice (Task.Write) may delete, and still sees the tool.
    assert!(alice.list_tools().await.unwrap().contains(&"delete_task".to_owned()));
    let response = alice.call("delete_task", json!({"id": 1})).await.unwrap();
    assert!(
        response.get("result").is_some(),
        "the shadow forbid is not enforced: {response}"
    );
    let allowed = alice.call("list_tasks", json!({})).await.unwrap();
    assert!(allowed.get("result").is_some(), "{allowed}");

    let rows = stack.audit_rows().await;
    let row = rows.iter().find(|r| r.tool.as_deref() == Some("delete_task")).unwrap();
    assert_eq!(row.decision, AuditDecision::ShadowDeny);
    assert_eq!(row.reason_code.as_deref(), Some("shadow_would_deny"));
    assert_eq!(row.policy_ids, ["task-write", "shadow:trial-no-delete"]);
    let untouched = rows.iter().find(|r| r.tool.as_deref() == Some("list_tasks")).unwrap();
    assert_eq!(untouched.decision, AuditDecision::Allow);
    assert_eq!(untouched.policy_ids, ["task-read", "task-write"]);
}

#[tokio::test]
async fn explicit_denials_can_be_configured() {
    let stack = stack("[mcp]\ndenial = \"explicit\"\n").await;
    let mut bob = McpClient::connect(&stack.mcp_url, &stack.token("bob").await)
        .await
        .unwrap();
    let denied = bob.call("purge_tasks", json!({"older_than_days": 0})).await.unwrap();
    assert!(
        denied["error"]["message"].as_str().unwrap().contains("forbidden"),
        "{denied}"
    );
}

#[tokio::test]
async fn unknown_methods_answer_method_not_found() {
    let stack = stack("").await;
    let mut client = McpClient::connect(&stack.mcp_url, &stack.token("alice").await)
        .await
        .unwrap();
    let response = client.request("server/discover-nonsense", json!({})).await.unwrap();
    assert_eq!(response["error"]["code"], -32601, "{response}");
}

#[tokio::test]
async fn the_mcp_endpoint_requires_a_token_and_audits_the_failure() {
    let stack = stack("").await;
    let response = reqwest::Client::new()
        .post(&stack.mcp_url)
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("resource_metadata=")
    );
    let mut claims = crate::harness::user_claims(&stack.emulator, "alice");
    claims.insert("aud".into(), Value::from("api://someone-else"));
    let wrong = crate::harness::sign(&stack.emulator, claims);
    let mut client = McpClient::new(&stack.mcp_url, &wrong);
    assert!(matches!(
        client.request("tools/list", json!({})).await,
        Err(McpClientError::Refused { .. })
    ));

    let rows = stack.audit_rows().await;
    let reasons: Vec<_> = rows
        .iter()
        .filter(|r| r.decision == AuditDecision::AuthFailed)
        .map(|r| r.reason_code.clone().unwrap_or_default())
        .collect();
    assert_eq!(reasons, vec!["missing_token".to_owned(), "wrong_audience".to_owned()]);
}

#[tokio::test]
async fn foreign_origins_and_hosts_are_refused() {
    let stack = stack("").await;
    let token = stack.token("alice").await;
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "x", "version": "0"}}});
    let client = reqwest::Client::new();
    let with_origin = client
        .post(&stack.mcp_url)
        .bearer_auth(&token)
        .header("accept", "application/json, text/event-stream")
        .header("origin", "https://evil.example")
        .json(&initialize)
        .send()
        .await
        .unwrap();
    assert_eq!(with_origin.status(), 403);
    let with_host = client
        .post(&stack.mcp_url)
        .bearer_auth(&token)
        .header("accept", "application/json, text/event-stream")
        .header("host", "evil.example")
        .json(&initialize)
        .send()
        .await
        .unwrap();
    assert_eq!(with_host.status(), 403);
}

#[tokio::test]
async fn stateless_mode_serves_without_sessions() {
    let stack = stack("[mcp]\nstateful = false\njson_response = true\n").await;
    let mut client = McpClient::new(&stack.mcp_url, &stack.token("bob").await);
    assert_eq!(client.list_tools().await.unwrap(), names(&["get_task", "list_tasks"]));
    assert!(client.session.is_none());
}

#[tokio::test]
async fn prompts_and_resources_are_governed_like_tools() {
    let stack = stack("").await;
    let mut bob = McpClient::connect(&stack.mcp_url, &stack.token("bob").await)
        .await
        .unwrap();
    let prompts = bob.request("prompts/list", json!({})).await.unwrap();
    assert_eq!(prompts["result"]["prompts"][0]["name"], "summarize_tasks", "{prompts}");
    assert_eq!(prompts["result"]["cacheScope"], "private");
    let prompt = bob
        .request("prompts/get", json!({"name": "summarize_tasks"}))
        .await
        .unwrap();
    assert!(
        prompt["result"]["messages"][0]["content"]["text"]
            .as_str()
            .unwrap()
            .contains("Summarize"),
        "{prompt}"
    );
    let resources = bob.request("resources/list", json!({})).await.unwrap();
    assert_eq!(resources["result"]["resources"][0]["uri"], "tasks://all", "{resources}");
    let read = bob
        .request("resources/read", json!({"uri": "tasks://all"}))
        .await
        .unwrap();
    assert!(
        read["result"]["contents"][0]["text"]
            .as_str()
            .unwrap()
            .contains("Rotate the signing keys"),
        "{read}"
    );

    // dave holds no role: nothing listed, and a get/read is refused exactly like a missing item.
    let mut dave = McpClient::connect(&stack.mcp_url, &stack.token("dave").await)
        .await
        .unwrap();
    let prompts = dave.request("prompts/list", json!({})).await.unwrap();
    assert_eq!(prompts["result"]["prompts"], json!([]), "{prompts}");
    let resources = dave.request("resources/list", json!({})).await.unwrap();
    assert_eq!(resources["result"]["resources"], json!([]), "{resources}");
    let denied = dave
        .request("prompts/get", json!({"name": "summarize_tasks"}))
        .await
        .unwrap();
    let missing = dave
        .request("prompts/get", json!({"name": "no_such_prompt"}))
        .await
        .unwrap();
    assert_eq!(
        denied["error"]["code"], missing["error"]["code"],
        "{denied} vs {missing}"
    );
    assert_eq!(
        denied["error"]["message"]
            .as_str()
            .unwrap()
            .replace("summarize_tasks", "X"),
        missing["error"]["message"]
            .as_str()
            .unwrap()
            .replace("no_such_prompt", "X")
    );
    let denied = dave
        .request("resources/read", json!({"uri": "tasks://all"}))
        .await
        .unwrap();
    let missing = dave
        .request("resources/read", json!({"uri": "tasks://nothing"}))
        .await
        .unwrap();
    assert_eq!(
        denied["error"]["code"], missing["error"]["code"],
        "{denied} vs {missing}"
    );

    let rows = stack.audit_rows().await;
    let bob_read = rows
        .iter()
        .find(|r| r.method == "resources/read" && r.decision == AuditDecision::Allow)
        .unwrap();
    assert_eq!(bob_read.policy_ids, vec!["read-prompts-and-resources".to_owned()]);
    let dave_get = rows
        .iter()
        .find(|r| {
            r.method == "prompts/get"
                && r.tool.as_deref() == Some("summarize_tasks")
                && r.decision == AuditDecision::Deny
        })
        .expect("the refused prompts/get is audited");
    assert_eq!(
        dave_get.principal_id.as_deref(),
        Some(format!("user:{}/{}", demo::TENANT_ID, demo::DAVE_OID).as_str())
    );
}

//! The demo tools behind the whole gate, over MCP and REST: bounded titles, a bounded task list,
//! and lists that come a page at a time (issue 10 F6).

use reqwest::StatusCode;
use serde_json::{Value, json};
use toolgate::mcp_client::McpClient;
use toolgate_demo::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_TASKS, MAX_TITLE_CHARS};

use crate::gateway::{Stack, stack};

/// The JSON text a tool answered with.
fn tool_text(response: &Value) -> Value {
    let text = response["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text content: {response}"));
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// Fills the server's task list (seeded with two) up to `total` tasks.
fn fill(stack: &Stack, total: usize) {
    for i in stack.tasks().len()..total {
        stack.tasks().create(format!("task {i}"), 3, None).unwrap();
    }
    assert_eq!(stack.tasks().len(), total);
}

fn ids(page: &Value) -> Vec<u64> {
    page["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn list_tasks_comes_a_page_at_a_time_with_an_opaque_cursor() {
    let stack = stack("").await;
    fill(&stack, 230);
    let mut bob = McpClient::connect(&stack.mcp_url, &stack.token("bob").await)
        .await
        .unwrap();
    // No arguments: the first page of the default size, and where to go on.
    let first = tool_text(&bob.call("list_tasks", json!({})).await.unwrap());
    assert_eq!(ids(&first).len(), DEFAULT_PAGE_SIZE, "{first}");
    let mut seen = ids(&first);
    let mut cursor = first["nextCursor"].as_str().unwrap().to_owned();
    // The largest page, followed to the end.
    loop {
        let page = tool_text(
            &bob.call("list_tasks", json!({"cursor": cursor, "limit": MAX_PAGE_SIZE}))
                .await
                .unwrap(),
        );
        assert!(ids(&page).len() <= MAX_PAGE_SIZE);
        seen.extend(ids(&page));
        match page.get("nextCursor") {
            Some(next) => cursor = next.as_str().unwrap().to_owned(),
            None => break,
        }
    }
    let all: Vec<u64> = stack.tasks().list(None).iter().map(|t| t.id).collect();
    assert_eq!(seen, all, "every task once, oldest first");
    // A page larger than the maximum, an empty one, and a cursor the server never gave are
    // invalid params (-32602), as MCP answers a bad cursor.
    for arguments in [
        json!({"limit": MAX_PAGE_SIZE + 1}),
        json!({"limit": 0}),
        json!({"cursor": "not-a-cursor"}),
        json!({"status": "maybe"}),
    ] {
        let refused = bob.call("list_tasks", arguments.clone()).await.unwrap();
        assert_eq!(refused["error"]["code"], -32602, "{arguments}: {refused}");
    }
    // Over REST, the same page shape.
    let page: Value = reqwest::Client::new()
        .post(format!("{}/api/v1/tools/list_tasks", stack.gateway.url()))
        .bearer_auth(stack.token("bob").await)
        .json(&json!({"limit": 3, "status": "open"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let text: Value = serde_json::from_str(page["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(ids(&text), [1, 2, 3]);
    assert!(text["nextCursor"].is_string(), "{text}");
}

#[tokio::test]
async fn create_task_refuses_oversized_titles_and_projects_and_stores_nothing() {
    let stack = stack("").await;
    let http = reqwest::Client::new();
    let alice = stack.token("alice").await;
    let before = stack.tasks().len();
    let call = |arguments: Value| {
        http.post(format!("{}/api/v1/tools/create_task", stack.gateway.url()))
            .bearer_auth(&alice)
            .json(&arguments)
            .send()
    };
    // A megabyte title (the REST API reads bodies up to 1 MiB): refused, with the limit named.
    let huge = call(json!({"title": "a".repeat(1_000_000)})).await.unwrap();
    assert_eq!(huge.status(), StatusCode::BAD_REQUEST);
    let body: Value = huge.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains(&format!("1 to {MAX_TITLE_CHARS} characters")),
        "{body}"
    );
    for arguments in [
        json!({"title": "é".repeat(MAX_TITLE_CHARS + 1)}),
        json!({"title": ""}),
        json!({"title": "ok", "project": "p".repeat(65)}),
    ] {
        let refused = call(arguments.clone()).await.unwrap();
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{arguments}");
    }
    assert_eq!(stack.tasks().len(), before, "nothing stored");
    // The longest title, in characters (two bytes each), is taken whole.
    let longest = "é".repeat(MAX_TITLE_CHARS);
    let created = call(json!({"title": longest, "project": "p".repeat(64)}))
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::OK);
    assert_eq!(stack.tasks().len(), before + 1);
    assert!(stack.tasks().list(None).iter().any(|t| t.title == longest));
    // Over MCP the same refusal is a JSON-RPC invalid-params error.
    let mut alice_mcp = McpClient::connect(&stack.mcp_url, &alice).await.unwrap();
    let refused = alice_mcp
        .call("create_task", json!({"title": "a".repeat(10_000)}))
        .await
        .unwrap();
    assert_eq!(refused["error"]["code"], -32602, "{refused}");
    assert_eq!(stack.tasks().len(), before + 1);
}

#[tokio::test]
async fn a_full_task_list_refuses_creation_with_a_tool_error_until_tasks_are_deleted() {
    let stack = stack("").await;
    fill(&stack, MAX_TASKS);
    let mut alice = McpClient::connect(&stack.mcp_url, &stack.token("alice").await)
        .await
        .unwrap();
    let refused = alice.call("create_task", json!({"title": "one more"})).await.unwrap();
    // A tool execution error (MCP: a result with `isError`), which the model can read.
    assert_eq!(refused["result"]["isError"], true, "{refused}");
    let message = refused["result"]["content"][0]["text"].as_str().unwrap();
    assert!(
        message.contains("full") && message.contains(&MAX_TASKS.to_string()),
        "{message}"
    );
    assert_eq!(stack.tasks().len(), MAX_TASKS, "nothing stored");
    // Over REST the tool error is the call's result too.
    let rest: Value = reqwest::Client::new()
        .post(format!("{}/api/v1/tools/create_task", stack.gateway.url()))
        .bearer_auth(stack.token("alice").await)
        .json(&json!({"title": "one more"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rest["isError"], true, "{rest}");
    assert_eq!(stack.tasks().len(), MAX_TASKS);
    // Deleting one makes room for one.
    let deleted = alice.call("delete_task", json!({"id": 1})).await.unwrap();
    assert_eq!(tool_text(&deleted)["deleted"], true, "{deleted}");
    let created = alice.call("create_task", json!({"title": "one more"})).await.unwrap();
    assert_eq!(tool_text(&created)["title"], "one more", "{created}");
    assert_eq!(stack.tasks().len(), MAX_TASKS);
}

#[tokio::test]
async fn the_summary_prompt_shows_one_page_of_open_tasks() {
    let stack = stack("").await;
    fill(&stack, MAX_PAGE_SIZE + 20);
    let mut bob = McpClient::connect(&stack.mcp_url, &stack.token("bob").await)
        .await
        .unwrap();
    let prompt = bob
        .request("prompts/get", json!({"name": "summarize_tasks"}))
        .await
        .unwrap();
    let text = prompt["result"]["messages"][0]["content"]["text"].as_str().unwrap();
    assert!(
        text.contains(&format!("Only the oldest {MAX_PAGE_SIZE} open tasks")),
        "{text}"
    );
    assert!(text.contains("\"task 99\"") && !text.contains("\"task 100\""), "{text}");
}

//! The external servers over stdio (server-everything, FastMCP's bank.py) with an rmcp client, and
//! the MCP Inspector CLI against the reference upstream.

use std::process::Stdio;

use rmcp::ServiceExt as _;
use rmcp::transport::TokioChildProcess;
use serde_json::{Value, json};
use toolgate_test_upstream::external::{CommandLine, bank_py_cmd, run_inspector, server_everything_cmd};
use toolgate_test_upstream::{UpstreamOptions, serve_http};

use crate::support::{Client, Recorder, call, local, text_of};

/// FastMCP takes ~2 s to start; Node servers under a second.
const START_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

async fn stdio_client(command: &CommandLine) -> Client {
    let (transport, _stderr) = TokioChildProcess::builder(command.command())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawning the server");
    tokio::time::timeout(START_TIMEOUT, Recorder::new().serve(transport))
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn server_everything_lists_its_tools_over_stdio() {
    let client = stdio_client(&server_everything_cmd()).await;
    let info = client.peer_info().unwrap();
    assert_eq!(
        info.server_info.as_ref().map(|i| i.name.as_str()),
        Some("mcp-servers/everything")
    );
    let tools = client.list_all_tools().await.unwrap();
    for name in ["echo", "get-sum", "get-tiny-image"] {
        assert!(
            tools.iter().any(|t| t.name == name),
            "{name} missing from {:?}",
            tools.iter().map(|t| &t.name).collect::<Vec<_>>()
        );
    }
    let echo = tools.iter().find(|t| t.name == "echo").unwrap();
    assert_eq!(echo.input_schema["properties"]["message"]["type"], "string");
    let echoed = client.call_tool(call("echo", json!({"message": "hi"}))).await.unwrap();
    assert!(text_of(&echoed).contains("hi"), "{}", text_of(&echoed));
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn bank_py_types_transfer_arguments_for_policies() {
    let client = stdio_client(&bank_py_cmd()).await;
    let tools = client.list_all_tools().await.unwrap();
    let transfer = tools.iter().find(|t| t.name == "transfer").expect("transfer listed");
    let schema = Value::Object((*transfer.input_schema).clone());
    assert_eq!(schema["properties"]["amount"]["type"], "integer", "{schema}");
    assert_eq!(
        schema["properties"]["currency"]["enum"],
        json!(["EUR", "USD"]),
        "{schema}"
    );
    assert_eq!(schema["properties"]["currency"]["type"], "string", "{schema}");
    let mut required: Vec<_> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    required.sort_unstable();
    assert_eq!(required, ["amount", "currency"]);
    assert!(tools.iter().any(|t| t.name == "balance"));

    let done = client
        .call_tool(call("transfer", json!({"amount": 5, "currency": "EUR"})))
        .await
        .unwrap();
    assert_eq!(
        (done.is_error, text_of(&done).as_str()),
        (Some(false), "transferred 5 EUR")
    );
    let balance = client
        .call_tool(call("balance", json!({"currency": "EUR"})))
        .await
        .unwrap();
    assert_eq!(text_of(&balance), "995");
    let refused = client
        .call_tool(call("transfer", json!({"amount": 5, "currency": "GBP"})))
        .await
        .unwrap();
    assert_eq!(refused.is_error, Some(true));
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn inspector_cli_lists_and_calls_tools_with_a_bearer_header() {
    let options = UpstreamOptions {
        require_static_header: Some(("authorization".into(), "Bearer x".into())),
        ..UpstreamOptions::default()
    };
    let upstream = serve_http(local(), options).await;
    let url = upstream.url().as_str();

    let listed = run_inspector(&[url, "--method", "tools/list", "--header", "Authorization: Bearer x"]).await;
    assert_eq!(listed.exit_code, Some(0), "stderr: {}", listed.stderr);
    let tools = listed.json().unwrap();
    let names: Vec<&str> = tools["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    for name in [
        "test_simple_text",
        "test_sampling",
        "echo",
        "whoami",
        "transfer",
        "add_tool",
        "crash",
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    let transfer = tools["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "transfer")
        .unwrap();
    assert_eq!(transfer["inputSchema"]["properties"]["amount"]["type"], "integer");

    let called = run_inspector(&[
        url,
        "--method",
        "tools/call",
        "--tool-name",
        "transfer",
        "--tool-arg",
        "amount=5",
        "currency=EUR",
        "--header",
        "Authorization: Bearer x",
    ])
    .await;
    assert_eq!(called.exit_code, Some(0), "stderr: {}", called.stderr);
    assert_eq!(called.json().unwrap()["content"][0]["text"], "transferred 5 EUR");

    // Without the header the upstream refuses and the Inspector fails (no output on stdout).
    let refused = run_inspector(&[url, "--method", "tools/list"]).await;
    assert_ne!(refused.exit_code, Some(0));
    assert!(refused.stdout.trim().is_empty(), "{}", refused.stdout);
    assert_eq!(upstream.tool_calls(), 1);
}

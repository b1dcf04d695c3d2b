//! The `toolgate-test-upstream` binary as a child process (stdio and HTTP modes) with an rmcp client.

use std::path::PathBuf;
use std::process::Stdio;

use serde_json::json;
use toolgate_test_upstream::CRASH_EXIT_CODE;
use toolgate_test_upstream::external::upstream_stdio_cmd;

use rmcp::ServiceExt as _;
use tokio::io::AsyncBufReadExt as _;

use crate::support::{Recorder, TIMEOUT, call, connect, raw_initialize, text_of};

#[tokio::test]
async fn stdio_mode_serves_the_same_tools_and_crash_exits_with_code_3() {
    let command = upstream_stdio_cmd();
    assert_eq!(
        command.program,
        PathBuf::from(env!("CARGO_BIN_EXE_toolgate-test-upstream"))
    );
    let mut child = command
        .command()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (stdin, stdout) = (child.stdin.take().unwrap(), child.stdout.take().unwrap());
    let client = tokio::time::timeout(TIMEOUT, Recorder::new().serve((stdout, stdin)))
        .await
        .unwrap()
        .unwrap();

    let tools = client.list_all_tools().await.unwrap();
    for name in [
        "test_simple_text",
        "echo",
        "whoami",
        "transfer",
        "add_tool",
        "hang",
        "sleep",
        "crash",
    ] {
        assert!(tools.iter().any(|t| t.name == name), "{name} missing");
    }
    assert_eq!(
        text_of(
            &client
                .call_tool(call("echo", json!({"text": "over stdio"})))
                .await
                .unwrap()
        ),
        "over stdio"
    );
    let whoami = client.call_tool(call("whoami", json!({}))).await.unwrap();
    assert_eq!(whoami.is_error, Some(true));
    assert!(
        text_of(&whoami).contains("needs streamable HTTP"),
        "{}",
        text_of(&whoami)
    );
    let added = client
        .call_tool(call("add_tool", json!({"name": "stdio_tool"})))
        .await
        .unwrap();
    assert!(text_of(&added).contains("notified 1 session(s)"), "{}", text_of(&added));

    let crashed = tokio::time::timeout(TIMEOUT, client.call_tool(call("crash", json!({}))))
        .await
        .unwrap();
    assert!(crashed.is_err(), "crash answered: {crashed:?}");
    let status = tokio::time::timeout(TIMEOUT, child.wait()).await.unwrap().unwrap();
    assert_eq!(status.code(), Some(CRASH_EXIT_CODE));
}

#[tokio::test]
async fn http_mode_prints_its_url_checks_the_header_and_crash_exits_with_code_3() {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_toolgate-test-upstream"))
        .args([
            "http",
            "--port",
            "0",
            "--name",
            "bin-upstream",
            "--require-header",
            "authorization: Bearer bin-token",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let url = tokio::time::timeout(TIMEOUT, lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(url.starts_with("http://127.0.0.1:") && url.ends_with("/mcp"), "{url}");

    assert_eq!(raw_initialize(&url, &[]).await.status(), 401);
    let (client, _) = connect(&url, Some("bin-token")).await.unwrap();
    let info = client.peer_info().unwrap();
    assert_eq!(info.server_info.as_ref().map(|i| i.name.as_str()), Some("bin-upstream"));
    assert_eq!(
        text_of(
            &client
                .call_tool(call("echo", json!({"text": "over http"})))
                .await
                .unwrap()
        ),
        "over http"
    );

    let crashed = tokio::time::timeout(TIMEOUT, client.call_tool(call("crash", json!({}))))
        .await
        .unwrap();
    assert!(crashed.is_err(), "crash answered: {crashed:?}");
    let status = tokio::time::timeout(TIMEOUT, child.wait()).await.unwrap().unwrap();
    assert_eq!(status.code(), Some(CRASH_EXIT_CODE));
}

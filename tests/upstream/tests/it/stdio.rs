//! `toolgate-test-upstream stdio` as a child process with an rmcp client.

use std::path::PathBuf;
use std::process::Stdio;

use serde_json::json;
use toolgate_test_upstream::CRASH_EXIT_CODE;
use toolgate_test_upstream::external::upstream_stdio_cmd;

use crate::support::{Recorder, TIMEOUT, call, text_of};
use rmcp::ServiceExt as _;

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

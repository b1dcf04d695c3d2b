//! The official MCP SDK clients (TypeScript `@modelcontextprotocol/sdk`, Python `mcp`), unmodified,
//! complete discovery → DCR → consent → emulator sign-in → token → tools/list → refresh against
//! the proxy. `scripts/test.sh` installs them (see `tests/clients/README.md`).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use super::{ALICE_TOOLS, Options, stack};

fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("clients")
}

/// Runs a client script against a fresh proxy and returns its JSON report.
async fn run_client(program: &Path, script: &Path, installed: &Path, install_hint: &str) -> Value {
    assert!(
        installed.exists(),
        "{} is not installed: run {install_hint} (scripts/test.sh does this)",
        installed.display()
    );
    let stack = stack(Options::default()).await;
    let child = tokio::process::Command::new(program)
        .arg(script)
        .env("MCP_URL", &stack.mcp_url)
        .env("TOOLGATE_USER", "alice")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
    let output = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("the client finishes within two minutes")
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{} failed\nstdout: {stdout}\nstderr: {stderr}",
        script.display()
    );
    assert!(!stderr.contains("Bearer ey"), "no token in the client's log");
    eprintln!("{}", stderr);
    let report: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("bad report ({e}): {stdout}"));

    // What the SDK saw must match what the proxy did.
    assert_eq!(report["tools"], serde_json::json!(ALICE_TOOLS), "{report}");
    assert_eq!(
        report["tools_after_refresh"],
        serde_json::json!(ALICE_TOOLS),
        "{report}"
    );
    assert_eq!(report["refreshed"], true);
    assert_eq!(report["token_changed"], true);
    assert_eq!(report["iss_checked"], true, "the redirect carried iss = issuer");
    let client_id = report["client_id"].as_str().unwrap().to_owned();
    let rows = stack.audit_rows().await;
    let listed = rows
        .iter()
        .filter(|row| {
            row.principal_id.as_deref()
                == Some(&format!(
                    "user:{}/{}",
                    toolgate_emulator::demo::TENANT_ID,
                    toolgate_emulator::demo::ALICE_OID
                ))
        })
        .count();
    assert!(
        listed >= 2,
        "two tools/list by alice audited, got {listed}: client {client_id}"
    );
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typescript_sdk_client_completes_the_flow() {
    let dir = clients_dir().join("ts");
    run_client(
        Path::new("node"),
        &dir.join("oauth_flow.mjs"),
        &dir.join("node_modules/@modelcontextprotocol/sdk"),
        "`npm ci` in tests/clients/ts",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_client_completes_the_flow() {
    let dir = clients_dir().join("python");
    let python = dir.join(".venv/bin/python");
    run_client(
        &python,
        &dir.join("oauth_flow.py"),
        &python,
        "`python3 -m venv tests/clients/python/.venv && tests/clients/python/.venv/bin/pip install -r tests/clients/python/requirements.txt`",
    )
    .await;
}

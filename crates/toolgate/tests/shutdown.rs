//! SIGTERM — what Kubernetes, Docker and systemd send — stops `toolgate serve` gracefully:
//! in-flight work finishes and every audit event accepted before the signal reaches the
//! database (issue #10 B4).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Stdio;
use std::time::Duration;

use serde_json::json;
use toolgate::audit::{AuditFilter, AuditStore};
use toolgate::emulator::{Emulator, EmulatorConfig, demo};
use toolgate::mcp_client::McpClient;
use toolgate::sign_in::SignIn;

async fn free_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn sigterm_stops_gracefully_and_keeps_every_audit_row() {
    let emulator = Emulator::start(EmulatorConfig::demo(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let upstream = toolgate_test_upstream::serve_http("127.0.0.1:0".parse().unwrap(), Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("policies")).unwrap();
    std::fs::write(
        dir.path().join("policies/reference.cedar"),
        "@id(\"reference-tools\") permit (principal, action in Action::\"call\", resource in Server::\"reference\");",
    )
    .unwrap();
    let port = free_port().await;
    let audit_url = format!("sqlite://{}?mode=rwc", dir.path().join("audit.db").display());
    let config = dir.path().join("toolgate.toml");
    // Outcomes wait up to ten seconds in memory: only a graceful stop writes them in time.
    std::fs::write(
        &config,
        format!(
            r#"
[server]
bind = "127.0.0.1:{port}"

[auth]
provider = "entra-jwt"
[auth.entra]
authority_host = "{authority}"
tenant_id = "{tenant}"
client_id = "{client}"
app_roles = ["Task.Read"]

[policy]
dir = "policies"

[[upstream]]
name = "reference"
transport = "streamable-http"
url = "{upstream}"

[audit]
database_url = "{audit_url}"
spool_path = "{spool}"
flush_interval = "10s"
"#,
            authority = emulator.base_url(),
            tenant = demo::TENANT_ID,
            client = demo::API_CLIENT_ID,
            upstream = upstream.url(),
            spool = dir.path().join("audit.spool").display(),
        ),
    )
    .unwrap();
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_toolgate"));
    // The binary reads AZURE_* and TOOLGATE_* (config overrides): the developer's shell must not
    // change what this test sees.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("AZURE_") || name.starts_with("TOOLGATE_") {
            command.env_remove(name.as_ref());
        }
    }
    let mut child = command
        .args(["serve", "--config", config.to_str().unwrap()])
        .env("TOOLGATE_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let mut ready = false;
    for _ in 0..100 {
        if reqwest::get(format!("{base}/healthz"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "toolgate serve did not come up");

    let token = SignIn {
        authority: emulator.base_url(),
        tenant: demo::TENANT_ID.to_owned(),
        client_id: demo::CLI_CLIENT_ID.to_owned(),
        redirect_uri: demo::CLI_REDIRECT_URI.to_owned(),
        user: "bob".to_owned(),
        scopes: vec![demo::API_SCOPE_ACCESS_AS_USER.to_owned()],
    }
    .run()
    .await
    .unwrap()
    .access_token;
    let mut client = McpClient::connect(&format!("{base}/mcp"), &token).await.unwrap();
    let calls = 18;
    for _ in 0..calls {
        let answer = client.call("reference__echo", json!({"text": "hello"})).await.unwrap();
        assert!(answer.get("result").is_some(), "{answer}");
    }

    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("toolgate stops within the grace period")
        .unwrap();
    assert!(status.success(), "exit status {status:?}");

    let rows = AuditStore::connect(&audit_url)
        .await
        .unwrap()
        .query(&AuditFilter {
            tool: Some("reference__echo".into()),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(rows.len(), calls, "one row per call");
    assert!(
        rows.iter()
            .all(|row| row.upstream.as_deref() == Some("reference") && row.upstream_item.as_deref() == Some("echo"))
    );
    assert!(
        rows.iter().all(|row| row.outcome == "ok"),
        "every outcome was written before exit: {:?}",
        rows.iter().map(|r| &r.outcome).collect::<Vec<_>>()
    );
}

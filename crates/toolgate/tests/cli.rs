//! The binary's documented exit codes: 0 success, 1 failure (e.g. a failed policy expectation),
//! 2 bad configuration or policies, with messages naming the file and location.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

fn toolgate(args: &[&str], cwd: &Path) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_toolgate"));
    // The binary reads AZURE_* and TOOLGATE_* (config overrides): the developer's shell must not
    // change what these tests see.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("AZURE_") || name.starts_with("TOOLGATE_") {
            command.env_remove(name.as_ref());
        }
    }
    command
        .args(args)
        .current_dir(cwd)
        .env("TOOLGATE_LOG", "error")
        .output()
        .unwrap()
}

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn policy_tests_pass_with_exit_0() {
    let out = toolgate(&["policy", "test", "policies/tests/demo.toml"], repo());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 failed"));
}

#[test]
fn a_failed_expectation_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("wrong.toml");
    std::fs::write(
        &table,
        r#"
[[case]]
name = "bob may purge (he may not)"
principal = { kind = "user", id = "bob", tenant = "3c9a8b1e-5d2f-4e7a-9b0c-1d2e3f4a5b6c", roles = ["Task.Read"] }
action = "call"
tool = "purge_tasks"
arguments = { older_than_days = 1 }
expect = "allow"
"#,
    )
    .unwrap();
    let out = toolgate(&["policy", "test", table.to_str().unwrap()], repo());
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("FAIL"));
}

#[test]
fn invalid_policies_exit_2_with_their_location() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("typo.cedar"),
        "permit (principal, action, resource)\nwhen { principal.rolez.contains(\"x\") };",
    )
    .unwrap();
    let out = toolgate(&["policy", "validate", "--dir", dir.path().to_str().unwrap()], repo());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("typo.cedar:2:"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_bad_config_exits_2_naming_key_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("toolgate.toml");
    std::fs::write(&path, "[auth]\nprovider = \"entra-jwt\"\n[auth.entra]\ntenant_id = \"contoso\"\nclient_id = \"a9e2d5f0-3b1c-4d8e-9f7a-6c5b4a3d2e1f\"\n").unwrap();
    let out = toolgate(&["serve", "--config", path.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("auth.entra.tenant_id") && stderr.contains("toolgate.toml"),
        "{stderr}"
    );
}

#[test]
fn the_schema_is_printed() {
    let out = toolgate(&["policy", "schema"], repo());
    assert_eq!(out.status.code(), Some(0));
    let schema = String::from_utf8_lossy(&out.stdout);
    assert!(schema.contains("action \"call:create_task\""), "{schema}");
}

/// `policy catalog --config` lists a configuration's upstreams; the saved snapshot then checks
/// policies without them (what CI does).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_are_checked_against_a_configs_upstreams_and_a_saved_snapshot() {
    let upstream = toolgate_test_upstream::serve_http("127.0.0.1:0".parse().unwrap(), Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("toolgate.toml");
    std::fs::write(
        &config,
        format!(
            "[auth]\nprovider = \"entra-jwt\"\n[auth.entra]\ntenant_id = \"3c9a8b1e-5d2f-4e7a-9b0c-1d2e3f4a5b6c\"\nclient_id = \"a9e2d5f0-3b1c-4d8e-9f7a-6c5b4a3d2e1f\"\n\n[[upstream]]\nname = \"ref\"\ntransport = \"streamable-http\"\nurl = \"{}\"\n",
            upstream.url()
        ),
    )
    .unwrap();
    let policies = dir.path().join("policies");
    std::fs::create_dir(&policies).unwrap();
    std::fs::write(
        policies.join("ref.cedar"),
        "permit (principal, action == Action::\"call:ref__transfer\", resource in Server::\"ref\")\nwhen { context.input.amount < 100 };",
    )
    .unwrap();
    // Run elsewhere, so `policies` is found through the configuration's `[policy] dir`.
    let run = |args: Vec<String>| {
        let cwd = std::env::temp_dir();
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            toolgate(&args, &cwd)
        })
    };
    let config_arg = config.display().to_string();
    let dir_arg = policies.display().to_string();
    let schema = run(vec![
        "policy".into(),
        "schema".into(),
        "--config".into(),
        config_arg.clone(),
    ])
    .await
    .unwrap();
    assert_eq!(
        schema.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&schema.stderr)
    );
    assert!(String::from_utf8_lossy(&schema.stdout).contains("action \"call:ref__transfer\""));
    let validated = run(vec![
        "policy".into(),
        "validate".into(),
        "--config".into(),
        config_arg.clone(),
    ])
    .await
    .unwrap();
    assert_eq!(
        validated.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&validated.stderr)
    );
    assert!(String::from_utf8_lossy(&validated.stdout).starts_with("1 policies valid"));

    let saved = run(vec!["policy".into(), "catalog".into(), "--config".into(), config_arg])
        .await
        .unwrap();
    assert_eq!(saved.status.code(), Some(0));
    let snapshot = dir.path().join("catalog.json");
    std::fs::write(&snapshot, &saved.stdout).unwrap();
    drop(upstream);
    let offline = run(vec![
        "policy".into(),
        "validate".into(),
        "--catalog".into(),
        snapshot.display().to_string(),
        "--dir".into(),
        dir_arg.clone(),
    ])
    .await
    .unwrap();
    assert_eq!(
        offline.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&offline.stderr)
    );
    std::fs::write(
        policies.join("typo.cedar"),
        "permit (principal, action == Action::\"call:ref__transfer\", resource)\nwhen { context.input.amout < 100 };",
    )
    .unwrap();
    let refused = run(vec![
        "policy".into(),
        "validate".into(),
        "--catalog".into(),
        snapshot.display().to_string(),
        "--dir".into(),
        dir_arg,
    ])
    .await
    .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("typo.cedar:2:"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

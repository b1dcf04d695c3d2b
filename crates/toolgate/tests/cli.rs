//! The binary's documented exit codes: 0 success, 1 failure (e.g. a failed policy expectation),
//! 2 bad configuration or policies, with messages naming the file and location.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

fn toolgate(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_toolgate"))
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

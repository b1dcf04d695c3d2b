//! The example policies in policies/ pass their table, and the schema they are checked against.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use toolgate_policy::testing::{run_table, run_table_file};
use toolgate_policy::{ClaimMapping, PolicyConfig, PolicyEngine, PolicyError};

fn demo_engine() -> PolicyEngine {
    PolicyEngine::load(
        &PolicyConfig {
            policy_dir: repo_root().join("policies"),
            shadow: false,
            claims: ClaimMapping::default(),
        },
        &demo_catalog(),
    )
    .unwrap()
}

#[test]
fn demo_table_passes() {
    let report = run_table_file(&demo_engine(), repo_root().join("policies/tests/demo.toml")).unwrap();
    println!("{report}");
    assert!(report.passed(), "{report}");
    assert_eq!(report.cases.len(), 45);
}

/// The gate's one-call list filter (`ToolPolicy::listable`, decided per tool shape) answers
/// exactly what `authorize_list` answers tool by tool — unknown and repeated names included, and
/// in engine-wide shadow mode (where every decision is enforced as an allow).
#[test]
fn listable_is_authorize_list_tool_by_tool() {
    use toolgate_core::ToolPolicy;
    let names = [
        "purge_tasks",
        "list_tasks",
        "no_such_tool",
        "get_task",
        "create_task",
        "list_tasks",
        "delete_task",
    ];
    let principals = [
        user("alice", &["Task.Read", "Task.Write"]),
        user("carol", &["MCPServer.Admin", "Task.All"]),
        user("dave", &[]),
        app("nightly", &["Task.Read"]),
    ];
    let shadow = PolicyEngine::load(
        &PolicyConfig {
            policy_dir: repo_root().join("policies"),
            shadow: true,
            claims: ClaimMapping::default(),
        },
        &demo_catalog(),
    )
    .unwrap();
    for engine in [demo_engine(), shadow] {
        for principal in &principals {
            let one_by_one: Vec<bool> = names
                .iter()
                .map(|name| ToolPolicy::authorize_list(&engine, principal, name).is_allowed())
                .collect();
            assert_eq!(
                ToolPolicy::listable(&engine, principal, &names),
                one_by_one,
                "{} (shadow: {})",
                principal.id,
                engine.is_shadow()
            );
        }
    }
}

#[test]
fn demo_visible_tools() {
    let e = demo_engine();
    let all = ["list_tasks", "get_task", "create_task", "delete_task", "purge_tasks"];
    assert_eq!(
        e.visible_tools(&user("alice", &["Task.Read", "Task.Write"]), &all),
        &all[..4]
    );
    assert_eq!(
        e.visible_tools(&user("carol", &["MCPServer.Admin", "Task.All"]), &all),
        &all
    );
    assert_eq!(e.visible_tools(&app("nightly", &["Task.Read"]), &all), &all[..2]);
    assert!(e.visible_tools(&user("dave", &[]), &all).is_empty());
}

#[test]
fn demo_schema_declares_every_entity_and_action() {
    let engine = demo_engine();
    let schema = engine.schema_text();
    for declaration in [
        "entity User",
        "entity App",
        "entity Role",
        "entity Tool",
        "action \"call\"",
        "action \"list\"",
    ] {
        assert!(schema.contains(declaration), "schema lacks `{declaration}`:\n{schema}");
    }
}

#[test]
fn failing_cases_and_unknown_keys_are_reported() {
    let e = demo_engine();
    let report = run_table(
        &e,
        r#"
        [[case]]
        name = "bob may purge (wrong)"
        principal = { kind = "user", id = "bob", roles = ["Task.Read"] }
        action = "call"
        tool = "purge_tasks"
        arguments = { older_than_days = 1 }
        expect = "allow"
        "#,
    )
    .unwrap();
    assert!(!report.passed());
    let shown = report.to_string();
    assert!(shown.contains("FAIL  bob may purge (wrong) (call purge_tasks): expected allow, got deny; determining [dangerous-admin-only]"), "{shown}");
    assert!(shown.ends_with("0 passed, 1 failed"), "{shown}");

    let bad = run_table(
        &e,
        "[[case]]\nname = \"x\"\nprincipal = { kind = \"user\", id = \"a\" }\naction = \"call\"\ntool = \"t\"\nexpect = \"allow\"\nexpcted = 1\n",
    );
    assert!(matches!(bad, Err(PolicyError::Table { .. })));
    let bad = run_table(
        &e,
        "[[case]]\nname = \"x\"\nprincipal = { kind = \"user\", id = \"a\", role = [] }\naction = \"call\"\ntool = \"t\"\nexpect = \"allow\"\n",
    );
    assert!(matches!(bad, Err(PolicyError::Table { .. })));
}

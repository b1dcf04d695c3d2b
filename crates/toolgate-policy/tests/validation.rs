//! Loading: strict validation with file:line:col, duplicate ids, parse errors, directories, hash.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use toolgate_policy::{ClaimMapping, PolicyConfig, PolicyEngine, PolicyError, PolicyProblem};

fn problems(text: &str) -> Vec<PolicyProblem> {
    match try_engine(text) {
        Err(PolicyError::Invalid { problems }) => problems,
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("policies were accepted"),
    }
}

#[test]
fn strict_validation_catches_unknown_principal_attribute() {
    let p = problems(
        "// a comment\n@id(\"bad\")\npermit (principal, action in Action::\"call\", resource)\nwhen { principal.nosuchattr == \"x\" };\n",
    );
    // One problem per principal type (App and User both lack it).
    assert_eq!(p.len(), 2, "{p:?}");
    assert_eq!(p[0].file, "test.cedar");
    assert_eq!((p[0].line, p[0].col), (4, 8), "{p:?}");
    assert!(
        p[0].message
            .contains("attribute `nosuchattr` on entity type `App` not found"),
        "{}",
        p[0].message
    );
    assert!(p[1].message.contains("(help: did you mean"), "{}", p[1].message);
    let shown = PolicyError::Invalid { problems: p }.to_string();
    assert!(shown.contains("test.cedar:4:8: "), "{shown}");
}

#[test]
fn strict_validation_catches_unknown_input_field() {
    let p = problems(
        "permit (principal, action == Action::\"call:create_task\", resource)\n  when { context.input.nosuchfield == 1 };\n",
    );
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].line, 2, "{p:?}");
    assert!(p[0].col > 0);
    assert!(p[0].message.contains("nosuchfield"), "{}", p[0].message);
}

#[test]
fn unsupported_input_types_cannot_be_referenced() {
    // Optional fields need `has`, and a typo in a tool name is an unknown action.
    let p = problems(
        "permit (principal, action == Action::\"call:create_task\", resource)\nwhen { context.input.priority == 5 };",
    );
    assert!(p[0].message.contains("priority"), "{p:?}");
    let p = problems("permit (principal, action == Action::\"call:create_tsk\", resource);");
    assert_eq!((p[0].line, p[0].col > 0), (1, true), "{p:?}");
}

#[test]
fn parse_errors_are_located() {
    let p = problems("permit (principal, action, resource)\nwhen { principal.guest = true };");
    assert_eq!(p[0].line, 2, "{p:?}");
    assert!(p[0].col > 0);
}

#[test]
fn duplicate_ids_are_refused() {
    let r = PolicyEngine::from_sources(
        &[
            src("a.cedar", "@id(\"x\")\npermit (principal, action, resource);"),
            src("b.cedar", "\n\n@id(\"x\")\nforbid (principal, action, resource);"),
        ],
        &demo_catalog(),
        false,
        ClaimMapping::default(),
    );
    let Err(PolicyError::Invalid { problems }) = r else {
        panic!("accepted")
    };
    assert_eq!(problems.len(), 1);
    assert_eq!(
        (problems[0].file.as_str(), problems[0].line, problems[0].col),
        ("b.cedar", 3, 1)
    );
    assert!(
        problems[0]
            .message
            .contains("duplicate policy id `x` (first used in a.cedar)")
    );
}

#[test]
fn hash_changes_with_any_policy_text() {
    let a = engine("permit (principal, action, resource);");
    let b = engine("permit (principal, action, resource);");
    let c = engine("permit (principal, action, resource); ");
    assert_eq!(a.policy_set_hash(), b.policy_set_hash());
    assert_ne!(a.policy_set_hash(), c.policy_set_hash());
    assert_eq!(a.policy_set_hash().len(), 64);
    assert!(a.policy_set_hash().chars().all(|c| c.is_ascii_hexdigit()));
}

#[test]
fn load_reads_the_demo_directory_and_allows_an_empty_one() {
    let e = PolicyEngine::load(
        &PolicyConfig {
            policy_dir: repo_root().join("policies"),
            shadow: false,
            claims: ClaimMapping::default(),
        },
        &demo_catalog(),
    )
    .unwrap();
    assert!(e.policy_ids().iter().any(|id| id == "dangerous-admin-only"));

    let empty = std::env::temp_dir().join(format!("toolgate-policy-empty-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let e = PolicyEngine::load(
        &PolicyConfig {
            policy_dir: empty.clone(),
            shadow: false,
            claims: ClaimMapping::default(),
        },
        &demo_catalog(),
    )
    .unwrap();
    assert!(e.policy_ids().is_empty());
    std::fs::remove_dir_all(&empty).unwrap();

    let missing = PolicyEngine::load(
        &PolicyConfig {
            policy_dir: repo_root().join("no-such-dir"),
            shadow: false,
            claims: ClaimMapping::default(),
        },
        &demo_catalog(),
    );
    assert!(matches!(missing, Err(PolicyError::Io { .. })));
}

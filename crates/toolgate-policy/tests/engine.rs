//! Decisions: default deny, forbid wins, ids, errors, arguments, list semantics, shadow mode.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::json;
use toolgate_core::{Effect, Groups, ToolDescriptor};
use toolgate_policy::{ClaimKind, ClaimMapping, ExtraClaim, PolicyEngine, PolicyError, generate_schema};

#[test]
fn default_deny_with_no_policies() {
    let e = engine("");
    let d = e.authorize_call(&user("a", &["Task.Read"]), "list_tasks", &no_args());
    assert_eq!(d.effect(), Effect::Deny);
    assert!(!d.is_allowed());
    assert!(d.determining_policies().is_empty());
    assert!(d.errors().is_empty());
    assert_eq!(d.policy_set_hash(), e.policy_set_hash());
    assert!(e.visible_tools(&user("a", &[]), &["list_tasks", "get_task"]).is_empty());
}

#[test]
fn forbid_wins_and_ids_come_from_annotations_or_file_index() {
    let e = engine(
        r#"
        permit (principal, action in Action::"call", resource);
        @id("no-delete")
        forbid (principal, action == Action::"call:delete_task", resource);
        "#,
    );
    let alice = user("alice", &[]);
    let d = e.authorize_call(&alice, "get_task", &json!({"id": 1}));
    assert_eq!(d.effect(), Effect::Allow);
    assert!(d.is_allowed());
    assert_eq!(d.determining_policies(), ["test.cedar#0"]);
    let d = e.authorize_call(&alice, "delete_task", &json!({"id": 1}));
    assert_eq!(d.effect(), Effect::Deny);
    assert_eq!(d.determining_policies(), ["no-delete"]);
    assert_eq!(e.policy_ids(), ["no-delete", "test.cedar#0"]);
}

#[test]
fn unknown_tool_is_denied_with_an_error() {
    let e = engine(r#"permit (principal, action, resource);"#);
    let d = e.authorize_call(&user("a", &[]), "nope", &no_args());
    assert_eq!(d.effect(), Effect::Deny);
    assert_eq!(d.errors(), ["unknown tool `nope`"]);
    let d = e.authorize_list(&user("a", &[]), "nope");
    assert_eq!(d.effect(), Effect::Deny);
}

#[test]
fn evaluation_errors_never_allow() {
    // Overflow is a runtime error strict validation cannot see.
    let e = engine(
        r#"
        @id("overflowing-permit")
        permit (principal, action == Action::"call:get_task", resource)
        when { context.input.id + 9223372036854775807 > 0 };
        @id("all")
        permit (principal, action == Action::"call:delete_task", resource);
        @id("overflowing-forbid")
        forbid (principal, action == Action::"call:delete_task", resource)
        when { context.input.id * 9223372036854775807 > 0 };
        "#,
    );
    let a = user("a", &[]);
    let d = e.authorize_call(&a, "get_task", &json!({"id": 5}));
    assert_eq!(d.effect(), Effect::Deny);
    assert_eq!(d.errors().len(), 1, "{:?}", d.errors());
    assert!(d.errors()[0].contains("overflowing-permit"), "{:?}", d.errors());
    // An erroring forbid is skipped by cedar; toolgate fails closed instead.
    let d = e.authorize_call(&a, "delete_task", &json!({"id": 5}));
    assert_eq!(d.effect(), Effect::Deny);
    assert!(!d.is_allowed());
    assert!(d.errors()[0].contains("overflowing-forbid"), "{:?}", d.errors());
    // Without the error both work.
    assert_eq!(
        e.authorize_call(&a, "delete_task", &json!({"id": 0})).effect(),
        Effect::Allow
    );
}

#[test]
fn arguments_that_do_not_fit_the_schema_deny() {
    let e = engine(r#"permit (principal, action, resource);"#);
    let a = user("a", &[]);
    let d = e.authorize_call(&a, "create_task", &json!({"title": "x", "priority": "high"}));
    assert_eq!(d.effect(), Effect::Deny);
    assert_eq!(
        d.errors(),
        ["arguments do not match the input schema of create_task: priority: expected an integer, got a string"]
    );
    let d = e.authorize_call(&a, "create_task", &json!({"priority": 1}));
    assert_eq!(
        d.errors(),
        ["arguments do not match the input schema of create_task: title: required but missing"]
    );
    let d = e.authorize_call(&a, "create_task", &json!("just a string"));
    assert_eq!(d.effect(), Effect::Deny);
    // Unknown extra arguments are dropped; null means no arguments.
    let d = e.authorize_call(&a, "create_task", &json!({"title": "x", "colour": "red"}));
    assert_eq!(d.effect(), Effect::Allow, "{:?}", d.errors());
    assert_eq!(
        e.authorize_call(&a, "list_tasks", &serde_json::Value::Null).effect(),
        Effect::Allow
    );
}

#[test]
fn argument_conditioned_tool_stays_listed_and_the_wrong_call_is_refused() {
    let e = engine(
        r#"
        @id("own-task")
        permit (principal, action == Action::"call:get_task", resource)
        when { context.input.id == 1 };
        @id("no-purge")
        forbid (principal, action == Action::"call:purge_tasks", resource);
        @id("small-create")
        permit (principal, action == Action::"call:create_task", resource)
        when { context.input has priority && context.input.priority < 3 };
        "#,
    );
    let a = user("a", &[]);
    // ToolHive would evaluate with no arguments and hide get_task; it is callable, so it is listed.
    let d = e.authorize_list(&a, "get_task");
    assert_eq!(d.effect(), Effect::Allow);
    assert_eq!(d.determining_policies(), ["own-task"]);
    assert_eq!(
        e.authorize_call(&a, "get_task", &json!({"id": 1})).effect(),
        Effect::Allow
    );
    assert_eq!(
        e.authorize_call(&a, "get_task", &json!({"id": 2})).effect(),
        Effect::Deny
    );
    // A tool with only a forbid is hidden, and so is one with no permit at all.
    let d = e.authorize_list(&a, "purge_tasks");
    assert_eq!(d.effect(), Effect::Deny);
    assert_eq!(d.determining_policies(), ["no-purge"]);
    assert_eq!(e.authorize_list(&a, "delete_task").effect(), Effect::Deny);
    assert_eq!(
        e.visible_tools(
            &a,
            &[
                "list_tasks",
                "get_task",
                "create_task",
                "delete_task",
                "purge_tasks",
                "nope"
            ]
        ),
        ["get_task", "create_task"]
    );
}

#[test]
fn explicit_list_policies_hide_and_show() {
    let e = engine(
        r#"
        @id("all-calls")
        permit (principal, action in Action::"call", resource);
        @id("hide-destructive")
        forbid (principal, action == Action::"list", resource) when { resource.destructive };
        @id("show-purge")
        permit (principal, action == Action::"list", resource == Tool::"purge_tasks");
        "#,
    );
    let a = user("a", &[]);
    let d = e.authorize_list(&a, "delete_task");
    assert_eq!(d.effect(), Effect::Deny);
    assert_eq!(d.determining_policies(), ["hide-destructive"]);
    // Forbid wins over the list permit too.
    assert_eq!(e.authorize_list(&a, "purge_tasks").effect(), Effect::Deny);
    assert_eq!(e.authorize_list(&a, "get_task").effect(), Effect::Allow);
    // Hiding from the list does not refuse the call.
    assert_eq!(
        e.authorize_call(&a, "delete_task", &json!({"id": 1})).effect(),
        Effect::Allow
    );
}

#[test]
fn shadow_mode_lets_through_and_records() {
    let e = PolicyEngine::from_sources(
        &[src(
            "p.cedar",
            r#"permit (principal in Role::"Task.Read", action, resource);"#,
        )],
        &demo_catalog(),
        true,
        ClaimMapping::default(),
    )
    .unwrap();
    assert!(e.is_shadow());
    let d = e.authorize_call(&user("a", &[]), "list_tasks", &no_args());
    assert_eq!(d.effect(), Effect::Deny);
    assert!(d.is_allowed() && d.is_shadow_mode() && d.is_shadow_deny() && d.is_allowed());
    let d = e.authorize_call(&user("a", &["Task.Read"]), "list_tasks", &no_args());
    assert_eq!(d.effect(), Effect::Allow);
    assert!(d.is_allowed() && d.is_shadow_mode() && !d.is_shadow_deny());
}

#[test]
fn groups_are_parents_and_overage_is_visible() {
    let e = engine(
        r#"
        @id("eng")
        permit (principal in Group::"eng-id", action in Action::"call", resource);
        @id("overage")
        forbid (principal is User, action, resource) when { principal.groups_overage };
        "#,
    );
    let mut a = user("a", &[]);
    a.groups = Groups::Listed {
        ids: vec!["eng-id".into()],
    };
    assert_eq!(e.authorize_call(&a, "list_tasks", &no_args()).effect(), Effect::Allow);
    a.groups = Groups::Overage { source: None };
    let d = e.authorize_call(&a, "list_tasks", &no_args());
    assert_eq!(d.effect(), Effect::Deny);
    assert_eq!(d.determining_policies(), ["overage"]);
    // Apps have no groups: the same policies simply do not permit them.
    assert_eq!(
        e.authorize_call(&app("j", &[]), "list_tasks", &no_args()).effect(),
        Effect::Deny
    );
}

#[test]
fn extra_claims_become_optional_attributes() {
    let claims = ClaimMapping {
        extra: vec![
            ExtraClaim {
                claim: "ctry".into(),
                attribute: "country".into(),
                kind: ClaimKind::String,
            },
            ExtraClaim {
                claim: "lvl".into(),
                attribute: "level".into(),
                kind: ClaimKind::Long,
            },
            ExtraClaim {
                claim: "wids".into(),
                attribute: "directory_roles".into(),
                kind: ClaimKind::StringSet,
            },
            ExtraClaim {
                claim: "mfa".into(),
                attribute: "mfa".into(),
                kind: ClaimKind::Bool,
            },
        ],
    };
    let schema = generate_schema(&demo_catalog(), &claims).unwrap();
    assert!(
        schema
            .text()
            .contains("  country?: String,\n  level?: Long,\n  directory_roles?: Set<String>,\n  mfa?: Bool,")
    );
    let e = PolicyEngine::from_sources(
        &[src(
            "c.cedar",
            r#"
            @id("de-mfa")
            permit (principal, action in Action::"call", resource)
            when { principal has country && principal.country == "DE" && principal has mfa && principal.mfa
                   && principal has level && principal.level >= 2
                   && principal has directory_roles && principal.directory_roles.contains("r1") };
            "#,
        )],
        &demo_catalog(),
        false,
        claims.clone(),
    )
    .unwrap();
    let mut a = user("a", &[]);
    a.claims = serde_json::from_value(json!({"ctry": "DE", "lvl": 3, "wids": ["r1"], "mfa": true})).unwrap();
    assert_eq!(e.authorize_call(&a, "list_tasks", &no_args()).effect(), Effect::Allow);
    let mut b = app("b", &[]);
    b.claims = a.claims.clone();
    assert_eq!(e.authorize_call(&b, "list_tasks", &no_args()).effect(), Effect::Allow);
    // A claim of the wrong type is left out, not coerced.
    a.claims.insert("lvl".into(), json!("3"));
    let d = e.authorize_call(&a, "list_tasks", &no_args());
    assert_eq!(d.effect(), Effect::Deny);
    assert!(d.errors().is_empty());

    // Attribute names must be identifiers that are not built in.
    for bad in ["in", "my-attr", "roles"] {
        let m = ClaimMapping {
            extra: vec![ExtraClaim {
                claim: "x".into(),
                attribute: bad.into(),
                kind: ClaimKind::String,
            }],
        };
        assert!(
            matches!(
                generate_schema(&demo_catalog(), &m),
                Err(PolicyError::ClaimMapping { .. })
            ),
            "{bad}"
        );
    }
}

#[test]
fn odd_tool_and_argument_names_are_quoted() {
    let catalog: Vec<ToolDescriptor> = serde_json::from_value(json!([{
        "name": "weird \"tool\"\\x.v2",
        "input_schema": {"type": "object", "properties": {
            "odd-name": {"type": "string"}, "in": {"type": "boolean"}, "ratio": {"type": "number"}
        }}
    }]))
    .unwrap();
    let g = generate_schema(&catalog, &ClaimMapping::default()).unwrap();
    assert!(
        g.text().contains(r#"action "call:weird \"tool\"\\x.v2" in ["call"]"#),
        "{}",
        g.text()
    );
    assert!(
        g.text().contains(r#"input: { "in"?: Bool, "odd-name"?: String }"#),
        "{}",
        g.text()
    );
    assert_eq!(g.omitted(), [r#"weird "tool"\x.v2: ratio"#]);
    // Missing annotations take MCP's defaults.
    let e = PolicyEngine::from_sources(
        &[src(
            "w.cedar",
            r#"permit (principal, action == Action::"call:weird \"tool\"\\x.v2", resource)
               when { context.input has "odd-name" && context.input["odd-name"] == "ok"
                      && resource.destructive && resource.open_world && !resource.read_only && !resource.idempotent };"#,
        )],
        &catalog,
        false,
        ClaimMapping::default(),
    )
    .unwrap();
    let d = e.authorize_call(
        &user("a", &[]),
        "weird \"tool\"\\x.v2",
        &json!({"odd-name": "ok", "ratio": 0.5}),
    );
    assert_eq!(d.effect(), Effect::Allow, "{:?}", d.errors());
    let d = e.authorize_call(&user("a", &[]), "weird \"tool\"\\x.v2", &json!({"odd-name": "no"}));
    assert_eq!(d.effect(), Effect::Deny);
}

#[test]
fn duplicate_tools_are_refused() {
    let t: ToolDescriptor = serde_json::from_value(json!({"name": "a", "input_schema": {}})).unwrap();
    assert!(matches!(
        generate_schema(&[t.clone(), t], &ClaimMapping::default()),
        Err(PolicyError::DuplicateTool { .. })
    ));
}

#[test]
fn shadow_policies_are_evaluated_but_not_enforced() {
    let e = engine(
        r#"
        @id("write")
        permit (principal in Role::"Task.Write", action in Action::"call", resource);
        @id("trial-no-delete")
        @mode("shadow")
        forbid (principal, action == Action::"call:delete_task", resource);
        @id("trial-readers-create")
        @mode("shadow")
        permit (principal in Role::"Task.Read", action == Action::"call:create_task", resource);
        @id("enforced-explicitly")
        @mode("enforce")
        forbid (principal, action == Action::"call:purge_tasks", resource);
        "#,
    );
    let writer = user("w", &["Task.Write"]);
    // A shadow forbid: the call is allowed, by the enforced permit alone; it would be denied.
    let d = e.authorize_call(&writer, "delete_task", &json!({"id": 1}));
    assert_eq!(d.effect(), Effect::Allow);
    assert!(d.is_allowed() && d.is_shadow_deny());
    assert_eq!(d.determining_policies(), ["write"]);
    let verdict = d.shadow_verdict().unwrap();
    assert_eq!(verdict.would(), Effect::Deny);
    assert_eq!(verdict.policies(), ["trial-no-delete"]);
    // A shadow permit: denied, would be allowed.
    let reader = user("r", &["Task.Read"]);
    let d = e.authorize_call(&reader, "create_task", &json!({"title": "x"}));
    assert_eq!(d.effect(), Effect::Deny);
    assert!(!d.is_allowed() && !d.is_shadow_deny());
    assert!(d.determining_policies().is_empty());
    let verdict = d.shadow_verdict().unwrap();
    assert_eq!(verdict.would(), Effect::Allow);
    assert_eq!(verdict.policies(), ["trial-readers-create"]);
    // Where the shadow policies change nothing, there is no verdict.
    let d = e.authorize_call(&writer, "get_task", &json!({"id": 1}));
    assert!(d.is_allowed() && d.shadow_verdict().is_none());
    let d = e.authorize_call(&writer, "purge_tasks", &json!({"older_than_days": 1}));
    assert_eq!(d.determining_policies(), ["enforced-explicitly"]);
    assert!(d.shadow_verdict().is_none());
    // Lists follow the enforced policies: delete_task stays listed.
    assert_eq!(e.authorize_list(&writer, "delete_task").effect(), Effect::Allow);
    assert!(e.visible_tools(&reader, &["create_task"]).is_empty());
}

#[test]
fn unknown_modes_are_refused_naming_the_policy_and_file() {
    let err = try_engine(
        r#"
        @id("typo")
        @mode("shadwo")
        forbid (principal, action, resource);
        "#,
    )
    .unwrap_err();
    let PolicyError::Invalid { problems } = err else {
        panic!("{err}")
    };
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].file, "test.cedar");
    assert_eq!(problems[0].line, 2);
    assert!(problems[0].message.contains("policy `typo`"), "{}", problems[0].message);
    assert!(
        problems[0].message.contains("@mode(\"shadwo\")"),
        "{}",
        problems[0].message
    );
}

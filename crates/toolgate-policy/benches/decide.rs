//! Decision cost. Run: `cargo bench -p toolgate-policy -- --warm-up-time 1 --measurement-time 3`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Map, json};
use toolgate_core::{Groups, Principal, PrincipalKind, ToolDescriptor};
use toolgate_policy::{ClaimMapping, PolicyEngine, PolicySource, load_catalog};

fn alice() -> Principal {
    Principal {
        id: "user:t/alice".into(),
        kind: PrincipalKind::User,
        tenant_id: "t".into(),
        object_id: None,
        display_name: None,
        username: None,
        roles: vec!["Task.Read".into(), "Task.Write".into(), "R7".into()],
        scopes: vec!["access_as_user".into()],
        groups: Groups::Listed {
            ids: vec!["g1".into(), "g2".into()],
        },
        client_app_id: Some("client".into()),
        guest: false,
        provider: "bench".into(),
        expires_at: 0,
        claims: Map::new(),
    }
}

/// The demo policies, role/argument permits to fill up, and 2 forbids: 50 policies.
fn fifty_policies() -> Vec<PolicySource> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies/");
    let mut sources: Vec<PolicySource> = ["roles.cedar", "guards.cedar"]
        .iter()
        .map(|n| PolicySource {
            name: (*n).into(),
            text: std::fs::read_to_string(format!("{root}{n}")).unwrap(),
        })
        .collect();
    let demo_count: usize = sources.iter().map(|s| s.text.matches("@id(").count()).sum();
    let mut extra = String::new();
    for i in 0..(48 - demo_count) {
        extra.push_str(&format!(
            "permit (principal in Role::\"R{i}\", action == Action::\"call:create_task\", resource)\n\
             when {{ context.input has priority && context.input.priority <= {} && context.input.title != \"x{i}\" }};\n",
            i % 5
        ));
    }
    extra.push_str("forbid (principal in Group::\"blocked\", action, resource);\n");
    extra.push_str(
        "forbid (principal, action == Action::\"call:create_task\", resource) when { context.input has project && context.input.project == \"secret\" };\n",
    );
    sources.push(PolicySource {
        name: "bench.cedar".into(),
        text: extra,
    });
    sources
}

fn thousand_tools() -> Vec<ToolDescriptor> {
    (0..1000)
        .map(|i| {
            serde_json::from_value(json!({
                "name": format!("tool_{i}"),
                "input_schema": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "note": {"type": "string"}}, "required": ["id"]},
                "annotations": {"read_only": i % 3 == 0, "destructive": i % 7 == 0},
                "tags": [if i % 10 == 0 { "dangerous" } else { "normal" }]
            }))
            .unwrap()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let catalog = load_catalog(concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies/catalog.demo.json")).unwrap();
    let engine = PolicyEngine::from_sources(&fifty_policies(), &catalog, false, ClaimMapping::default()).unwrap();
    assert_eq!(engine.policy_ids().len(), 50);
    let p = alice();
    let args = json!({"title": "Write docs", "priority": 2, "project": "docs"});
    c.bench_function("authorize_call (50 policies)", |b| {
        b.iter(|| black_box(engine.authorize_call(black_box(&p), "create_task", black_box(&args))))
    });
    let prepared = engine.prepare_principal(&p).unwrap();
    c.bench_function("authorize_call, principal prepared once (50 policies)", |b| {
        b.iter(|| black_box(engine.authorize_call_prepared(black_box(&prepared), "create_task", black_box(&args))))
    });
    c.bench_function("authorize_list one tool (50 policies)", |b| {
        b.iter(|| black_box(engine.authorize_list(black_box(&p), "create_task")))
    });

    let tools = thousand_tools();
    let names: Vec<String> = tools.iter().map(|t| t.name.clone()).collect();
    let policies = vec![PolicySource {
        name: "big.cedar".into(),
        text: r#"
            permit (principal in Role::"Task.Read", action in Action::"call", resource) when { resource.read_only };
            permit (principal in Role::"Task.Write", action in Action::"call", resource) when { context.input.id < 100 };
            forbid (principal, action in Action::"call", resource) when { resource.tags.contains("dangerous") }
              unless { principal in Role::"MCPServer.Admin" };
            forbid (principal is User, action, resource) when { principal.guest };
        "#
        .into(),
    }];
    let big = PolicyEngine::from_sources(&policies, &tools, false, ClaimMapping::default()).unwrap();
    let visible = big.visible_tools(&p, &names).len();
    assert_eq!(visible, 900);
    c.bench_function("visible_tools (1000 tools)", |b| {
        b.iter(|| black_box(big.visible_tools(black_box(&p), &names)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

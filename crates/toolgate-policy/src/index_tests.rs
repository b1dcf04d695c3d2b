//! Differential tests of the policy index: every decision made on a slice is identical (effect,
//! determining policies, errors, hash, shadow) to the one Cedar makes on the whole set, over the
//! example policies, the benchmark's 50 policies and a set exercising every scope form, with
//! many seeded random requests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use std::sync::Arc;

use serde_json::{Map, Value, json};
use toolgate_core::{Catalog, Groups, Principal, PrincipalKind};

use crate::{ClaimMapping, PolicyEngine, PolicySource, read_catalog};

fn root() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../").to_owned()
}

fn source(name: &str, text: impl Into<String>) -> PolicySource {
    PolicySource {
        name: name.into(),
        text: text.into(),
    }
}

fn example_policies() -> Vec<PolicySource> {
    crate::read_policy_dir(std::path::Path::new(&format!("{}policies", root()))).unwrap()
}

/// The same 50 policies as `benches/decide.rs`.
fn bench_policies() -> Vec<PolicySource> {
    let mut sources: Vec<PolicySource> = example_policies();
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
    sources.push(source("bench.cedar", extra));
    sources
}

/// Every scope form the index reads, evaluation errors on both effects, lists, prompts and
/// resources, over tools of two servers and one without.
const SCOPES: &str = r#"
@id("eq-tool") permit (principal in Role::"A", action == Action::"call:alpha", resource == Tool::"alpha");
@id("in-server") forbid (principal in Group::"g-block", action in Action::"call", resource in Server::"s1");
@id("is-tool") permit (principal in Role::"B", action in Action::"call", resource is Tool);
@id("is-in") permit (principal in Role::"C", action, resource is Tool in Server::"s2");
@id("in-self") permit (principal in Role::"C", action in [Action::"call:beta", Action::"list"], resource in Tool::"beta");
@id("list-hide") forbid (principal in Role::"D", action == Action::"list", resource == Tool::"beta");
@id("list-show") permit (principal in Role::"E", action == Action::"list", resource in Server::"s2");
@id("any") permit (principal in Role::"F", action, resource);
@id("overflow-permit") permit (principal in Role::"G", action == Action::"call:alpha", resource)
  when { context.input has n && context.input.n + 9223372036854775807 > 0 };
@id("overflow-forbid") forbid (principal in Role::"H", action in Action::"call", resource in Server::"s1")
  when { 9223372036854775807 + 1 > 0 };
@id("by-arg") permit (principal in Role::"A", action == Action::"call:gamma", resource)
  when { context.input has n && context.input.n > 2 };
@id("name-attr") forbid (principal in Role::"B", action, resource is Tool) when { resource.name == "zeta" };
@id("attr") permit (principal in Role::"E", action in Action::"call", resource) when { resource.tags.contains("y") };
@id("shadow-forbid") @mode("shadow") forbid (principal in Role::"A", action == Action::"call:alpha", resource)
  when { context.input has n && context.input.n > 3 };
@id("shadow-permit") @mode("shadow") permit (principal in Role::"D", action in Action::"call", resource in Server::"s1");
@id("shadow-overflow") @mode("shadow") forbid (principal in Role::"C", action in Action::"call", resource)
  when { context.input has n && context.input.n + 9223372036854775807 > 0 };
@id("shadow-prompt") @mode("shadow") forbid (principal in Role::"A", action == Action::"get_prompt", resource in Server::"s2");
@id("prompt") permit (principal in Role::"A", action == Action::"get_prompt", resource);
@id("prompt-server") forbid (principal in Role::"D", action == Action::"get_prompt", resource in Server::"s1");
@id("resource") permit (principal in Role::"E", action == Action::"read_resource", resource);
@id("resource-server") forbid (principal in Role::"H", action in [Action::"read_resource"], resource in Server::"s2");
"#;

fn scope_catalog() -> Catalog {
    let tool = |name: &str, server: Option<&str>| {
        let tag = if server == Some("s3") { "y" } else { "x" };
        json!({"name": name, "server": server, "tags": [tag],
               "input_schema": {"type": "object", "properties": {"n": {"type": "integer"}}}})
    };
    serde_json::from_value(json!({
        "tools": [tool("alpha", Some("s1")), tool("beta", Some("s2")), tool("gamma", None), tool("delta", Some("s1")),
                  tool("epsilon", Some("s3")), tool("zeta", Some("s3")), tool("theta", Some("s3"))],
        "prompts": [{"name": "p1", "server": "s1"}, {"name": "p2", "server": "s2"}],
        "resources": [{"name": "file:///a", "server": "s2"}],
        "resource_templates": [{"name": "file:///t/{x}", "server": "s1"}],
    }))
    .unwrap()
}

const ROLES: &[&str] = &[
    "A",
    "B",
    "C",
    "D",
    "E",
    "F",
    "G",
    "H",
    "Task.Read",
    "Task.Write",
    "Task.All",
    "MCPServer.Admin",
    "R0",
    "R1",
    "R7",
    "R20",
    "R40",
];
const GROUPS: &[&str] = &["g-block", "blocked", "g1"];

fn random_principal(rng: &mut StdRng) -> Principal {
    let pick = |rng: &mut StdRng, pool: &[&str]| -> Vec<String> {
        pool.iter()
            .filter(|_| rng.random_bool(0.25))
            .map(|s| (*s).to_owned())
            .collect()
    };
    Principal {
        id: format!("user:t/u{}", rng.random_range(0..5)),
        kind: if rng.random_bool(0.8) {
            PrincipalKind::User
        } else {
            PrincipalKind::App
        },
        tenant_id: "t".into(),
        object_id: None,
        display_name: None,
        username: None,
        roles: pick(rng, ROLES),
        scopes: vec!["access_as_user".into()],
        groups: Groups::Listed { ids: pick(rng, GROUPS) },
        client_app_id: Some("client".into()),
        guest: rng.random_bool(0.1),
        provider: "test".into(),
        expires_at: 0,
        claims: Map::new(),
    }
}

fn random_arguments(rng: &mut StdRng) -> Value {
    let numbers = [
        json!(-3),
        json!(0),
        json!(2),
        json!(3),
        json!(5),
        json!(i64::MAX),
        json!("five"),
    ];
    let titles = [json!("Write docs"), json!("x3"), json!(7)];
    let mut args = Map::new();
    for (key, pool) in [
        ("n", &numbers[..]),
        ("id", &numbers[..]),
        ("priority", &numbers[..]),
        ("title", &titles[..]),
        ("project", &[json!("docs"), json!("secret")][..]),
        ("older_than_days", &numbers[..]),
    ] {
        if rng.random_bool(0.5) {
            args.insert(key.to_owned(), pool.choose(rng).cloned().unwrap_or(Value::Null));
        }
    }
    if rng.random_bool(0.05) {
        Value::Null
    } else {
        Value::Object(args)
    }
}

/// Decides `requests` random questions on the sliced engine and on the same engine unsliced.
fn differential(sources: &[PolicySource], catalog: &Catalog, requests: usize, seed: u64) {
    let sliced = PolicyEngine::from_catalog(sources, catalog, false, ClaimMapping::default()).unwrap();
    let whole = PolicyEngine::from_catalog(sources, catalog, false, ClaimMapping::default())
        .unwrap()
        .unsliced();
    let mut tools: Vec<String> = catalog.tools.iter().map(|t| t.name.clone()).collect();
    tools.push("not_in_catalog".into());
    let mut prompts: Vec<String> = catalog.prompts.iter().map(|p| p.name.clone()).collect();
    prompts.push("unknown-prompt".into());
    let mut resources: Vec<String> = catalog.resources.iter().map(|r| r.name.clone()).collect();
    resources.extend(["file:///t/1".to_owned(), "mem://other".to_owned()]);

    let mut rng = StdRng::seed_from_u64(seed);
    let mut allowed = 0;
    let mut with_errors = 0;
    let mut verdicts = 0;
    for _ in 0..requests {
        let principal = random_principal(&mut rng);
        let tool = tools.choose(&mut rng).unwrap();
        let (question, a, b) = match rng.random_range(0..4) {
            0 | 1 => {
                let args = random_arguments(&mut rng);
                (
                    format!("call {tool} {args}"),
                    sliced.authorize_call(&principal, tool, &args),
                    whole.authorize_call(&principal, tool, &args),
                )
            }
            2 => (
                format!("list {tool}"),
                sliced.authorize_list(&principal, tool),
                whole.authorize_list(&principal, tool),
            ),
            _ if rng.random_bool(0.5) => {
                let name = prompts.choose(&mut rng).unwrap();
                (
                    format!("prompt {name}"),
                    sliced.authorize_prompt(&principal, name),
                    whole.authorize_prompt(&principal, name),
                )
            }
            _ => {
                let uri = resources.choose(&mut rng).unwrap();
                (
                    format!("resource {uri}"),
                    sliced.authorize_resource(&principal, uri),
                    whole.authorize_resource(&principal, uri),
                )
            }
        };
        assert_eq!(a, b, "{question} by {principal:?}");
        allowed += usize::from(a.is_allowed());
        verdicts += usize::from(a.shadow_verdict().is_some());
        with_errors += usize::from(!a.errors().is_empty());
    }
    // The requests reach both outcomes (and errors where the policies can err), so the
    // comparison is not between two trivial denials.
    assert!(allowed > requests / 20, "{allowed} of {requests} allowed");
    assert!(allowed < requests - requests / 20, "{allowed} of {requests} allowed");
    assert!(with_errors > 0, "no request met an evaluation error");
    if sources.iter().any(|s| s.text.contains("@mode(\"shadow\")")) {
        assert!(verdicts > requests / 50, "{verdicts} shadow verdicts in {requests}");
    }

    // Lists: decided once per tool shape, they show exactly the tools a list question on each
    // tool, over the whole set, shows.
    let names: Vec<&str> = tools.iter().map(String::as_str).collect();
    for _ in 0..requests / 10 {
        let principal = random_principal(&mut rng);
        let one_by_one: Vec<String> = names
            .iter()
            .filter(|t| whole.authorize_list(&principal, t).is_allowed())
            .map(|t| (*t).to_owned())
            .collect();
        assert_eq!(sliced.visible_tools(&principal, &names), one_by_one, "{principal:?}");
        assert_eq!(whole.visible_tools(&principal, &names), one_by_one, "{principal:?}");
    }
}

#[test]
fn slices_decide_like_the_whole_example_set() {
    let catalog = read_catalog(format!("{}policies/catalog.demo.json", root())).unwrap();
    differential(&example_policies(), &catalog, 4000, 1);
}

#[test]
fn slices_decide_like_the_whole_bench_set() {
    let catalog = read_catalog(format!("{}policies/catalog.demo.json", root())).unwrap();
    let sources = bench_policies();
    let engine = PolicyEngine::from_catalog(&sources, &catalog, false, ClaimMapping::default()).unwrap();
    assert_eq!(engine.policy_ids().len(), 50);
    differential(&sources, &catalog, 4000, 2);
}

#[test]
fn slices_decide_like_the_whole_set_for_every_scope_form() {
    differential(&[source("scopes.cedar", SCOPES)], &scope_catalog(), 6000, 3);
}

#[test]
fn tools_alike_share_a_shape() {
    let tools: Vec<toolgate_core::ToolDescriptor> = (0..100)
        .map(|i| {
            serde_json::from_value(
                json!({"name": format!("tool_{i}"), "tags": [if i % 10 == 0 { "dangerous" } else { "normal" }],
                "input_schema": {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}}),
            )
            .unwrap()
        })
        .collect();
    let policies = r#"
        permit (principal in Role::"Task.Write", action in Action::"call", resource) when { context.input.id < 100 };
        forbid (principal, action in Action::"call", resource) when { resource.tags.contains("dangerous") };
    "#;
    let engine =
        PolicyEngine::from_sources(&[source("p.cedar", policies)], &tools, false, ClaimMapping::default()).unwrap();
    assert_eq!(engine.shape_count, 2);
    let named =
        format!("{policies}\nforbid (principal, action, resource is Tool) when {{ resource.name == \"tool_3\" }};");
    let engine =
        PolicyEngine::from_sources(&[source("p.cedar", named)], &tools, false, ClaimMapping::default()).unwrap();
    assert_eq!(engine.shape_count, 100);
}

#[test]
fn slices_leave_out_only_what_cannot_apply() {
    let engine = PolicyEngine::from_catalog(
        &[source("scopes.cedar", SCOPES)],
        &scope_catalog(),
        false,
        ClaimMapping::default(),
    )
    .unwrap();
    let ids = |slice: &crate::index::Slice| {
        let set = slice.set();
        let mut ids: Vec<String> = set.policies().map(|p| p.id().to_string()).collect();
        ids.sort();
        ids
    };
    let alpha = engine.tool("alpha").unwrap();
    assert_eq!(
        ids(&alpha.call_policies.enforced),
        [
            "any",
            "attr",
            "eq-tool",
            "in-server",
            "is-tool",
            "name-attr",
            "overflow-forbid",
            "overflow-permit"
        ]
    );
    let beta = engine.tool("beta").unwrap();
    assert_eq!(
        ids(&beta.list_policies),
        ["any", "in-self", "is-in", "list-hide", "list-show", "name-attr"]
    );
    // `resource.name` tells zeta from epsilon: each has its own shape.
    let (epsilon, zeta) = (engine.tool("epsilon").unwrap(), engine.tool("zeta").unwrap());
    assert!(Arc::ptr_eq(
        &epsilon.call_policies.enforced,
        &zeta.call_policies.enforced
    ));
    assert_ne!(epsilon.shape, zeta.shape);
    assert_eq!(
        ids(&engine.prompt_policies.enforced),
        ["any", "prompt", "prompt-server"]
    );
    assert_eq!(
        ids(&engine.resource_policies.enforced),
        ["any", "resource", "resource-server"]
    );
}

//! Doc examples that can run are run: every ```toml block of the provider pages must load and build.

use toolgate::{build, config};

/// The bodies of the page's fenced blocks of `language` (indented fences included).
fn fenced_blocks(markdown: &str, language: &str) -> Vec<String> {
    let fence = format!("```{language}");
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_start()) {
            (None, l) if l == fence => current = Some(String::new()),
            (Some(block), l) if l.starts_with("```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            _ => {}
        }
    }
    blocks
}

fn toml_blocks(markdown: &str) -> Vec<String> {
    fenced_blocks(markdown, "toml")
}

fn page(name: &str) -> String {
    std::fs::read_to_string(format!("{}/../docs/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[tokio::test]
async fn entra_jwt_page_examples_build_a_gateway() {
    let page = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/entra-jwt.md")).unwrap();
    let blocks = toml_blocks(&page);
    assert!(
        blocks.len() >= 3,
        "expected the page's config examples, found {}",
        blocks.len()
    );
    for block in blocks {
        let loaded = config::load_str(&block).unwrap_or_else(|e| panic!("{e}\n{block}"));
        build::gateway_with(&loaded, build::PolicyOrigin::Embedded)
            .await
            .unwrap_or_else(|e| panic!("{e}\n{block}"));
    }
}

#[tokio::test]
async fn configuration_and_gate_page_examples_load() {
    for page in ["configuration.md", "mcp-gate.md"] {
        let text = std::fs::read_to_string(format!("{}/../docs/{page}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        for block in toml_blocks(&text) {
            // The gate page shows sections only; complete them with an [auth] section.
            let block = if block.contains("[auth]") {
                block
            } else {
                format!(
                    "{block}\n[auth]\nprovider = \"entra-jwt\"\n[auth.entra]\ntenant_id = \"72f988bf-86f1-41af-91ab-2d7cd011db47\"\nclient_id = \"11111111-2222-3333-4444-555555555555\"\n"
                )
            };
            let loaded = config::load_str(&block).unwrap_or_else(|e| panic!("{page}: {e}\n{block}"));
            build::gateway_with(&loaded, build::PolicyOrigin::Embedded)
                .await
                .unwrap_or_else(|e| panic!("{page}: {e}\n{block}"));
        }
    }
}

#[tokio::test]
async fn azure_bearer_page_examples_load() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/azure-bearer.md"))
        .unwrap()
        .replace("127.0.0.1:PORT", "127.0.0.1:8400");
    let blocks = toml_blocks(&text);
    assert!(blocks.len() >= 3, "{}", blocks.len());
    for block in blocks {
        let block = if block.contains("[auth]") {
            block
        } else {
            format!("[auth]\nprovider = \"azure-bearer\"\n{block}")
        };
        let loaded = config::load_str(&block).unwrap_or_else(|e| panic!("{e}\n{block}"));
        build::gateway_with(&loaded, build::PolicyOrigin::Embedded)
            .await
            .unwrap_or_else(|e| panic!("{e}\n{block}"));
    }
}

#[tokio::test]
async fn dev_mode_config_builds_a_gateway() {
    let text = toolgate::config::dev_config("http://127.0.0.1:8400", "127.0.0.1:8080".parse().unwrap());
    build::gateway_with(&config::load_str(&text).unwrap(), build::PolicyOrigin::Embedded)
        .await
        .unwrap();
}

#[tokio::test]
async fn entra_proxy_page_example_builds_a_gateway() {
    let page = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/entra-proxy.md")).unwrap();
    let blocks = toml_blocks(&page);
    assert_eq!(blocks.len(), 1, "the page's configuration example");
    // The example's Redis is `redis.internal`; here it is the test machine's, under a fresh prefix.
    let block = blocks[0]
        .replace("redis://redis.internal:6379/0", &crate::entra_proxy::redis_url())
        .replace(
            "key_prefix = \"toolgate\"",
            &format!("key_prefix = \"{}\"", crate::entra_proxy::unique_prefix("docs")),
        );
    let loaded = config::load_str(&block).unwrap_or_else(|e| panic!("{e}\n{block}"));
    let gateway = build::gateway_with(&loaded, build::PolicyOrigin::Embedded)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{block}"));
    assert!(gateway.entra_proxy.is_some());
    // The same example with a short secret is refused, naming the key.
    let short = block.replace("at-least-32-bytes-from-openssl-rand-base64-48", "short");
    let error = build::gateway_with(&config::load_str(&short).unwrap(), build::PolicyOrigin::Embedded)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("auth.proxy.secret"), "{error}");
}

/// Every TOML block of `text` loads, fronts an upstream, and passes the checks `serve` makes
/// before connecting (each `[[upstream]]`, `advertise_url`). Returns (configurations, upstreams).
fn configurations_are_valid(text: &str) -> (usize, usize) {
    let configs = toml_blocks(text);
    let mut upstreams = 0;
    for block in &configs {
        let loaded = config::load_str(block).unwrap_or_else(|e| panic!("{e}\n{block}"));
        assert!(
            !loaded.raw.upstream.is_empty(),
            "each example fronts an upstream:\n{block}"
        );
        for (index, upstream) in loaded.raw.upstream.iter().enumerate() {
            // `${GITHUB_TOKEN}` and the like name variables the reader sets.
            upstream
                .validate(index, None, &|name| Some(format!("value of {name}")))
                .unwrap_or_else(|e| panic!("{e}\n{block}"));
            upstreams += 1;
        }
        if let Some(url) = &loaded.raw.server.advertise_url {
            toolgate::server::mcp::ReplicaUrl::parse(url).unwrap_or_else(|e| panic!("{e}\n{block}"));
        }
    }
    (configs.len(), upstreams)
}

/// operations.md: the production layout loads, with Redis state and an advertised replica URL.
#[test]
fn operations_page_example_is_valid() {
    let text = page("operations.md");
    assert_eq!(configurations_are_valid(&text), (1, 1));
    let loaded = config::load_str(&toml_blocks(&text)[0]).unwrap();
    assert_eq!(loaded.raw.state.backend, toolgate::config::raw::StateBackend::Redis);
    assert!(loaded.raw.policy.watch);
}

/// gateway.md: every configuration loads and each `[[upstream]]` passes the checks `serve` makes
/// before connecting; every Cedar example validates (strict) against a catalog with the tools the
/// page assumes; the snapshot example is a catalog `--catalog` reads.
#[test]
fn gateway_page_examples_are_valid() {
    let text = page("gateway.md");
    let (configs, upstreams) = configurations_are_valid(&text);
    assert!(configs >= 6, "the page's configurations: {configs}");
    assert!(upstreams >= 8, "{upstreams}");

    let tool = |server: &str, name: &str, properties: serde_json::Value| {
        serde_json::json!({
            "name": format!("{server}__{name}"),
            "server": server,
            "description": "",
            "input_schema": {"type": "object", "properties": properties},
        })
    };
    let catalog: toolgate_core::Catalog = serde_json::from_value(serde_json::json!({"tools": [
        tool("github", "create_issue", serde_json::json!({"repo": {"type": "string"}, "title": {"type": "string"}})),
        tool("github", "search", serde_json::json!({"query": {"type": "string"}})),
        tool("tickets", "create_ticket", serde_json::json!({"title": {"type": "string"}, "priority": {"type": "integer"}})),
        tool("everything", "echo", serde_json::json!({"message": {"type": "string"}})),
        tool("wiki", "search", serde_json::json!({"query": {"type": "string"}})),
        tool("ref", "transfer", serde_json::json!({"amount": {"type": "integer"}, "currency": {"type": "string"}})),
    ]}))
    .unwrap();
    let policies = fenced_blocks(&text, "cedar");
    assert!(policies.len() >= 4, "the page's policies: {}", policies.len());
    for (index, policy) in policies.iter().enumerate() {
        let source = toolgate_policy::PolicySource {
            name: format!("gateway-{index}.cedar"),
            text: policy.clone(),
        };
        let engine = toolgate_policy::PolicyEngine::from_catalog(&[source], &catalog, false, Default::default())
            .unwrap_or_else(|e| panic!("{e}\n{policy}"));
        assert!(!engine.policy_ids().is_empty(), "{policy}");
    }
    // A mistyped argument in the same policies is refused, so the check above can fail.
    let mistyped = policies
        .iter()
        .find(|p| p.contains("context.input.priority"))
        .expect("the ticket priority example")
        .replace("context.input.priority <= 1", "context.input.priority like \"1\"");
    let source = toolgate_policy::PolicySource {
        name: "mistyped.cedar".into(),
        text: mistyped,
    };
    assert!(toolgate_policy::PolicyEngine::from_catalog(&[source], &catalog, false, Default::default()).is_err());

    let snapshot = fenced_blocks(&text, "json")
        .into_iter()
        .find(|block| block.contains("\"tools\""))
        .expect("the snapshot example");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.json");
    std::fs::write(&path, snapshot).unwrap();
    let read = toolgate_policy::read_catalog(&path).unwrap();
    assert_eq!(read.tools.len(), 1);
    assert_eq!(read.tools[0].name, "tickets__create_ticket");
}

#[tokio::test]
async fn rate_limits_page_example_builds_a_gateway_with_its_limits() {
    let blocks = toml_blocks(&page("rate-limits.md"));
    assert_eq!(blocks.len(), 1, "the page's configuration example");
    for block in blocks {
        // The page shows [rate_limits] only; complete it with an [auth] section.
        let block = format!(
            "{block}\n[auth]\nprovider = \"entra-jwt\"\n[auth.entra]\ntenant_id = \"72f988bf-86f1-41af-91ab-2d7cd011db47\"\nclient_id = \"11111111-2222-3333-4444-555555555555\"\n"
        );
        let loaded = config::load_str(&block).unwrap_or_else(|e| panic!("{e}\n{block}"));
        let gateway = build::gateway_with(&loaded, build::PolicyOrigin::Embedded)
            .await
            .unwrap_or_else(|e| panic!("{e}\n{block}"));
        let limits = gateway.rate_limits.expect("the example limits something");
        let rules = limits.rules();
        assert!(rules.per_principal.is_some());
        assert_eq!(rules.tools.len(), 1);
        assert_eq!(rules.upstreams.len(), 1);
    }
}

#[test]
fn rate_limits_config_errors_name_the_key_and_the_file() {
    for (toml, key) in [
        (
            "[rate_limits]\nper_principal = { requests = 0, per_seconds = 60 }",
            "rate_limits.per_principal.requests",
        ),
        (
            "[rate_limits]\nper_principal = { requests = 5, per_seconds = -1 }",
            "rate_limits.per_principal.per_seconds",
        ),
        (
            "[[rate_limits.tool]]\nname = \"a:b\"\ntotal = { requests = 1, per_seconds = 1 }",
            "rate_limits.tool[0].name",
        ),
        ("[[rate_limits.tool]]\nname = \"create_task\"", "rate_limits.tool[0]"),
        (
            "[[rate_limits.upstream]]\nname = \"github\"\ntotal = { requests = 1, per_seconds = 1 }",
            "rate_limits.upstream[0].name",
        ),
        (
            "[[rate_limits.upstream]]\nname = \"tasks\"\ntotal = { requests = 1, per_seconds = 1, burst = 0 }",
            "rate_limits.upstream[0].total.burst",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("toolgate.toml");
        std::fs::write(
            &path,
            format!("{toml}\n[auth]\nprovider = \"entra-jwt\"\n[auth.entra]\ntenant_id = \"72f988bf-86f1-41af-91ab-2d7cd011db47\"\nclient_id = \"11111111-2222-3333-4444-555555555555\"\n"),
        )
        .unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let error = runtime.block_on(async {
            match config::load(&path) {
                Err(error) => error,
                Ok(loaded) => match build::gateway_with(&loaded, build::PolicyOrigin::Embedded).await {
                    Err(error) => error,
                    Ok(_) => panic!("accepted: {toml}"),
                },
            }
        });
        let text = error.to_string();
        assert!(text.contains(&format!("`{key}`")), "{key}: {text}");
        assert!(text.contains("toolgate.toml"), "names the file: {text}");
    }
}

/// telemetry.md: its `[telemetry]` example loads and builds (with an `[auth]` section added).
#[tokio::test]
async fn telemetry_page_example_builds_a_gateway() {
    let blocks = toml_blocks(&page("telemetry.md"));
    assert_eq!(blocks.len(), 1, "the page's one configuration example");
    for block in blocks {
        assert!(block.contains("metrics_bind") && block.contains("[telemetry.traces]"));
        let block = format!(
            "{block}\n[auth]\nprovider = \"entra-jwt\"\n[auth.entra]\ntenant_id = \"72f988bf-86f1-41af-91ab-2d7cd011db47\"\nclient_id = \"11111111-2222-3333-4444-555555555555\"\n"
        );
        let loaded = config::load_str(&block).unwrap_or_else(|e| panic!("{e}\n{block}"));
        let gateway = build::gateway_with(&loaded, build::PolicyOrigin::Embedded)
            .await
            .unwrap_or_else(|e| panic!("{e}\n{block}"));
        assert_eq!(gateway.telemetry.metrics_bind, Some("127.0.0.1:9464".parse().unwrap()));
        assert_eq!(
            gateway.telemetry.traces.as_ref().map(|t| t.endpoint.as_str()),
            Some("http://127.0.0.1:4318/v1/traces")
        );
    }
}

/// A bad `[telemetry]` value names its key.
#[tokio::test]
async fn a_bad_sample_ratio_names_its_key() {
    let block = "[telemetry.traces]\nendpoint = \"http://127.0.0.1:4318/v1/traces\"\nsample_ratio = 2.0\n[auth]\nprovider = \"entra-jwt\"\n[auth.entra]\ntenant_id = \"72f988bf-86f1-41af-91ab-2d7cd011db47\"\nclient_id = \"11111111-2222-3333-4444-555555555555\"\n";
    let loaded = config::load_str(block).unwrap();
    let error = match build::gateway_with(&loaded, build::PolicyOrigin::Embedded).await {
        Ok(_) => panic!("a sample ratio of 2.0 was accepted"),
        Err(error) => error.to_string(),
    };
    assert!(error.contains("telemetry.traces.sample_ratio"), "{error}");
}

/// The shadow-mode example of policies.md, added to the demo policies: alice's delete is allowed
/// and would be denied by the trial policy alone; carol's (an admin) is untouched.
#[test]
fn policies_page_shadow_example_would_deny_and_lets_through() {
    use toolgate_core::Effect;
    let example = fenced_blocks(&page("policies.md"), "cedar")
        .into_iter()
        .find(|b| b.contains("@mode(\"shadow\")"))
        .expect("policies.md shows a shadow policy");
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../policies");
    let mut sources = toolgate_policy::read_policy_dir(std::path::Path::new(root)).unwrap();
    sources.push(toolgate_policy::PolicySource {
        name: "trial.cedar".into(),
        text: example,
    });
    let catalog = toolgate_policy::read_catalog(format!("{root}/catalog.demo.json")).unwrap();
    let engine = toolgate_policy::PolicyEngine::from_catalog(&sources, &catalog, false, Default::default()).unwrap();
    let principal = |roles: &[&str]| toolgate_core::Principal {
        id: "user:t/x".into(),
        kind: toolgate_core::PrincipalKind::User,
        tenant_id: "t".into(),
        object_id: None,
        display_name: None,
        username: None,
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        scopes: vec![],
        groups: toolgate_core::Groups::Listed { ids: vec![] },
        client_app_id: None,
        guest: false,
        provider: "docs".into(),
        expires_at: 0,
        claims: Default::default(),
    };
    let args = serde_json::json!({"id": 1});
    let alice = engine.authorize_call(&principal(&["Task.Read", "Task.Write"]), "delete_task", &args);
    assert!(alice.is_allowed() && alice.is_shadow_deny(), "{alice:?}");
    assert_eq!(alice.determining_policies(), ["task-write"]);
    let verdict = alice.shadow_verdict().unwrap();
    assert_eq!(verdict.would(), Effect::Deny);
    assert_eq!(verdict.policies(), ["trial-admin-only-delete"]);
    let carol = engine.authorize_call(&principal(&["MCPServer.Admin", "Task.All"]), "delete_task", &args);
    assert!(carol.is_allowed() && carol.shadow_verdict().is_none(), "{carol:?}");
}

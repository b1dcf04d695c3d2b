//! Doc examples that can run are run: every ```toml block of the provider pages must load and build.

use toolgate::{build, config};

fn toml_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_start()) {
            (None, l) if l.starts_with("```toml") => current = Some(String::new()),
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

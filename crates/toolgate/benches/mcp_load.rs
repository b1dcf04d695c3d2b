//! Load test: `tools/call` throughput and latency of the bare rmcp server, the gate without
//! audit, and the full gate (Entra token + Cedar + SQLite audit), over loopback HTTP; and
//! gateway mode: an rmcp echo upstream over HTTP called directly and through toolgate (JWT +
//! Cedar + audit + forwarding).
//!
//! Run: `cargo bench -p toolgate --bench mcp_load` (release). Bounded: each variant runs for
//! `LOAD_SECONDS` (default 5) with `LOAD_WORKERS` (default 8) sessions, then
//! stops by itself. Prints a table for docs/BENCHMARKS.md.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use poem::Route;
use poem::endpoint::TowerCompatExt as _;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::json;
use toolgate::build::{self, PolicyOrigin};
use toolgate::mcp_client::McpClient;
use toolgate::sign_in::SignIn;
use toolgate_core::{AuditSink, NoAudit, ToolPolicy};
use toolgate_demo::{TaskStore, TaskTools};
use toolgate_emulator::{Emulator, EmulatorConfig, demo};
use toolgate_mcp::{GateOptions, GateShared};
use toolgate_server::mcp::{McpTransportConfig, SessionBindings, mcp_endpoint};
use toolgate_server::{auth_gate, build_app_with_mcp, serve_on};

/// The same allocator as the `toolgate` binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

struct Outcome {
    name: &'static str,
    requests: usize,
    errors: usize,
    seconds: f64,
    latencies_us: Vec<u64>,
}

impl Outcome {
    fn rps(&self) -> f64 {
        self.requests as f64 / self.seconds
    }

    fn percentile(&self, p: f64) -> f64 {
        let index = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        self.latencies_us.get(index).copied().unwrap_or(0) as f64 / 1000.0
    }
}

/// One variant: where, and which call.
struct Variant {
    key: &'static str,
    name: &'static str,
    url: String,
    tool: &'static str,
    arguments: serde_json::Value,
}

async fn load(variant: Variant, token: String, workers: usize, duration: Duration) -> Outcome {
    let Variant {
        name,
        url,
        tool,
        arguments,
        ..
    } = variant;
    // Warm-up: open the sessions and make a few calls outside the measurement.
    let mut clients = Vec::new();
    for _ in 0..workers {
        let mut client = McpClient::connect(&url, &token).await.unwrap();
        for _ in 0..20 {
            client.call(tool, arguments.clone()).await.unwrap();
        }
        clients.push(client);
    }
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|mut client| {
            let arguments = arguments.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0;
                while Instant::now() < deadline {
                    let t0 = Instant::now();
                    let response = client.call(tool, arguments.clone()).await;
                    latencies.push(t0.elapsed().as_micros() as u64);
                    if !matches!(&response, Ok(r) if r.get("result").is_some()) {
                        errors += 1;
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut latencies_us = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (l, e) = task.await.unwrap();
        latencies_us.extend(l);
        errors += e;
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies_us.sort_unstable();
    Outcome {
        name,
        requests: latencies_us.len(),
        errors,
        seconds,
        latencies_us,
    }
}

fn transport() -> McpTransportConfig {
    McpTransportConfig::default()
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let workers = env_or("LOAD_WORKERS", 8) as usize;
        let duration = Duration::from_secs(env_or("LOAD_SECONDS", 5));
        let emulator = Emulator::start(EmulatorConfig::demo(), "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let token = SignIn {
            authority: emulator.base_url(),
            tenant: demo::TENANT_ID.into(),
            client_id: demo::CLI_CLIENT_ID.into(),
            redirect_uri: demo::CLI_REDIRECT_URI.into(),
            user: "alice".into(),
            scopes: vec![demo::API_SCOPE_ACCESS_AS_USER.into()],
        }
        .run()
        .await
        .unwrap()
        .access_token;

        // 1. The bare rmcp server: no authentication, no policy, no audit.
        let store = TaskStore::seeded();
        let bare_store = store.clone();
        let t = transport();
        let config = StreamableHttpServerConfig::default()
            .with_allowed_hosts(t.allowed_hosts.clone())
            .with_sse_keep_alive(None);
        let service = StreamableHttpService::new(
            move || Ok(TaskTools::new(bare_store.clone())),
            Arc::new(LocalSessionManager::default()),
            config,
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let bare_url = format!("http://{}/mcp", listener.local_addr().unwrap());
        let _bare = serve_on(Route::new().at("/mcp", service.compat()), listener).unwrap();

        // 2 and 3: the gate, configured like `toolgate dev`, without and with the audit trail.
        let dir = tempfile::tempdir().unwrap();
        let gateway_config = |addr: std::net::SocketAddr| {
            format!(
                "{}\n[audit]\ndatabase_url = \"sqlite://{}?mode=rwc\"\nspool_path = \"{}\"\n",
                toolgate::config::dev_config(&emulator.base_url(), addr),
                dir.path().join("audit.db").display(),
                dir.path().join("audit.spool").display()
            )
        };

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let loaded = toolgate::config::load_str(&gateway_config(addr)).unwrap();
        let gateway = build::gateway_with(&loaded, PolicyOrigin::Embedded).await.unwrap();
        for validator in &gateway.validators {
            validator.start().await.unwrap();
        }
        let no_audit: Arc<dyn AuditSink> = Arc::new(NoAudit);
        let policy: Arc<dyn ToolPolicy> = gateway.policy.clone();
        let shared = Arc::new(GateShared::new(policy, no_audit, GateOptions::default()));
        let gated_store = store.clone();
        let endpoint = mcp_endpoint(
            move || TaskTools::new(gated_store.clone()),
            shared,
            &transport(),
            SessionBindings::default(),
        )
        .unwrap();
        let app = build_app_with_mcp(
            auth_gate(gateway.provider.clone(), &gateway.app),
            &gateway.app,
            endpoint,
        );
        let no_audit_url = gateway.app.resource_url();
        let _no_audit = serve_on(app, listener).unwrap();

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let loaded = toolgate::config::load_str(&gateway_config(addr)).unwrap();
        let gateway = build::gateway_with(&loaded, PolicyOrigin::Embedded).await.unwrap();
        let full_url = gateway.app.resource_url();
        let full = toolgate::start::start_on(gateway, listener).await.unwrap();

        // 4 and 5: gateway mode — an rmcp echo upstream over HTTP, directly and through toolgate.
        let upstream = toolgate_test_upstream::serve_http("127.0.0.1:0".parse().unwrap(), Default::default()).await;
        let policies = dir.path().join("gateway-policies");
        std::fs::create_dir(&policies).unwrap();
        std::fs::write(
            policies.join("echo.cedar"),
            "permit (principal in Role::\"Task.Read\", action in Action::\"call\", resource in Server::\"ref\");",
        )
        .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let toml = format!(
            "{}
[policy]
dir = \"{}\"

[audit]
database_url = \"sqlite://{}?mode=rwc\"
spool_path = \"{}\"

[[upstream]]
name = \"ref\"
transport = \"streamable-http\"
url = \"{}\"
",
            toolgate::config::dev_config(&emulator.base_url(), addr),
            policies.display(),
            dir.path().join("gateway-audit.db").display(),
            dir.path().join("gateway-audit.spool").display(),
            upstream.url()
        );
        let gateway = build::gateway(&toolgate::config::load_str(&toml).unwrap())
            .await
            .unwrap();
        let through_url = gateway.app.resource_url();
        let through = toolgate::start::start_on(gateway, listener).await.unwrap();

        // `LOAD_ONLY=gate` (or `bare`, `full`, `echo`, `gateway`) runs one variant, for profiling.
        let only = std::env::var("LOAD_ONLY").unwrap_or_default();
        let get_task = || json!({"id": 1});
        let echo = || json!({"text": "hello"});
        let variants = [
            Variant {
                key: "bare",
                name: "bare rmcp server",
                url: bare_url,
                tool: "get_task",
                arguments: get_task(),
            },
            Variant {
                key: "gate",
                name: "gate without audit",
                url: no_audit_url,
                tool: "get_task",
                arguments: get_task(),
            },
            Variant {
                key: "full",
                name: "full gate (SQLite audit)",
                url: full_url,
                tool: "get_task",
                arguments: get_task(),
            },
            Variant {
                key: "echo",
                name: "echo upstream, direct",
                url: upstream.url().to_string(),
                tool: "echo",
                arguments: echo(),
            },
            Variant {
                key: "gateway",
                name: "echo upstream through toolgate (JWT + Cedar + audit)",
                url: through_url,
                tool: "ref__echo",
                arguments: echo(),
            },
        ];
        let mut outcomes = Vec::new();
        for variant in variants {
            if only.is_empty() || only == variant.key {
                outcomes.push((variant.key, load(variant, token.clone(), workers, duration).await));
            }
        }
        through.audit.flush().await;
        full.audit.flush().await;
        let audited = full.audit.health().committed_events;

        println!(
            "\ntools/call get_task, {workers} concurrent sessions, {}s per variant, loopback\n",
            duration.as_secs()
        );
        println!("| Variant | Requests | Errors | Throughput (req/s) | p50 (ms) | p99 (ms) | vs its baseline |");
        println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        // Each gate variant against its own baseline: the demo tools run bare, the echo upstream
        // runs direct.
        let baseline = |key: &str| {
            let base = if matches!(key, "echo" | "gateway") {
                "echo"
            } else {
                "bare"
            };
            outcomes.iter().find(|(k, _)| *k == base).map(|(_, o)| o.rps())
        };
        for (key, o) in &outcomes {
            let ratio = baseline(key)
                .map(|b| format!("{:.1}%", 100.0 * o.rps() / b))
                .unwrap_or_else(|| "-".into());
            println!(
                "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {ratio} |",
                o.name,
                o.requests,
                o.errors,
                o.rps(),
                o.percentile(0.50),
                o.percentile(0.99),
            );
        }
        println!("\naudit rows committed by the full gate: {audited}");
        // A load test that loses requests measured nothing: fail loudly (CI's smoke run relies on it).
        let errors: usize = outcomes.iter().map(|(_, o)| o.errors).sum();
        assert_eq!(errors, 0, "requests failed under load");
        if let Some((_, full)) = outcomes.iter().find(|(key, _)| *key == "full") {
            let calls = u64::try_from(full.requests).unwrap();
            assert!(audited >= calls, "the full gate audited {audited} of {calls} calls");
        }
    });
}

//! Gateway mode (issue #9): `toolgate serve` in front of real MCP servers — an rmcp server over
//! streamable HTTP, `@modelcontextprotocol/server-everything` and a FastMCP server over stdio —
//! with Entra sign-in, Cedar on typed arguments, audit, and per-user credentials upstream.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use toolgate::build;
use toolgate::config;
use toolgate::mcp_client::McpClient;
use toolgate::start::{RunningGateway, start_on};
use toolgate_audit::{AuditFilter, AuditStore};
use toolgate_core::{AuditDecision, AuditEvent};
use toolgate_emulator::{RunningEmulator, demo};
use toolgate_test_upstream::external::CommandLine;
use toolgate_test_upstream::{RunningUpstream, UpstreamOptions, serve_http};

/// A toolgate gateway against the emulator, with `upstreams` (TOML `[[upstream]]` tables) and
/// `policies` (Cedar text).
pub struct GatewayStack {
    pub emulator: RunningEmulator,
    pub gateway: RunningGateway,
    pub mcp_url: String,
    audit_url: String,
    _dir: tempfile::TempDir,
}

/// Policies most tests use: Task.Read may call and get everything of upstream `ref` except
/// transfers above 1,000; nobody else may do anything.
pub const REF_POLICIES: &str = r#"
@id("ref-readers")
permit (principal in Role::"Task.Read", action in Action::"call", resource in Server::"ref");
@id("ref-prompts")
permit (principal in Role::"Task.Read", action == Action::"get_prompt", resource in Server::"ref");
@id("ref-resources")
permit (principal in Role::"Task.Read", action == Action::"read_resource", resource in Server::"ref");
@id("transfer-cap")
forbid (principal, action, resource)
when { resource == Tool::"ref__transfer" && context has input && context.input has amount && context.input.amount > 1000 };
"#;

pub async fn try_gateway(upstreams: &str, policies: &str, extra: &str) -> Result<GatewayStack, String> {
    let emulator = crate::harness::emulator().await;
    let replica = start_replica(&emulator, upstreams, policies, extra).await?;
    Ok(GatewayStack {
        emulator,
        gateway: replica.gateway,
        mcp_url: replica.mcp_url,
        audit_url: replica.audit_url,
        _dir: replica.dir,
    })
}

/// One toolgate process trusting `emulator`, with its own audit database.
pub struct Replica {
    pub gateway: RunningGateway,
    pub mcp_url: String,
    pub audit_url: String,
    pub dir: tempfile::TempDir,
}

impl Replica {
    pub async fn rows(&self) -> Vec<AuditEvent> {
        self.gateway.audit.flush().await;
        AuditStore::connect(&self.audit_url)
            .await
            .unwrap()
            .query(&AuditFilter::default())
            .await
            .unwrap()
    }
}

/// Starts a gateway trusting `emulator` (several may share one: replicas).
pub async fn start_replica(
    emulator: &RunningEmulator,
    upstreams: &str,
    policies: &str,
    extra: &str,
) -> Result<Replica, String> {
    start_replica_with(emulator, upstreams, policies, extra, "").await
}

/// [`start_replica`] with more `[policy]` keys (`policy_keys`, e.g. `watch = false`).
pub async fn start_replica_with(
    emulator: &RunningEmulator,
    upstreams: &str,
    policies: &str,
    extra: &str,
    policy_keys: &str,
) -> Result<Replica, String> {
    start_replica_at(&emulator.base_url(), upstreams, policies, extra, policy_keys).await
}

/// [`start_replica_with`] trusting the Entra authority at `authority`.
pub async fn start_replica_at(
    authority: &str,
    upstreams: &str,
    policies: &str,
    extra: &str,
    policy_keys: &str,
) -> Result<Replica, String> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("policies")).unwrap();
    std::fs::write(dir.path().join("policies/gateway.cedar"), policies).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let audit_url = format!("sqlite://{}?mode=rwc", dir.path().join("audit.db").display());
    let toml = format!(
        r#"
[server]
bind = "{addr}"

[auth]
provider = "entra-jwt"
[auth.entra]
authority_host = "{authority}"
tenant_id = "{tenant}"
client_id = "{client}"
client_secret = "{secret}"
app_roles = ["Task.Read", "Task.Write", "Task.All", "MCPServer.Admin"]

[policy]
dir = "{policies}"
{policy_keys}

[audit]
database_url = "{audit_url}"
spool_path = "{spool}"
flush_interval = "20ms"

{extra}

{upstreams}
"#,
        tenant = demo::TENANT_ID,
        client = demo::API_CLIENT_ID,
        secret = demo::API_CLIENT_SECRET,
        policies = dir.path().join("policies").display(),
        spool = dir.path().join("audit.spool").display(),
    );
    let loaded = config::load_str(&toml).map_err(|e| e.to_string())?;
    let gateway = build::gateway(&loaded).await.map_err(|e| e.to_string())?;
    let mcp_url = gateway.app.resource_url();
    let gateway = start_on(gateway, listener).await.map_err(|e| e.to_string())?;
    Ok(Replica {
        gateway,
        mcp_url,
        audit_url,
        dir,
    })
}

pub async fn gateway(upstreams: &str, policies: &str) -> GatewayStack {
    try_gateway(upstreams, policies, "")
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

impl GatewayStack {
    pub async fn token(&self, user: &str) -> String {
        crate::harness::sign_in(&self.emulator, user, &[demo::API_SCOPE_ACCESS_AS_USER]).await
    }

    pub async fn client(&self, user: &str) -> McpClient {
        McpClient::connect(&self.mcp_url, &self.token(user).await)
            .await
            .unwrap()
    }

    pub async fn rows(&self) -> Vec<AuditEvent> {
        self.gateway.audit.flush().await;
        AuditStore::connect(&self.audit_url)
            .await
            .unwrap()
            .query(&AuditFilter::default())
            .await
            .unwrap()
    }
}

/// `[[upstream]]` for the reference server over HTTP.
pub fn http_upstream(name: &str, upstream: &RunningUpstream, extra: &str) -> String {
    format!(
        "[[upstream]]\nname = \"{name}\"\ntransport = \"streamable-http\"\nurl = \"{}\"\n{extra}\n",
        upstream.url()
    )
}

/// `[[upstream]]` for a stdio command.
pub fn stdio_upstream(name: &str, command: &CommandLine, extra: &str) -> String {
    let args: Vec<String> = command.args.iter().map(|a| format!("{a:?}")).collect();
    let mut env: Vec<(String, String)> = command.env.clone();
    if let Ok(path) = std::env::var("PATH")
        && !env.iter().any(|(k, _)| k == "PATH")
    {
        env.push(("PATH".into(), path));
    }
    let env: Vec<String> = env.iter().map(|(k, v)| format!("{k} = {v:?}")).collect();
    format!(
        "[[upstream]]\nname = \"{name}\"\ntransport = \"stdio\"\ncommand = {:?}\nargs = [{}]\nenv = {{ {} }}\n{extra}\n",
        command.program.display().to_string(),
        args.join(", "),
        env.join(", ")
    )
}

fn text_of(answer: &Value) -> String {
    answer["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn reference() -> RunningUpstream {
    serve_http("127.0.0.1:0".parse().unwrap(), UpstreamOptions::default()).await
}

#[tokio::test]
async fn an_http_upstream_is_fronted_with_namespaced_names_typed_policies_and_audit() {
    let upstream = reference().await;
    let stack = gateway(&http_upstream("ref", &upstream, ""), REF_POLICIES).await;
    let mut bob = stack.client("bob").await;
    let tools = bob.list_tools().await.unwrap();
    for expected in ["ref__echo", "ref__transfer", "ref__test_simple_text"] {
        assert!(tools.contains(&expected.to_owned()), "{expected} in {tools:?}");
    }
    assert!(!tools.iter().any(|t| !t.starts_with("ref__")), "{tools:?}");
    let mut dave = stack.client("dave").await;
    assert_eq!(
        dave.list_tools().await.unwrap(),
        Vec::<String>::new(),
        "dave has no role"
    );

    let echoed = bob.call("ref__echo", json!({"text": "hello upstream"})).await.unwrap();
    assert!(text_of(&echoed).contains("hello upstream"), "{echoed}");
    let small = bob
        .call("ref__transfer", json!({"amount": 500, "currency": "EUR"}))
        .await
        .unwrap();
    assert!(small.get("result").is_some(), "{small}");
    let large = bob
        .call("ref__transfer", json!({"amount": 5000, "currency": "EUR"}))
        .await
        .unwrap();
    let unknown = bob.call("ref__no_such_tool", json!({})).await.unwrap();
    assert_eq!(large["error"], unknown["error"], "a denial looks like an unknown tool");

    let rows = stack.rows().await;
    let transfers: Vec<_> = rows
        .iter()
        .filter(|r| r.tool.as_deref() == Some("ref__transfer"))
        .collect();
    assert_eq!(transfers.len(), 2, "{transfers:?}");
    for row in &transfers {
        assert_eq!(row.upstream.as_deref(), Some("ref"));
        assert_eq!(row.upstream_item.as_deref(), Some("transfer"));
    }
    assert!(
        transfers
            .iter()
            .any(|r| r.decision == AuditDecision::Allow && r.outcome == "ok")
    );
    let denied = transfers.iter().find(|r| r.decision == AuditDecision::Deny).unwrap();
    assert_eq!(denied.policy_ids, ["transfer-cap"]);
    assert_eq!(
        upstream.tool_calls(),
        2,
        "the denied transfer never reached the upstream"
    );
}

#[tokio::test]
async fn a_tool_added_upstream_at_run_time_appears_for_the_callers_the_policy_allows() {
    let upstream = reference().await;
    let stack = gateway(&http_upstream("ref", &upstream, ""), REF_POLICIES).await;
    let mut bob = stack.client("bob").await;
    assert!(!bob.list_tools().await.unwrap().contains(&"ref__fresh".to_owned()));
    let before = stack.gateway.policy.policy_set_hash();
    upstream.add_tool("fresh").await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while stack.gateway.policy.policy_set_hash() == before {
        assert!(Instant::now() < deadline, "the policy was not rebuilt for the new tool");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(bob.list_tools().await.unwrap().contains(&"ref__fresh".to_owned()));
    let called = bob.call("ref__fresh", json!({})).await.unwrap();
    assert!(called.get("result").is_some(), "{called}");
    let mut dave = stack.client("dave").await;
    assert!(!dave.list_tools().await.unwrap().contains(&"ref__fresh".to_owned()));
    let refused = dave.call("ref__fresh", json!({})).await.unwrap();
    assert!(refused.get("error").is_some(), "{refused}");
}

#[tokio::test]
async fn names_offered_by_two_upstreams_are_a_startup_error_naming_both() {
    let first = reference().await;
    let second = reference().await;
    let upstreams = format!(
        "{}{}",
        http_upstream("one", &first, "prefix = false"),
        http_upstream("two", &second, "prefix = false")
    );
    let error = try_gateway(&upstreams, "", "").await.err().unwrap();
    assert!(
        error.contains("is offered by both upstream `one` and upstream `two`") && error.contains("`upstream`"),
        "{error}"
    );
}

#[tokio::test]
async fn the_rest_api_lists_and_calls_upstream_tools_through_the_same_decisions() {
    let upstream = reference().await;
    let stack = gateway(&http_upstream("ref", &upstream, ""), REF_POLICIES).await;
    let token = stack.token("bob").await;
    let base = format!("{}/api/v1", stack.gateway.url());
    let tools: Value = reqwest::Client::new()
        .get(format!("{base}/tools"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = tools
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(names.contains(&"ref__echo"), "{names:?}");
    let called = reqwest::Client::new()
        .post(format!("{base}/tools/ref__echo"))
        .bearer_auth(&token)
        .json(&json!({"text": "over REST"}))
        .send()
        .await
        .unwrap();
    assert_eq!(called.status(), 200);
    let result: Value = called.json().await.unwrap();
    assert!(
        result["content"][0]["text"].as_str().unwrap().contains("over REST"),
        "{result}"
    );
    let denied = reqwest::Client::new()
        .post(format!("{base}/tools/ref__transfer"))
        .bearer_auth(&token)
        .json(&json!({"amount": 5000, "currency": "USD"}))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 404);
    let rows = stack.rows().await;
    assert!(
        rows.iter()
            .any(|r| r.tool.as_deref() == Some("ref__echo") && r.upstream.as_deref() == Some("ref"))
    );
}

#[tokio::test]
async fn each_user_reaches_the_upstream_with_their_own_on_behalf_of_token() {
    let upstream = serve_http(
        "127.0.0.1:0".parse().unwrap(),
        UpstreamOptions {
            require_audience: Some(demo::DOWNSTREAM_CLIENT_ID.into()),
            ..UpstreamOptions::default()
        },
    )
    .await;
    let upstreams = http_upstream(
        "ref",
        &upstream,
        "auth = { kind = \"entra-obo\", scope = \"api://downstream/.default\" }",
    );
    let seed = seed_catalog(&upstream).await;
    let stack = try_gateway(
        &upstreams,
        REF_POLICIES,
        &format!("[gateway]\ncatalog = \"{}\"", seed.display()),
    )
    .await
    .unwrap();
    for (user, oid) in [("bob", demo::BOB_OID), ("alice", demo::ALICE_OID)] {
        let mut client = stack.client(user).await;
        let answer = client.call("ref__whoami", json!({})).await.unwrap();
        let claims: Value = serde_json::from_str(&text_of(&answer)).unwrap_or(Value::Null);
        assert_eq!(claims["oid"], oid, "{user}: {answer}");
        assert_eq!(claims["aud"], demo::DOWNSTREAM_CLIENT_ID, "{user}: {answer}");
    }
}

/// A catalog snapshot of `upstream`'s tools as upstream `ref` (what `toolgate policy catalog`
/// writes), for On-Behalf-Of upstreams toolgate cannot list by itself.
async fn seed_catalog(upstream: &RunningUpstream) -> std::path::PathBuf {
    use rmcp::ServiceExt as _;
    let transport = rmcp::transport::StreamableHttpClientTransport::with_client(
        reqwest::Client::new(),
        rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig::with_uri(upstream.url().as_str())
            .auth_header(toolgate_test_upstream::claims::unsigned_jwt(
                &json!({"aud": demo::DOWNSTREAM_CLIENT_ID}),
            )),
    );
    let client = ().serve(transport).await.unwrap();
    let tools = client.list_all_tools().await.unwrap();
    let descriptors: Vec<Value> = tools
        .iter()
        .map(|tool| {
            let mut descriptor = serde_json::to_value(toolgate_mcp::descriptor_of(tool, &Default::default())).unwrap();
            descriptor["name"] = json!(format!("ref__{}", tool.name));
            descriptor["server"] = json!("ref");
            descriptor
        })
        .collect();
    let path = std::env::temp_dir().join(format!("toolgate-seed-{}.json", uuid::Uuid::new_v4()));
    std::fs::write(&path, serde_json::to_vec(&json!({"tools": descriptors})).unwrap()).unwrap();
    path
}

#[tokio::test]
async fn an_on_behalf_of_failure_is_a_clear_tool_error_and_an_audit_row() {
    let upstream = reference().await;
    let upstreams = http_upstream(
        "ref",
        &upstream,
        "auth = { kind = \"entra-obo\", scope = \"api://no-such-api/.default\" }",
    );
    let seed = seed_catalog(&upstream).await;
    let stack = try_gateway(
        &upstreams,
        REF_POLICIES,
        &format!("[gateway]\ncatalog = \"{}\"", seed.display()),
    )
    .await
    .unwrap();
    let mut bob = stack.client("bob").await;
    let answer = bob.call("ref__echo", json!({"text": "x"})).await.unwrap();
    let message = answer["error"]["message"].as_str().unwrap_or_default().to_owned();
    assert!(
        message.contains("upstream `ref` could not be called for you"),
        "{answer}"
    );
    assert!(message.contains("AADSTS"), "the Entra error code is named: {answer}");
    assert_eq!(answer["error"]["data"]["reason"], "credentials");
    let rows = stack.rows().await;
    let row = rows.iter().find(|r| r.tool.as_deref() == Some("ref__echo")).unwrap();
    assert_eq!(row.decision, AuditDecision::Allow);
    assert_eq!(row.outcome, "error");
    assert_eq!(upstream.tool_calls(), 0);
}

#[tokio::test]
async fn app_credentials_and_static_headers_reach_the_upstream() {
    let app_upstream = serve_http(
        "127.0.0.1:0".parse().unwrap(),
        UpstreamOptions {
            require_audience: Some(demo::DOWNSTREAM_CLIENT_ID.into()),
            ..UpstreamOptions::default()
        },
    )
    .await;
    let keyed_upstream = serve_http(
        "127.0.0.1:0".parse().unwrap(),
        UpstreamOptions {
            require_static_header: Some(("x-api-key".into(), "k-123".into())),
            ..UpstreamOptions::default()
        },
    )
    .await;
    let key_file = std::env::temp_dir().join(format!("toolgate-key-{}", uuid::Uuid::new_v4()));
    std::fs::write(&key_file, "k-123\n").unwrap();
    let upstreams = format!(
        "{}{}",
        http_upstream(
            "ref",
            &app_upstream,
            "auth = { kind = \"entra-app\", scope = \"api://downstream/.default\" }"
        ),
        http_upstream(
            "keyed",
            &keyed_upstream,
            &format!(
                "auth = {{ kind = \"header\", name = \"x-api-key\", value_file = \"{}\" }}",
                key_file.display()
            )
        )
    );
    let policies = format!(
        "{REF_POLICIES}\n@id(\"keyed\") permit (principal in Role::\"Task.Read\", action in Action::\"call\", resource in Server::\"keyed\");"
    );
    let stack = gateway(&upstreams, &policies).await;
    let mut bob = stack.client("bob").await;
    let app = bob.call("ref__whoami", json!({})).await.unwrap();
    let claims: Value = serde_json::from_str(&text_of(&app)).unwrap();
    assert_eq!(claims["aud"], demo::DOWNSTREAM_CLIENT_ID, "{app}");
    assert!(
        claims["oid"].is_null() || claims["oid"] != demo::BOB_OID,
        "an app token, not bob's: {app}"
    );
    let keyed = bob.call("keyed__echo", json!({"text": "with a key"})).await.unwrap();
    assert!(text_of(&keyed).contains("with a key"), "{keyed}");
}

#[tokio::test]
async fn a_dead_or_hanging_upstream_fails_fast_with_an_error_naming_it() {
    let upstream = reference().await;
    let stack = gateway(
        &http_upstream(
            "ref",
            &upstream,
            "call_timeout_seconds = 2\nconnect_timeout_seconds = 2",
        ),
        REF_POLICIES,
    )
    .await;
    let mut bob = stack.client("bob").await;
    // Hanging: bounded by the call timeout.
    let started = Instant::now();
    let hung = bob.call("ref__hang", json!({})).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    assert!(
        hung["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("upstream `ref`"),
        "{hung}"
    );
    // Killed mid-call.
    let mut alice = stack.client("alice").await;
    let call = tokio::spawn(async move { alice.call("ref__sleep", json!({"ms": 30_000})).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    upstream.crash();
    let started = Instant::now();
    let killed = tokio::time::timeout(Duration::from_secs(20), call)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(15));
    assert!(
        killed["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("upstream `ref`"),
        "{killed}"
    );
    // Down: later calls fail at once, still listed (when_down = "list").
    let started = Instant::now();
    let down = bob.call("ref__echo", json!({"text": "x"})).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        down["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("upstream `ref`"),
        "{down}"
    );
    assert!(bob.list_tools().await.unwrap().contains(&"ref__echo".to_owned()));
    // Readiness names the upstream as down; the instance stays in the load balancer (degraded).
    let ready = reqwest::get(format!("{}/api/v1/ready", stack.gateway.url()))
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "degraded", "{body}");
    assert!(
        body["components"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "upstream:ref" && c["state"] == "down"),
        "{body}"
    );
    let rows = stack.rows().await;
    assert!(
        rows.iter()
            .any(|r| r.tool.as_deref() == Some("ref__hang") && r.outcome == "error")
    );
}

#[tokio::test]
async fn a_crashed_stdio_child_is_restarted() {
    let command = toolgate_test_upstream::external::upstream_stdio_cmd();
    let stack = gateway(&stdio_upstream("ref", &command, ""), REF_POLICIES).await;
    let mut bob = stack.client("bob").await;
    let first = bob.call("ref__echo", json!({"text": "one"})).await.unwrap();
    assert!(text_of(&first).contains("one"), "{first}");
    let crashed = bob.call("ref__crash", json!({})).await.unwrap();
    assert!(crashed.get("error").is_some(), "{crashed}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let again = bob.call("ref__echo", json!({"text": "two"})).await.unwrap();
        if text_of(&again).contains("two") {
            break;
        }
        assert!(Instant::now() < deadline, "the child was not restarted: {again}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test]
async fn a_fastmcp_server_over_stdio_is_governed_on_its_typed_arguments() {
    let command = toolgate_test_upstream::external::bank_py_cmd();
    let policies = r#"
@id("bank") permit (principal in Role::"Task.Read", action in Action::"call", resource in Server::"bank");
@id("small-transfers-only") forbid (principal, action == Action::"call:bank__transfer", resource)
when { context.input.amount > 100 || context.input.currency == "USD" };
"#;
    let stack = gateway(&stdio_upstream("bank", &command, ""), policies).await;
    let mut bob = stack.client("bob").await;
    let small = bob
        .call("bank__transfer", json!({"amount": 50, "currency": "EUR"}))
        .await
        .unwrap();
    assert!(text_of(&small).contains("50"), "{small}");
    for refused in [
        json!({"amount": 500, "currency": "EUR"}),
        json!({"amount": 5, "currency": "USD"}),
    ] {
        let answer = bob.call("bank__transfer", refused.clone()).await.unwrap();
        assert!(answer.get("error").is_some(), "{refused} → {answer}");
    }
    let schema = stack.gateway.policy.current().schema_text().to_owned();
    assert!(
        schema.contains("amount: Long") && schema.contains("currency: String"),
        "{schema}"
    );
}

#[tokio::test]
async fn server_everything_over_stdio_lists_and_calls_through_the_gate() {
    let command = toolgate_test_upstream::external::server_everything_cmd();
    let policies = r#"@id("everything") permit (principal in Role::"Task.Read", action in Action::"call", resource in Server::"everything");"#;
    let stack = gateway(&stdio_upstream("everything", &command, ""), policies).await;
    let mut bob = stack.client("bob").await;
    let tools = bob.list_tools().await.unwrap();
    assert!(tools.contains(&"everything__echo".to_owned()), "{tools:?}");
    let echoed = bob
        .call("everything__echo", json!({"message": "through the gate"}))
        .await
        .unwrap();
    assert!(text_of(&echoed).contains("through the gate"), "{echoed}");
    let sum = bob.call("everything__get-sum", json!({"a": 2, "b": 3})).await.unwrap();
    assert!(text_of(&sum).contains('5'), "{sum}");
}

#[tokio::test]
async fn the_conformance_suite_passes_through_toolgate_as_it_does_directly() {
    let upstream = reference().await;
    let direct = toolgate_test_upstream::external::run_conformance(upstream.url().as_str()).await;
    let policies = r#"
@id("conformance") permit (principal in Role::"Task.Read", action, resource in Server::"ref");
"#;
    let stack = gateway(&http_upstream("ref", &upstream, "prefix = false"), policies).await;
    let proxy = toolgate_test_upstream::inject_token(
        "127.0.0.1:0".parse().unwrap(),
        url::Url::parse(&stack.gateway.url()).unwrap(),
        stack.token("bob").await,
    )
    .await;
    let through = toolgate_test_upstream::external::run_conformance(&proxy.url("/mcp")).await;
    assert_eq!(direct.failed, 0, "{}", direct.report);
    assert_eq!(
        (through.passed, through.failed),
        (direct.passed, direct.failed),
        "through toolgate:\n{}",
        through.report
    );
}

#[tokio::test]
async fn the_inspector_cli_lists_and_calls_through_the_gate_with_a_bearer_token() {
    let upstream = reference().await;
    let stack = gateway(&http_upstream("ref", &upstream, ""), REF_POLICIES).await;
    let header = format!("Authorization: Bearer {}", stack.token("bob").await);
    let listed = toolgate_test_upstream::external::run_inspector(&[
        &stack.mcp_url,
        "--method",
        "tools/list",
        "--header",
        &header,
    ])
    .await;
    assert_eq!(listed.exit_code, Some(0), "{}", listed.stderr);
    let names: Vec<String> = listed.json().unwrap()["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str().map(str::to_owned))
        .collect();
    assert!(names.contains(&"ref__echo".to_owned()), "{names:?}");
    let called = toolgate_test_upstream::external::run_inspector(&[
        &stack.mcp_url,
        "--method",
        "tools/call",
        "--tool-name",
        "ref__echo",
        "--tool-arg",
        "text=from-the-inspector",
        "--header",
        &header,
    ])
    .await;
    assert_eq!(called.exit_code, Some(0), "{}", called.stderr);
    assert!(called.stdout.contains("from-the-inspector"), "{}", called.stdout);
    let anonymous = toolgate_test_upstream::external::run_inspector(&[&stack.mcp_url, "--method", "tools/list"]).await;
    assert_eq!(
        anonymous.exit_code,
        Some(3),
        "without a token: auth required: {}",
        anonymous.stderr
    );
}

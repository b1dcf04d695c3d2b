//! Replicas without sticky sessions (issue #11 §1): two toolgate processes sharing sessions
//! through Redis, behind nginx balancing round-robin per request, serve one MCP session made by
//! the official Python SDK client — calls, a server→client request (sampling) answered on
//! whichever replica, and a `list_changed` on the client's stream. The session is bound to its
//! principal on every replica, taken over when its replica is gone, and a Redis outage fails new
//! sessions with 503 until Redis is back, without a restart.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::json;
use toolgate::mcp_client::{McpClient, McpClientError};
use toolgate_emulator::demo;
use toolgate_test_upstream::{RunningUpstream, serve_http};

use crate::entra_proxy::{Cuttable, redis_state, redis_url, unique_prefix};
use crate::gateway_mode::{REF_POLICIES, Replica, http_upstream, start_replica};

/// nginx (Debian's `nginx-light`) as a plain round-robin balancer: every request goes to the
/// next replica, with no session affinity. Runs in the foreground in a temporary prefix and is
/// killed on drop.
struct Balancer {
    url: String,
    dir: tempfile::TempDir,
    _process: tokio::process::Child,
}

const NGINX: &str = "/usr/sbin/nginx";

impl Balancer {
    async fn start(replicas: &[&Replica]) -> Self {
        assert!(
            Path::new(NGINX).exists(),
            "nginx is not installed: `apt-get install nginx-light` (scripts/test.sh does this)"
        );
        let dir = tempfile::tempdir().unwrap();
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap().port()
        };
        let servers: String = replicas
            .iter()
            .map(|r| format!("    server {} max_fails=0;\n", authority(&r.mcp_url)))
            .collect();
        let d = dir.path().display();
        let conf = format!(
            r#"
daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 256; }}
http {{
  log_format replicas '$request_method $upstream_addr $status';
  access_log {d}/access.log replicas;
  client_body_temp_path {d}/body;
  proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi;
  scgi_temp_path {d}/scgi;
  upstream toolgate {{
{servers}    keepalive 8;
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://toolgate;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_read_timeout 120s;
      proxy_next_upstream error timeout non_idempotent;
    }}
  }}
}}
"#
        );
        let conf_path = dir.path().join("nginx.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let process = tokio::process::Command::new(NGINX)
            .arg("-p")
            .arg(dir.path())
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .arg("-c")
            .arg(&conf_path)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("nginx starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(
                Instant::now() < deadline,
                "nginx did not listen: {}",
                std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self {
            url: format!("http://127.0.0.1:{port}/mcp"),
            dir,
            _process: process,
        }
    }

    /// `(method, replica address)` of every request nginx passed on.
    fn passed(&self) -> Vec<(String, String)> {
        std::fs::read_to_string(self.dir.path().join("access.log"))
            .unwrap_or_default()
            .lines()
            .filter_map(|line| {
                let mut parts = line.split(' ');
                Some((parts.next()?.to_owned(), parts.next()?.to_owned()))
            })
            .collect()
    }
}

/// `127.0.0.1:PORT` of a URL.
fn authority(url: &str) -> String {
    let url = url::Url::parse(url).unwrap();
    format!("{}:{}", url.host_str().unwrap(), url.port().unwrap())
}

/// Two replicas sharing sessions under a fresh Redis prefix, in front of one reference upstream.
async fn two_replicas(state: &str) -> (toolgate_emulator::RunningEmulator, RunningUpstream, Replica, Replica) {
    let emulator = crate::harness::emulator().await;
    let upstream = serve_http("127.0.0.1:0".parse().unwrap(), Default::default()).await;
    let upstreams = http_upstream("ref", &upstream, "");
    let a = start_replica(&emulator, &upstreams, REF_POLICIES, state).await.unwrap();
    let b = start_replica(&emulator, &upstreams, REF_POLICIES, state).await.unwrap();
    (emulator, upstream, a, b)
}

fn shared_state() -> String {
    redis_state(&redis_url(), &unique_prefix("replicas"))
}

async fn token(emulator: &toolgate_emulator::RunningEmulator, user: &str) -> String {
    crate::harness::sign_in(emulator, user, &[demo::API_SCOPE_ACCESS_AS_USER]).await
}

fn calls(rows: &[toolgate_core::AuditEvent]) -> usize {
    rows.iter()
        .filter(|r| r.method == "tools/call" && r.outcome == "ok")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_session_is_served_by_either_replica_behind_a_round_robin_balancer() {
    let (emulator, _upstream, a, b) = two_replicas(&shared_state()).await;
    let balancer = Balancer::start(&[&a, &b]).await;
    let token = token(&emulator, "bob").await;
    let report = crate::harness::run_python_client(
        "session_walk.py",
        &[("MCP_URL", &balancer.url), ("TOKEN", &token), ("ECHOES", "6")],
    )
    .await;
    let echoes: Vec<String> = (0..6).map(|i| format!("hello {i}")).collect();
    assert_eq!(report["echoes"], json!(echoes), "{report}");
    assert_eq!(
        report["sampling"], "LLM response: completion of two plus two",
        "{report}"
    );
    assert!(report["tools"].as_array().unwrap().contains(&json!("ref__echo")));
    assert!(!report["tools"].as_array().unwrap().contains(&json!("ref__walk_added")));
    assert!(
        report["tools_after"]
            .as_array()
            .unwrap()
            .contains(&json!("ref__walk_added")),
        "{report}"
    );

    // nginx spread the session's requests over both replicas...
    let passed = balancer.passed();
    for replica in [&a, &b] {
        let address = authority(&replica.mcp_url);
        assert!(
            passed.iter().filter(|(m, to)| m == "POST" && *to == address).count() >= 3,
            "POSTs reached {address}: {passed:?}"
        );
    }
    // ...and one replica, the session's owner, ran every call (6 echoes, sampling, add_tool).
    let (on_a, on_b) = (calls(&a.rows().await), calls(&b.rows().await));
    assert_eq!(on_a + on_b, 8, "calls on a: {on_a}, on b: {on_b}");
    assert!(on_a == 0 || on_b == 0, "one owner: a ran {on_a}, b ran {on_b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_belongs_to_its_principal_on_every_replica() {
    let (emulator, _upstream, a, b) = two_replicas(&shared_state()).await;
    let mut bob = McpClient::connect(&a.mcp_url, &token(&emulator, "bob").await)
        .await
        .unwrap();
    let session = bob.session.clone().expect("a stateful session");
    let alice_token = token(&emulator, "alice").await;
    for replica in [&a, &b] {
        let mut alice = McpClient::new(&replica.mcp_url, &alice_token);
        alice.session = Some(session.clone());
        match alice.list_tools().await {
            Err(McpClientError::Refused { status, body }) => {
                assert_eq!(status, 403, "{body}");
                assert!(body.contains("belongs to another principal"), "{body}");
            }
            other => panic!("alice got bob's session on {}: {other:?}", replica.mcp_url),
        }
    }
    // bob himself is served on the other replica (forwarded to the owner).
    bob.retarget(&b.mcp_url);
    let echoed = bob.call("ref__echo", json!({"text": "via b"})).await.unwrap();
    assert_eq!(echoed["result"]["content"][0]["text"], "via b", "{echoed}");
    assert_eq!(calls(&a.rows().await), 1, "the owner ran it");
    assert_eq!(calls(&b.rows().await), 0);
    // The refusals are audited where they happened.
    for replica in [&a, &b] {
        assert!(
            replica
                .rows()
                .await
                .iter()
                .any(|r| r.reason_code.as_deref() == Some("session_of_another_principal")),
            "{}",
            replica.mcp_url
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_that_is_gone_has_its_sessions_taken_over() {
    let (emulator, _upstream, a, b) = two_replicas(&shared_state()).await;
    let mut bob = McpClient::connect(&a.mcp_url, &token(&emulator, "bob").await)
        .await
        .unwrap();
    bob.call("ref__echo", json!({"text": "on a"})).await.unwrap();
    let a_rows = a.rows().await;
    a.gateway.shutdown().await;

    bob.retarget(&b.mcp_url);
    let echoed = bob.call("ref__echo", json!({"text": "after a left"})).await.unwrap();
    assert_eq!(echoed["result"]["content"][0]["text"], "after a left", "{echoed}");
    let echoed = bob.call("ref__echo", json!({"text": "again"})).await.unwrap();
    assert_eq!(echoed["result"]["content"][0]["text"], "again", "{echoed}");
    assert_eq!(calls(&a_rows), 1);
    assert_eq!(calls(&b.rows().await), 2, "b took the session over");
    // Still bob's alone.
    let mut alice = McpClient::new(&b.mcp_url, &token(&emulator, "alice").await);
    alice.session = bob.session.clone();
    assert!(matches!(
        alice.list_tools().await,
        Err(McpClientError::Refused { status, .. }) if status == 403
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_sessions_fail_with_503_while_redis_is_down_and_work_again_when_it_is_back() {
    let redis: std::net::SocketAddr = {
        let url = url::Url::parse(&redis_url()).unwrap();
        url.socket_addrs(|| Some(6379)).unwrap()[0]
    };
    let link = Cuttable::start(redis).await;
    let state = redis_state(&format!("redis://{}", link.addr), &unique_prefix("replicas-outage"));
    let (emulator, _upstream, a, _b) = two_replicas(&state).await;
    let bob_token = token(&emulator, "bob").await;
    let mut existing = McpClient::connect(&a.mcp_url, &bob_token).await.unwrap();

    link.cut();
    match McpClient::connect(&a.mcp_url, &bob_token).await {
        Err(McpClientError::Refused { status, body }) => {
            assert_eq!(status, 503, "{body}");
            assert!(body.contains("session store is unavailable"), "{body}");
        }
        other => panic!("a session without Redis: {other:?}"),
    }
    // The session this replica holds goes on; the server is healthy.
    existing.call("ref__echo", json!({"text": "during"})).await.unwrap();
    let health = reqwest::get(a.mcp_url.replace("/mcp", "/api/v1/health")).await.unwrap();
    assert_eq!(health.status(), 200);

    link.restore();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match McpClient::connect(&a.mcp_url, &bob_token).await {
            Ok(mut fresh) => {
                fresh.call("ref__echo", json!({"text": "after"})).await.unwrap();
                break;
            }
            Err(error) => {
                assert!(Instant::now() < deadline, "no recovery: {error}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    assert!(
        a.rows()
            .await
            .iter()
            .any(|r| r.reason_code.as_deref() == Some("session_store_unavailable")),
        "the refusal is audited"
    );
}

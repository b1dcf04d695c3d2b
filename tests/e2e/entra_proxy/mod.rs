//! `entra-proxy` end to end: a whole toolgate whose provider is the proxy, the emulator as Entra,
//! a scripted browser (cookies and forms handled in code), real MCP SDK clients, and the attacks
//! the proxy must refuse.

mod attacks;
mod browser;
mod flow;
mod limits;
mod policy_claims;
mod refusals;
mod sdk_clients;
mod shared_state;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;
use toolgate::build::{self, PolicyOrigin};
use toolgate::config;
use toolgate::start::{RunningGateway, start_on};
use toolgate_core::{Clock, ManualClock, SystemClock};
use toolgate_emulator::{RunningEmulator, demo};
use toolgate_entra::EntraValidator;
use toolgate_proxy::{EntraProxy, ProxyConfig, ProxySecret, UpstreamConfig};

pub use browser::{Browser, Tokens};

/// A secret shared by every proxy in these tests (processes sharing Redis must share it).
pub const SECRET: &str = "test-secret-test-secret-test-secret-0123456789";

/// A gateway with the `entra-proxy` provider.
pub struct ProxyStack {
    pub emulator: RunningEmulator,
    pub gateway: RunningGateway,
    /// Scheme, host and port: the proxy's issuer.
    pub base: String,
    pub mcp_url: String,
    dir: tempfile::TempDir,
}

impl ProxyStack {
    /// Every audit row so far (after flushing the writer).
    pub async fn audit_rows(&self) -> Vec<toolgate_core::AuditEvent> {
        self.gateway.audit.flush().await;
        let url = format!("sqlite://{}?mode=rwc", self.dir.path().join("audit.db").display());
        let store = toolgate_audit::AuditStore::connect(&url).await.unwrap();
        store.query(&toolgate_audit::AuditFilter::default()).await.unwrap()
    }
}

/// Options for [`proxy_gateway`].
#[derive(Default, Clone)]
pub struct Options {
    /// Extra lines in `[auth.proxy]`.
    pub proxy_toml: String,
    /// Extra lines in `[auth.entra]`.
    pub entra_toml: String,
    /// A `[state]` section (default: memory).
    pub state_toml: String,
    /// Pretend the public URL is this (several processes behind one address).
    pub public_url: Option<String>,
    /// A whole `[policy]` section (default: the example policies).
    pub policy_toml: Option<String>,
}

pub async fn stack(options: Options) -> ProxyStack {
    let emulator = crate::harness::emulator().await;
    let (gateway, base, dir) = proxy_gateway(&emulator, &options).await;
    ProxyStack {
        mcp_url: format!("{base}/mcp"),
        base,
        emulator,
        gateway,
        dir,
    }
}

/// Starts a proxy gateway trusting `emulator`; returns it with its own base URL.
pub async fn proxy_gateway(
    emulator: &RunningEmulator,
    options: &Options,
) -> (RunningGateway, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let public_url = options
        .public_url
        .as_ref()
        .map(|u| format!("public_url = \"{u}\""))
        .unwrap_or_default();
    let toml = format!(
        r#"
[server]
bind = "{addr}"
{public_url}

[auth]
provider = "entra-proxy"

[auth.entra]
authority_host = "{authority}"
tenant_id = "{tenant}"
client_id = "{client}"
client_secret = "{client_secret}"
{entra_toml}

[auth.proxy]
secret = "{SECRET}"
{proxy_toml}

{state_toml}

[audit]
database_url = "sqlite://{db}?mode=rwc"
spool_path = "{spool}"
flush_interval = "20ms"

{policy_toml}
"#,
        authority = emulator.base_url(),
        tenant = demo::TENANT_ID,
        client = demo::API_CLIENT_ID,
        client_secret = demo::API_CLIENT_SECRET,
        proxy_toml = options.proxy_toml,
        entra_toml = options.entra_toml,
        state_toml = options.state_toml,
        db = dir.path().join("audit.db").display(),
        spool = dir.path().join("audit.spool").display(),
        policy_toml = options.policy_toml.clone().unwrap_or_else(|| format!(
            "[policy]\ndir = \"{}\"\n",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../policies")
        )),
    );
    let loaded = config::load_str(&toml).unwrap_or_else(|e| panic!("{e}\n{toml}"));
    let gateway = build::gateway_with(&loaded, PolicyOrigin::Directory)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let gateway = start_on(gateway, listener).await.unwrap();
    (gateway, format!("http://{addr}"), dir)
}

/// A Redis `[state]` section with a fresh key prefix (tests never see each other's state).
pub fn redis_state(url: &str, prefix: &str) -> String {
    format!("[state]\nbackend = \"redis\"\nurl = \"{url}\"\nkey_prefix = \"{prefix}\"\n")
}

pub fn redis_url() -> String {
    std::env::var("TOOLGATE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

pub fn unique_prefix(name: &str) -> String {
    format!("toolgate-test-{name}-{}", uuid::Uuid::new_v4().simple())
}

/// What `alice` may see (roles.cedar): the same list as with `entra-jwt`.
pub const ALICE_TOOLS: [&str; 4] = ["create_task", "delete_task", "get_task", "list_tasks"];

/// A proxy built by hand on a [`ManualClock`] (its memory store on the same clock), served with
/// `toolgate_server::build_app` and trusting the emulator: for tests that move time (expiry,
/// rate-limit windows) without sleeping. Entra (the emulator) keeps real time.
pub struct ClockStack {
    pub emulator: RunningEmulator,
    pub base: String,
    pub proxy: EntraProxy,
    pub clock: ManualClock,
    pub validator: EntraValidator,
    _server: toolgate_server::RunningServer,
}

impl ClockStack {
    /// Starts the proxy against `emulator`; `configure` adjusts the configuration first
    /// (the defaults of `ProxyConfig::new`, CIMD off).
    pub async fn start(emulator: RunningEmulator, configure: impl FnOnce(&mut ProxyConfig)) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let validator = EntraValidator::new(crate::harness::api_settings(&emulator), Arc::new(SystemClock));
        validator.start().await.unwrap();
        let clock = ManualClock::new(crate::harness::now());
        let proxy_clock: Arc<dyn Clock> = Arc::new(clock.clone());
        let mut config = ProxyConfig::new(
            base.clone(),
            format!("{base}/mcp"),
            UpstreamConfig {
                authority_host: emulator.base_url(),
                tenant: demo::TENANT_ID.into(),
                client_id: demo::API_CLIENT_ID.into(),
                client_secret: demo::API_CLIENT_SECRET.into(),
                scope_prefix: demo::API_IDENTIFIER_URI.into(),
            },
            vec!["access_as_user".into()],
            ProxySecret::generate(),
        );
        config.cimd = None;
        configure(&mut config);
        let store = Arc::new(toolgate_store::MemoryStore::with_clock(proxy_clock.clone()));
        let proxy = EntraProxy::new(config, validator.clone(), store, proxy_clock)
            .await
            .unwrap();
        let settings = toolgate_server::AppSettings {
            public_url: base.clone(),
            mcp_path: "/mcp".into(),
        };
        let app = toolgate_server::build_app(Arc::new(proxy.clone()), &settings);
        let server = toolgate_server::serve_on(app, listener).unwrap();
        Self {
            emulator,
            base,
            proxy,
            clock,
            validator,
            _server: server,
        }
    }
}

/// The emulator's socket address.
pub fn emulator_addr(emulator: &RunningEmulator) -> SocketAddr {
    url::Url::parse(&emulator.base_url())
        .unwrap()
        .socket_addrs(|| None)
        .unwrap()
        .into_iter()
        .next()
        .unwrap()
}

/// A TCP proxy in front of a service (Redis, the emulator as Entra) that can be cut and restored.
pub struct Cuttable {
    pub addr: SocketAddr,
    cut: Arc<AtomicBool>,
    connections: Arc<parking_lot::Mutex<Vec<AbortHandle>>>,
    accept: AbortHandle,
}

impl Cuttable {
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let cut = Arc::new(AtomicBool::new(false));
        let connections: Arc<parking_lot::Mutex<Vec<AbortHandle>>> = Arc::default();
        let accept = {
            let cut = cut.clone();
            let connections = connections.clone();
            tokio::spawn(async move {
                loop {
                    let Ok((mut client, _)) = listener.accept().await else {
                        continue;
                    };
                    if cut.load(Ordering::SeqCst) {
                        drop(client);
                        continue;
                    }
                    let task = tokio::spawn(async move {
                        if let Ok(mut server) = TcpStream::connect(target).await {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    });
                    connections.lock().push(task.abort_handle());
                }
            })
            .abort_handle()
        };
        Self {
            addr,
            cut,
            connections,
            accept,
        }
    }

    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for connection in self.connections.lock().drain(..) {
            connection.abort();
        }
    }

    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

impl Drop for Cuttable {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}

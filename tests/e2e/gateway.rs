//! A whole toolgate (Entra provider + Cedar + audit + gated demo tools) against the emulator.

use toolgate::build::{self, PolicyOrigin};
use toolgate::config;
use toolgate::start::{RunningGateway, start_on};
use toolgate_audit::{AuditFilter, AuditStore};
use toolgate_core::AuditEvent;
use toolgate_emulator::{RunningEmulator, demo};

pub struct Stack {
    pub emulator: RunningEmulator,
    pub gateway: RunningGateway,
    pub mcp_url: String,
    pub audit_url: String,
    _dir: tempfile::TempDir,
}

/// Extra TOML appended to the gateway's configuration (e.g. `[mcp]` or `[policy]` tweaks). An
/// extra `[server]`, `[audit]` or `[policy]` section replaces the default one (`{addr}` in it is
/// replaced by the bound address, `{dir}` by the test's temporary directory).
pub async fn stack(extra_toml: &str) -> Stack {
    stack_with_auth(None, extra_toml).await
}

/// The same with another `[auth]` section; `{authority}` in it is replaced by the emulator's URL.
pub async fn stack_with_auth(auth_toml: Option<&str>, extra_toml: &str) -> Stack {
    let emulator = crate::harness::emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let audit_url = format!("sqlite://{}?mode=rwc", dir.path().join("audit.db").display());
    let policies = concat!(env!("CARGO_MANIFEST_DIR"), "/../policies");
    let extra_toml = extra_toml
        .replace("{addr}", &addr.to_string())
        .replace("{dir}", &dir.path().display().to_string());
    let server = if extra_toml.contains("[server]") {
        String::new()
    } else {
        format!("[server]\nbind = \"{addr}\"\n")
    };
    let audit = if extra_toml.contains("[audit]") {
        String::new()
    } else {
        format!(
            "[audit]\ndatabase_url = \"{audit_url}\"\nspool_path = \"{}\"\nflush_interval = \"20ms\"\n",
            dir.path().join("audit.spool").display()
        )
    };
    let toml = format!(
        r#"
{server}

{auth}

{audit}

{extra_toml}
"#,
        auth = auth_toml.map(|a| a.replace("{authority}", &emulator.base_url())).unwrap_or_else(|| format!(
            "[auth]\nprovider = \"entra-jwt\"\n\n[auth.entra]\nauthority_host = \"{}\"\ntenant_id = \"{}\"\nclient_id = \"{}\"\napp_roles = [\"Task.Read\", \"Task.Write\", \"Task.All\", \"MCPServer.Admin\"]\n",
            emulator.base_url(),
            demo::TENANT_ID,
            demo::API_CLIENT_ID
        )),
    );
    let toml = if toml.contains("[policy]") {
        toml
    } else {
        format!("{toml}\n[policy]\ndir = \"{policies}\"\n")
    };
    let loaded = config::load_str(&toml).unwrap_or_else(|e| panic!("{e}\n{toml}"));
    let gateway = build::gateway_with(&loaded, PolicyOrigin::Directory)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mcp_url = gateway.app.resource_url();
    let gateway = start_on(gateway, listener).await.unwrap();
    Stack {
        emulator,
        gateway,
        mcp_url,
        audit_url,
        _dir: dir,
    }
}

impl Stack {
    /// The demo tools' store.
    pub fn tasks(&self) -> &toolgate_demo::TaskStore {
        self.gateway.tasks.as_ref().expect("the stack serves the demo tools")
    }

    pub async fn token(&self, user: &str) -> String {
        crate::harness::sign_in(&self.emulator, user, &[demo::API_SCOPE_ACCESS_AS_USER]).await
    }

    /// Every audit row so far (after flushing the writer).
    pub async fn audit_rows(&self) -> Vec<AuditEvent> {
        self.gateway.audit.flush().await;
        let store = AuditStore::connect(&self.audit_url).await.unwrap();
        store.query(&AuditFilter::default()).await.unwrap()
    }
}

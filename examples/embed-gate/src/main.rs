//! Embed toolgate around your own rmcp server. Run: `cargo run -p embed-gate`, then follow the
//! printed commands (everything runs offline against the Entra emulator).
use std::sync::Arc;

use rmcp::handler::server::{router::tool::ToolRouter, wrapper::Parameters};
use rmcp::model::{ServerCapabilities, ServerConfig};
use rmcp::{ServerHandler, schemars, tool, tool_handler, tool_router};
use toolgate::emulator::{Emulator, EmulatorConfig, demo};
use toolgate::entra::providers::{AccessRequirements, EntraJwtConfig, EntraJwtProvider};
use toolgate::entra::{EntraSettings, EntraValidator};
use toolgate::mcp::{GateOptions, GateShared, McpTransportConfig, SessionBindings, descriptor_of, mcp_endpoint};
use toolgate::policy::{ClaimMapping, PolicyEngine, PolicySource};
use toolgate::server::{AppSettings, auth_gate, build_app_with_mcp, serve};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Greet {
    name: String,
}

#[derive(Clone)]
struct Greeter {
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl Greeter {
    #[tool(description = "Say hello.")]
    async fn greet(&self, Parameters(Greet { name }): Parameters<Greet>) -> String {
        format!("Hello, {name}!")
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Greeter {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }
}

const POLICY: &str =
    r#"@id("readers-greet") permit (principal in Role::"Task.Read", action == Action::"call:greet", resource);"#;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let idp = Emulator::start(EmulatorConfig::demo(), "127.0.0.1:8400".parse()?).await?; // Entra stand-in
    let app = AppSettings {
        public_url: "http://127.0.0.1:8090".into(),
        mcp_path: "/mcp".into(),
    };
    let settings = EntraSettings::single_tenant(&idp.base_url(), demo::TENANT_ID, demo::API_CLIENT_ID)?;
    let validator = EntraValidator::new(settings, Arc::new(toolgate::core::SystemClock));
    validator.start().await?;
    let requirements = AccessRequirements {
        required_scopes: vec!["access_as_user".into()],
        ..Default::default()
    };
    let config = EntraJwtConfig {
        resource: app.resource_url(),
        scopes: vec!["access_as_user".into()],
        requirements,
        resource_name: None,
    };
    let provider = Arc::new(EntraJwtProvider::new(validator, config));

    let catalog: Vec<_> = Greeter::tool_router()
        .list_all()
        .iter()
        .map(|t| descriptor_of(t, &Default::default()))
        .collect();
    let source = PolicySource {
        name: "inline.cedar".into(),
        text: POLICY.into(),
    };
    let policy = Arc::new(PolicyEngine::from_sources(
        &[source],
        &catalog,
        false,
        ClaimMapping::default(),
    )?);
    let shared = Arc::new(GateShared::new(
        policy,
        Arc::new(toolgate::core::NoAudit),
        GateOptions::default(),
    ));
    let make = || Greeter {
        tool_router: Greeter::tool_router(),
    };
    let endpoint = mcp_endpoint(make, shared, &McpTransportConfig::default(), SessionBindings::default())?;
    let server = serve(
        build_app_with_mcp(auth_gate(provider, &app), &app, endpoint),
        "127.0.0.1:8090".parse()?,
    )
    .await?;

    println!(
        "Gate on {} — try: toolgate tools --url {} --user bob   (dave sees nothing)",
        server.url(),
        app.resource_url()
    );
    tokio::signal::ctrl_c().await?;
    Ok(())
}

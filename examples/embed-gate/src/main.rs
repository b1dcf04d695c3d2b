//! Embed toolgate around your own rmcp server: Entra sign-in, Cedar policies, the audit trail,
//! the REST API and Swagger UI, in one builder call. Run `cargo run -p embed-gate`, then
//! `toolgate tools --url http://127.0.0.1:8090/mcp --user bob` (dave sees nothing).
use rmcp::handler::server::{router::tool::ToolRouter, wrapper::Parameters};
use rmcp::model::{ServerCapabilities, ServerConfig};
use rmcp::{ServerHandler, schemars, tool, tool_handler, tool_router};
use toolgate::emulator::{Emulator, EmulatorConfig};

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

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _entra = Emulator::start(EmulatorConfig::demo(), "127.0.0.1:8400".parse()?).await?; // Entra stand-in
    toolgate::Gateway::builder()
        .config_file(concat!(env!("CARGO_MANIFEST_DIR"), "/toolgate.toml"))?
        .handler(|| Greeter {
            tool_router: Greeter::tool_router(),
        })
        .build()
        .await?
        .serve()
        .await?;
    Ok(())
}

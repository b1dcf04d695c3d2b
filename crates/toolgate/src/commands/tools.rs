//! `toolgate tools --user alice`: sign in through the emulator and list the MCP tools this user
//! may see — the quickest way to watch the policies at work.

use clap::Args;
use toolgate_emulator::demo;

use crate::cli::exit;
use crate::mcp_client::McpClient;
use crate::sign_in::SignIn;

#[derive(Debug, Args)]
pub struct ToolsArgs {
    /// The demo user to sign in as.
    #[arg(long)]
    pub user: String,
    /// The MCP endpoint.
    #[arg(long, default_value = "http://127.0.0.1:8080/mcp")]
    pub url: String,
    /// Authority host (the emulator's base URL).
    #[arg(long, env = "TOOLGATE_AUTHORITY", default_value = "http://127.0.0.1:8400")]
    pub authority: String,
}

pub async fn execute(args: ToolsArgs) -> u8 {
    let sign_in = SignIn {
        authority: args.authority.clone(),
        tenant: demo::TENANT_ID.into(),
        client_id: demo::CLI_CLIENT_ID.into(),
        redirect_uri: demo::CLI_REDIRECT_URI.into(),
        user: args.user.clone(),
        scopes: vec![demo::API_SCOPE_ACCESS_AS_USER.into()],
    };
    let token = match sign_in.run().await {
        Ok(signed_in) => signed_in.access_token,
        Err(error) => {
            eprintln!("toolgate tools: {error}");
            return exit::FAILURE;
        }
    };
    let listed = match McpClient::connect(&args.url, &token).await {
        Ok(mut client) => client.list_tools().await,
        Err(error) => Err(error),
    };
    match listed {
        Ok(tools) => {
            println!(
                "{} may use: {}",
                args.user,
                if tools.is_empty() {
                    "(no tools)".into()
                } else {
                    tools.join(", ")
                }
            );
            exit::OK
        }
        Err(error) => {
            eprintln!("toolgate tools: {error}");
            exit::FAILURE
        }
    }
}

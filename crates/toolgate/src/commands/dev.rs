//! `toolgate dev`: everything offline on embedded defaults — the Entra emulator with its demo
//! tenant, apps and users, and the gate trusting it. Prints what to try.

use std::net::SocketAddr;

use clap::Args;
use toolgate_emulator::{Emulator, EmulatorConfig, demo};

use crate::cli::exit;
use crate::{build, config};

#[derive(Debug, Args)]
pub struct DevArgs {
    /// Address of the gate.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Address of the Entra emulator.
    #[arg(long, default_value = "127.0.0.1:8400")]
    pub emulator_bind: SocketAddr,
    /// The auth provider: `entra-jwt` (clients bring Entra tokens) or `entra-proxy` (toolgate is
    /// the OAuth server MCP clients register with, sign in through and consent to).
    #[arg(long, default_value = "entra-jwt", value_parser = ["entra-jwt", "entra-proxy"])]
    pub auth: String,
}

pub async fn execute(args: DevArgs) -> u8 {
    let emulator_config = EmulatorConfig::demo();
    let users: Vec<String> = emulator_config
        .users
        .iter()
        .filter(|user| user.tenant == demo::TENANT_ID || user.tenant == demo::TENANT_NAME)
        .map(|user| user.user_name.clone())
        .collect();
    let emulator = match Emulator::start(emulator_config, args.emulator_bind).await {
        Ok(emulator) => emulator,
        Err(error) => {
            eprintln!("toolgate dev: cannot start the emulator: {error}");
            return exit::FAILURE;
        }
    };
    let authority = emulator.base_url();
    let proxy = args.auth == "entra-proxy";
    let toml = if proxy {
        let mut secret = [0u8; 48];
        rand::fill(&mut secret);
        config::dev_proxy_config(&authority, args.bind, &toolgate_jose::base64url_encode(secret))
    } else {
        config::dev_config(&authority, args.bind)
    };
    let loaded = match config::load_str_with_env(&toml) {
        Ok(loaded) => loaded,
        Err(error) => return super::config_failure(&error),
    };
    let gateway = match build::gateway_with(&loaded, build::PolicyOrigin::Embedded).await {
        Ok(gateway) => gateway,
        Err(error) => return super::config_failure(&error),
    };
    let public_url = gateway.app.public_url.clone();
    println!("toolgate dev: everything offline, nothing to configure.");
    println!("  Entra emulator : {authority}");
    println!(
        "  emulator admin : Bearer {} (POST /_emulator/rotate-keys)",
        emulator.admin_token()
    );
    println!("  gate           : {public_url}");
    println!("  MCP resource   : {}", gateway.app.resource_url());
    let exe = std::env::current_exe()
        .map(|path| path.display().to_string())
        .unwrap_or_else(|_| "toolgate".into());
    let mcp_url = gateway.app.resource_url();
    println!(
        "  policies       : embedded examples (policy set {})",
        gateway.policy.policy_set_hash().chars().take(12).collect::<String>()
    );
    println!("  audit trail    : {}", gateway.audit.database_url);
    if proxy {
        println!("Auth: entra-proxy. toolgate is the OAuth server; point any MCP client at the MCP resource:");
        println!("  it discovers {public_url}/.well-known/oauth-authorization-server, registers itself, sends you");
        println!("  to the emulator's sign-in page (pick a user) and then to toolgate's consent page.");
        println!("  e.g. npx @modelcontextprotocol/inspector  (transport: Streamable HTTP, URL {mcp_url})");
        println!("A token for curl, through the browser: open {public_url}/auth/login, then");
        println!("  curl -s -X POST -d code=<the one-time code> {public_url}/auth/exchange");
        println!("Swagger UI (Authorize goes through the proxy and its consent page): {public_url}/docs");
        return super::serve::run(gateway).await;
    }
    println!("List the tools each demo user may use (in another terminal):");
    for user in &users {
        println!("  {exe} tools --authority {authority} --url {mcp_url} --user {user}");
    }
    println!("Or call the API yourself with a real token:");
    println!(
        "  curl -s -H \"Authorization: Bearer $({exe} token --authority {authority} --user alice)\" {public_url}/whoami"
    );
    println!("Swagger UI (Authorize signs you in at the emulator): {public_url}/docs");
    println!("Without a token you get a 401 with a WWW-Authenticate challenge:");
    println!("  curl -si {public_url}/whoami");
    super::serve::run(gateway).await
}

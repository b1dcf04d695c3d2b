//! `toolgate token --user alice`: a real access token through the authority's own endpoints —
//! authorization code + PKCE, exactly as a client runs it (with the emulator's non-interactive
//! sign-in: `prompt=none` + `login_hint`).

use clap::Args;
use toolgate_emulator::demo;

use crate::cli::exit;
use crate::sign_in::SignIn;

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The user to sign in (name like `alice`, or UPN).
    #[arg(long)]
    pub user: String,
    /// Scopes to request (repeatable). Default: the demo API's `access_as_user`.
    #[arg(long = "scope")]
    pub scopes: Vec<String>,
    /// Authority host (the emulator's base URL).
    #[arg(long, env = "TOOLGATE_AUTHORITY", default_value = "http://127.0.0.1:8400")]
    pub authority: String,
    /// Tenant id or domain.
    #[arg(long, default_value = demo::TENANT_ID)]
    pub tenant: String,
    /// Public client to sign in with.
    #[arg(long, default_value = demo::CLI_CLIENT_ID)]
    pub client_id: String,
    #[arg(long, default_value = "http://localhost")]
    pub redirect_uri: String,
    /// Print the whole token response as JSON instead of the access token alone.
    #[arg(long)]
    pub json: bool,
}

pub async fn execute(args: TokenArgs) -> u8 {
    let scopes = if args.scopes.is_empty() {
        vec![demo::API_SCOPE_ACCESS_AS_USER.to_owned()]
    } else {
        args.scopes.clone()
    };
    let request = SignIn {
        authority: args.authority.clone(),
        tenant: args.tenant.clone(),
        client_id: args.client_id.clone(),
        redirect_uri: args.redirect_uri.clone(),
        user: args.user.clone(),
        scopes,
    };
    match request.run().await {
        Ok(response) => {
            if args.json {
                println!("{}", response.raw);
            } else {
                println!("{}", response.access_token);
            }
            exit::OK
        }
        Err(error) => {
            eprintln!("toolgate token: {error}");
            exit::FAILURE
        }
    }
}

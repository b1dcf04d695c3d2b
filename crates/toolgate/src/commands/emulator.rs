//! `toolgate emulator [--config FILE]`: the offline Entra ID emulator on its own.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use toolgate_emulator::{Emulator, EmulatorConfig};

use crate::cli::exit;

#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Tenants, app registrations and users (TOML). Default: the built-in demo set.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8400")]
    pub bind: SocketAddr,
}

pub async fn execute(args: EmulatorArgs) -> u8 {
    let config = match &args.config {
        Some(path) => match EmulatorConfig::from_file(path) {
            Ok(config) => config,
            Err(error) => {
                eprintln!("toolgate: {error}");
                return exit::CONFIG;
            }
        },
        None => EmulatorConfig::demo(),
    };
    let emulator = match Emulator::start(config, args.bind).await {
        Ok(emulator) => emulator,
        Err(error) => {
            eprintln!("toolgate: cannot start the emulator: {error}");
            return exit::FAILURE;
        }
    };
    println!("Entra ID emulator listening on {}", emulator.base_url());
    println!(
        "Admin token for POST /_emulator/rotate-keys (Authorization: Bearer …): {}",
        emulator.admin_token()
    );
    super::until_interrupted().await;
    drop(emulator);
    exit::OK
}

//! `toolgate serve --config FILE`: the gate for deployments.

use std::path::PathBuf;

use clap::Args;

use crate::cli::exit;
use crate::{build, config};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Configuration file (TOML).
    #[arg(long, short, env = "TOOLGATE_CONFIG", default_value = "toolgate.toml")]
    pub config: PathBuf,
}

pub async fn execute(args: ServeArgs) -> u8 {
    let loaded = match config::load(&args.config) {
        Ok(loaded) => loaded,
        Err(error) => return super::config_failure(&error),
    };
    let gateway = match build::gateway(&loaded).await {
        Ok(gateway) => gateway,
        Err(error) => return super::config_failure(&error),
    };
    run(gateway).await
}

/// Starts the gateway and serves until interrupted.
pub(crate) async fn run(gateway: build::Gateway) -> u8 {
    let running = match crate::start::start(gateway).await {
        Ok(running) => running,
        Err(error) => {
            eprintln!("toolgate: {error}");
            return exit::FAILURE;
        }
    };
    super::until_interrupted().await;
    running.shutdown().await;
    exit::OK
}

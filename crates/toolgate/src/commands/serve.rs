//! `toolgate serve --config FILE`: the gate for deployments.

use std::path::PathBuf;

use clap::Args;
use toolgate_server::{build_app, serve};

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
    let gateway = match build::gateway(&loaded) {
        Ok(gateway) => gateway,
        Err(error) => return super::config_failure(&error),
    };
    run(gateway).await
}

/// Loads keys, serves until interrupted.
pub(crate) async fn run(gateway: build::Gateway) -> u8 {
    for validator in &gateway.validators {
        if let Err(error) = validator.start().await {
            tracing::warn!(%error, "signing keys not loaded yet; requests fail closed until they are");
        }
    }
    let app = build_app(gateway.provider.clone(), &gateway.app);
    let server = match serve(app, gateway.bind).await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("toolgate: {error}");
            return exit::FAILURE;
        }
    };
    tracing::info!(addr = %server.local_addr(), resource = %gateway.app.resource_url(), "toolgate is serving");
    super::until_interrupted().await;
    server.shutdown().await;
    exit::OK
}

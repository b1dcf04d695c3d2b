//! One file per subcommand, each with `execute(args) -> exit code`.

pub mod dev;
pub mod emulator;
pub mod migrate;
pub mod policy;
pub mod serve;
pub mod token;
pub mod tools;

use crate::cli::exit;
use crate::config::ConfigError;

/// Prints a configuration error and returns its exit code.
fn config_failure(error: &ConfigError) -> u8 {
    eprintln!("toolgate: {error}");
    exit::CONFIG
}

/// Waits for Ctrl-C (or SIGTERM through tokio's ctrl_c on Unix terminals).
async fn until_interrupted() {
    let _ = tokio::signal::ctrl_c().await;
}

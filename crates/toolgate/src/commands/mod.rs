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

/// Waits for SIGINT (Ctrl-C) or SIGTERM — what Kubernetes, Docker and systemd send to stop a
/// service. The caller then shuts down gracefully: stop accepting, let in-flight requests
/// finish (bounded), flush the audit trail.
pub(crate) async fn until_interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: shutting down"),
                    _ = terminate.recv() => tracing::info!("SIGTERM: shutting down"),
                }
                return;
            }
            Err(error) => tracing::warn!(%error, "cannot listen for SIGTERM; only Ctrl-C stops gracefully"),
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

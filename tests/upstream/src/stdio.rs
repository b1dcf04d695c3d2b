//! The reference upstream over stdio (newline-delimited JSON-RPC on stdin/stdout), for
//! `toolgate-test-upstream stdio`.

use rmcp::ServiceExt as _;

use crate::error::UpstreamError;
use crate::server::{Shared, Upstream};

/// The exit code of `toolgate-test-upstream stdio` after the `crash` tool.
pub const CRASH_EXIT_CODE: i32 = 3;

/// Serves the reference upstream on this process's stdin/stdout until the client closes stdin.
/// The `crash` tool exits the process at once with [`CRASH_EXIT_CODE`].
///
/// Errors: [`UpstreamError::Stdio`] when the `initialize` handshake fails.
pub async fn serve_stdio(server_name: String) -> Result<(), UpstreamError> {
    let shared = Shared::new(server_name, Box::new(|| std::process::exit(CRASH_EXIT_CODE)));
    let running = Upstream::new(shared)
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| UpstreamError::Stdio(e.to_string()))?;
    running
        .waiting()
        .await
        .map_err(|e| UpstreamError::Stdio(e.to_string()))?;
    Ok(())
}

//! Errors of the reference upstream.

use std::net::SocketAddr;

/// Why a reference upstream could not start or serve.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("binding {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("starting the upstream's runtime: {0}")]
    Runtime(std::io::Error),
    #[error("the upstream's runtime ended before it was listening")]
    NotStarted,
    #[error("require_static_header: {0}")]
    InvalidHeader(String),
    #[error("serving MCP over stdio: {0}")]
    Stdio(String),
}

//! `toolgate-test-upstream`: the reference MCP upstream of toolgate's gateway tests as a process.
//!
//! ```text
//! toolgate-test-upstream stdio [--name NAME]
//! toolgate-test-upstream http [--bind 127.0.0.1] [--port 0] [--name NAME]
//!                             [--require-audience AUD] [--require-header NAME:VALUE]
//! ```
//! `http` prints the MCP endpoint URL (`http://127.0.0.1:PORT/mcp`) as its first stdout line.
//! Exit codes: 0 stopped (stdin closed, Ctrl-C or SIGTERM), 1 runtime error, 2 usage error,
//! 3 after the `crash` tool. Logs go to stderr (`TOOLGATE_TEST_UPSTREAM_LOG`, default `warn`).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use toolgate_test_upstream::{CRASH_EXIT_CODE, Ending, UpstreamOptions, serve_stdio, try_serve_http};

#[derive(Parser)]
#[command(about = "The reference MCP upstream of toolgate's gateway tests")]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Subcommand)]
enum Mode {
    /// Serve MCP on stdin/stdout.
    Stdio {
        /// serverInfo.name
        #[arg(long, default_value = "toolgate-test-upstream")]
        name: String,
    },
    /// Serve MCP over streamable HTTP at /mcp.
    Http {
        #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
        bind: IpAddr,
        /// 0 picks a free port.
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// serverInfo.name
        #[arg(long, default_value = "toolgate-test-upstream")]
        name: String,
        /// Refuse requests whose bearer token's `aud` is not this.
        #[arg(long)]
        require_audience: Option<String>,
        /// Refuse requests without this header, as `NAME:VALUE`.
        #[arg(long, value_parser = parse_header)]
        require_header: Option<(String, String)>,
    },
}

fn parse_header(s: &str) -> Result<(String, String), String> {
    let (name, value) = s.split_once(':').ok_or("expected NAME:VALUE")?;
    Ok((name.trim().to_owned(), value.trim().to_owned()))
}

#[tokio::main]
async fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TOOLGATE_TEST_UPSTREAM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let result = match Cli::parse().mode {
        Mode::Stdio { name } => serve_stdio(name).await.map(|()| ExitCode::SUCCESS),
        Mode::Http {
            bind,
            port,
            name,
            require_audience,
            require_header,
        } => {
            let options = UpstreamOptions {
                server_name: name,
                require_audience,
                require_static_header: require_header,
            };
            serve_http_until_stopped(SocketAddr::new(bind, port), options).await
        }
    };
    result.unwrap_or_else(|e| {
        eprintln!("toolgate-test-upstream: {e}");
        ExitCode::FAILURE
    })
}

async fn serve_http_until_stopped(
    addr: SocketAddr,
    options: UpstreamOptions,
) -> Result<ExitCode, toolgate_test_upstream::UpstreamError> {
    let upstream = try_serve_http(addr, options).await?;
    println!("{}", upstream.url());
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(toolgate_test_upstream::UpstreamError::Runtime)?;
    tokio::select! {
        ending = upstream.ended() => {
            if ending == Ending::Crashed {
                return Ok(ExitCode::from(CRASH_EXIT_CODE as u8));
            }
        }
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    Ok(ExitCode::SUCCESS)
}

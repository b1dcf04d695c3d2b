//! The command line. `main` only dispatches; each subcommand is a file in `commands/`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands;

/// Exit codes, documented in `docs/cli.md`.
pub mod exit {
    pub const OK: u8 = 0;
    pub const FAILURE: u8 = 1;
    pub const CONFIG: u8 = 2;
}

#[derive(Debug, Parser)]
#[command(
    name = "toolgate",
    version,
    about = "Entra ID sign-in and Cedar policies in front of MCP tools"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run everything offline: the Entra emulator and the gate, with demo settings.
    Dev(commands::dev::DevArgs),
    /// Run the gate from a configuration file.
    Serve(commands::serve::ServeArgs),
    /// Run the offline Entra ID emulator.
    Emulator(commands::emulator::EmulatorArgs),
    /// Get an access token from the emulator (or Entra) for a user, through the real flow.
    Token(commands::token::TokenArgs),
    /// Sign in as a demo user and list the MCP tools the policies let them see.
    Tools(commands::tools::ToolsArgs),
    /// Policy authoring: print the generated schema, validate, run test tables.
    Policy(commands::policy::PolicyArgs),
    /// Apply the audit database migrations.
    Migrate(commands::migrate::MigrateArgs),
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { exit::CONFIG } else { exit::OK });
        }
    };
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("toolgate: cannot start the async runtime: {error}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    let code = runtime.block_on(async move {
        match cli.command {
            Command::Dev(args) => commands::dev::execute(args).await,
            Command::Serve(args) => commands::serve::execute(args).await,
            Command::Emulator(args) => commands::emulator::execute(args).await,
            Command::Token(args) => commands::token::execute(args).await,
            Command::Tools(args) => commands::tools::execute(args).await,
            Command::Policy(args) => commands::policy::execute(args).await,
            Command::Migrate(args) => commands::migrate::execute(args).await,
        }
    });
    ExitCode::from(code)
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TOOLGATE_LOG")
        // rmcp logs every session at info; its warnings and errors are what operators need.
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,rmcp=warn"));
    // Log lines to stderr, and a slot for the OpenTelemetry layer `[telemetry.traces]` fills.
    toolgate_telemetry::trace::init_subscriber(filter);
}

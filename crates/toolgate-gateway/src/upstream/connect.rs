//! Opening a client session to an upstream: a stdio child (in its own process group, so that
//! `npx`-launched servers die with it), a streamable-HTTP endpoint (with the upstream's
//! credentials), or an in-process handler over an in-memory pipe (toolgate's catalog
//! connection to it). Bounded by the upstream's connect timeout: rmcp waits forever for an
//! `initialize` answer otherwise.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::Arc;
use tracing::Instrument as _;

use process_wrap::tokio::{CommandWrap, ProcessGroup};
use rmcp::ServiceExt as _;
use rmcp::service::RunningService;
use rmcp::transport::common::client_side_sse::ExponentialBackoff;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{RoleClient, ServiceError};
use secrecy::ExposeSecret;
use tokio::io::AsyncBufReadExt as _;

use super::client::UpstreamClient;
use super::local::LocalHandlers;
use super::trace_header::TraceHeaderClient;
use crate::config::{INHERITED_ENV, Transport, UpstreamSettings};
use crate::credentials::UpstreamHeader;

/// A client session to an upstream.
pub type UpstreamService = RunningService<RoleClient, UpstreamClient>;

/// Why a connection could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("the upstream did not complete `initialize` within {0:?}")]
    Timeout(std::time::Duration),
    #[error("cannot start the upstream's command: {0}")]
    Spawn(std::io::Error),
    #[error("the upstream refused or failed `initialize`: {0}")]
    Initialize(String),
    #[error("no in-process handler is registered for this upstream")]
    NoHandler,
}

/// Opens a session to `settings`' upstream as `client`, sending `header` (HTTP only).
pub async fn connect(
    settings: &UpstreamSettings,
    client: UpstreamClient,
    header: Option<&UpstreamHeader>,
    locals: &LocalHandlers,
) -> Result<UpstreamService, ConnectError> {
    let name = settings.name.as_str();
    let opening = async {
        match &settings.transport {
            Transport::Stdio {
                command,
                args,
                env,
                cwd,
            } => {
                let mut child = tokio::process::Command::new(command);
                child.args(args).env_clear();
                for variable in INHERITED_ENV {
                    if let Ok(value) = std::env::var(variable) {
                        child.env(variable, value);
                    }
                }
                child.envs(env.iter().map(|(k, v)| (k, v)));
                if let Some(cwd) = cwd {
                    child.current_dir(cwd);
                }
                let mut wrapped = CommandWrap::from(child);
                wrapped.wrap(ProcessGroup::leader());
                let (transport, stderr) = TokioChildProcess::builder(wrapped)
                    .stderr(Stdio::piped())
                    .spawn()
                    .map_err(ConnectError::Spawn)?;
                if let Some(stderr) = stderr {
                    let upstream = name.to_owned();
                    tokio::spawn(async move {
                        let mut lines = tokio::io::BufReader::new(stderr).lines();
                        while let Ok(Some(line)) = lines.next_line().await {
                            tracing::debug!(upstream = %upstream, line = %toolgate_core::text::bounded(&line, 500), "upstream stderr");
                        }
                    });
                }
                client
                    .serve(transport)
                    .await
                    .map_err(|e| ConnectError::Initialize(e.to_string()))
            }
            Transport::StreamableHttp { url } => {
                let mut config = StreamableHttpClientTransportConfig::with_uri(url.as_str());
                // rmcp resumes a broken event stream forever by default: a call in flight when the
                // upstream died would never end. A few quick retries, then the call fails.
                let mut retries = ExponentialBackoff::default();
                retries.max_times = Some(3);
                retries.base_duration = std::time::Duration::from_millis(200);
                retries.max_delay = Some(std::time::Duration::from_secs(2));
                config.retry_config = Arc::new(retries);
                if let Some(header) = header {
                    let value = header.value.expose_secret();
                    match value.strip_prefix("Bearer ") {
                        Some(token) if header.name == http::header::AUTHORIZATION => {
                            config = config.auth_header(token.to_owned());
                        }
                        _ => {
                            let value = http::HeaderValue::from_str(value)
                                .map_err(|_| ConnectError::Initialize("invalid credential header".into()))?;
                            config = config.custom_headers(HashMap::from([(header.name.clone(), value)]));
                        }
                    }
                }
                let http = reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .connect_timeout(settings.connect_timeout)
                    .build()
                    .map_err(|e| ConnectError::Initialize(e.to_string()))?;
                let transport = StreamableHttpClientTransport::with_client(TraceHeaderClient(http), config);
                client
                    .serve(transport)
                    .await
                    .map_err(|e| ConnectError::Initialize(e.to_string()))
            }
            Transport::InProcess => {
                let factory = locals.get(name).ok_or(ConnectError::NoHandler)?;
                let (client_end, server_end) = tokio::io::duplex(256 * 1024);
                tokio::spawn(factory.serve_on(server_end));
                client
                    .serve(client_end)
                    .await
                    .map_err(|e| ConnectError::Initialize(e.to_string()))
            }
        }
    };
    // The session outlives the call that opened it: rmcp's service task must not become a child
    // of that call's span (it would keep the call's spans open — and out of any trace export —
    // for as long as the upstream session lives). It starts outside every span.
    tokio::time::timeout(settings.connect_timeout, opening.instrument(tracing::Span::none()))
        .await
        .map_err(|_| ConnectError::Timeout(settings.connect_timeout))?
}

/// Whether an error means the connection is gone (reconnect) rather than the upstream saying no.
pub fn is_connection_lost(error: &ServiceError) -> bool {
    matches!(error, ServiceError::TransportClosed | ServiceError::TransportSend(_))
}

/// Names a handler factory per in-process upstream.
pub type Locals = Arc<LocalHandlers>;

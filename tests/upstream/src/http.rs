//! The reference upstream over streamable HTTP, on its own runtime so that `crash` can abort it
//! whole: every connection, session and task ends at once, as when a process dies.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use http::{HeaderName, HeaderValue, StatusCode};
use poem::endpoint::TowerCompatExt as _;
use poem::listener::{Acceptor as _, Listener as _, TcpListener};
use poem::{Endpoint as _, EndpointExt as _, IntoResponse as _, Response, Route, Server};
use rmcp::transport::StreamableHttpService;
use rmcp::transport::streamable_http_server::StreamableHttpServerConfig;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use subtle::ConstantTimeEq as _;
use tokio::sync::{oneshot, watch};
use url::Url;

use crate::claims;
use crate::error::UpstreamError;
use crate::options::UpstreamOptions;
use crate::server::{AddToolError, Shared, Upstream};

/// How long stopping waits for the upstream's runtime to wind down.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(200);

/// How a [`RunningUpstream`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Dropped by its owner.
    Stopped,
    /// Aborted by the `crash` tool or [`RunningUpstream::crash`].
    Crashed,
}

enum Control {
    Stop,
    Crash,
}

/// A reference upstream serving MCP at `http://ADDR/mcp`; stops (all connections closed) when dropped.
pub struct RunningUpstream {
    addr: SocketAddr,
    url: Url,
    shared: Arc<Shared>,
    control: mpsc::Sender<Control>,
    ended: watch::Receiver<Option<Ending>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for RunningUpstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningUpstream")
            .field("url", &self.url.as_str())
            .finish_non_exhaustive()
    }
}

/// Starts a reference upstream on `addr` (`127.0.0.1:0` picks a port) with `options`.
///
/// # Panics
/// When the address cannot be bound or the runtime cannot start (a test fixture: that ends the test);
/// [`try_serve_http`] returns the error instead.
#[expect(
    clippy::panic,
    reason = "a test fixture that cannot listen ends the test with the reason"
)]
pub async fn serve_http(addr: SocketAddr, options: UpstreamOptions) -> RunningUpstream {
    match try_serve_http(addr, options).await {
        Ok(upstream) => upstream,
        Err(e) => panic!("starting the test upstream: {e}"),
    }
}

/// Starts a reference upstream on `addr` with `options`.
///
/// Errors: [`UpstreamError::InvalidHeader`] for a `require_static_header` that is not a valid header,
/// [`UpstreamError::Bind`], [`UpstreamError::Runtime`].
pub async fn try_serve_http(addr: SocketAddr, options: UpstreamOptions) -> Result<RunningUpstream, UpstreamError> {
    let checks = Arc::new(Checks::new(&options)?);
    let (control, control_rx) = mpsc::channel();
    let crash = control.clone();
    let shared = Shared::new(
        options.server_name,
        Box::new(move || {
            let _ = crash.send(Control::Crash);
        }),
    );
    let (ready, ready_rx) = oneshot::channel();
    let (ended_tx, ended) = watch::channel(None);
    let thread_shared = Arc::clone(&shared);
    let thread = std::thread::Builder::new()
        .name(format!("test-upstream-{addr}"))
        .spawn(move || run(addr, thread_shared, checks, control_rx, ready, ended_tx))
        .map_err(UpstreamError::Runtime)?;
    let addr = ready_rx.await.map_err(|_| UpstreamError::NotStarted)??;
    let url = Url::parse(&format!("http://{addr}/mcp")).map_err(|_| UpstreamError::NotStarted)?;
    tracing::debug!(%url, "test upstream listening");
    Ok(RunningUpstream {
        addr,
        url,
        shared,
        control,
        ended,
        thread: Some(thread),
    })
}

impl RunningUpstream {
    /// The MCP endpoint, `http://127.0.0.1:PORT/mcp`.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `tools/call` requests received so far (all sessions).
    pub fn tool_calls(&self) -> u64 {
        self.shared.tool_calls.load(Ordering::Relaxed)
    }

    /// The trace context each `tools/call` arrived with, in order.
    pub fn received_traces(&self) -> Vec<crate::server::ReceivedTrace> {
        self.shared.traces.lock().clone()
    }

    /// `hang` and `sleep` calls that ended by cancellation so far.
    pub fn cancelled_calls(&self) -> u64 {
        self.shared.cancelled_calls.load(Ordering::Relaxed)
    }

    /// What the `add_tool` tool does: adds tool `name` and notifies every session; returns how many
    /// sessions were notified.
    pub async fn add_tool(&self, name: &str) -> Result<usize, AddToolError> {
        self.shared.add_tool(name)?;
        Ok(self.shared.notify_tools_changed().await)
    }

    /// What the `crash` tool does: aborts the server (connections closed mid-response, port released).
    pub fn crash(&self) {
        (self.shared.crash)();
    }

    /// How the upstream ended, if it has.
    pub fn ending(&self) -> Option<Ending> {
        *self.ended.borrow()
    }

    /// Waits until the upstream has ended (after `crash`).
    pub async fn ended(&self) -> Ending {
        let mut ended = self.ended.clone();
        match ended.wait_for(Option::is_some).await {
            Ok(ending) => ending.unwrap_or(Ending::Stopped),
            Err(_) => Ending::Stopped,
        }
    }
}

impl Drop for RunningUpstream {
    fn drop(&mut self) {
        let _ = self.control.send(Control::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The upstream's thread: its runtime serves until told to stop or crash, then is shut down whole.
fn run(
    addr: SocketAddr,
    shared: Arc<Shared>,
    checks: Arc<Checks>,
    control: mpsc::Receiver<Control>,
    ready: oneshot::Sender<Result<SocketAddr, UpstreamError>>,
    ended: watch::Sender<Option<Ending>>,
) {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("test-upstream")
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = ready.send(Err(UpstreamError::Runtime(e)));
            return;
        }
    };
    runtime.spawn(serve(addr, shared, checks, ready));
    let ending = match control.recv() {
        Ok(Control::Crash) => Ending::Crashed,
        Ok(Control::Stop) | Err(_) => Ending::Stopped,
    };
    runtime.shutdown_timeout(SHUTDOWN_GRACE);
    tracing::debug!(?ending, "test upstream ended");
    let _ = ended.send(Some(ending));
}

async fn serve(
    addr: SocketAddr,
    shared: Arc<Shared>,
    checks: Arc<Checks>,
    ready: oneshot::Sender<Result<SocketAddr, UpstreamError>>,
) {
    let bound = TcpListener::bind(addr).into_acceptor().await.and_then(|acceptor| {
        let local = acceptor
            .local_addr()
            .into_iter()
            .find_map(|a| a.as_socket_addr().copied());
        local
            .map(|local| (acceptor, local))
            .ok_or_else(|| std::io::Error::other("no local address"))
    });
    let acceptor = match bound {
        Ok((acceptor, local)) => {
            let _ = ready.send(Ok(local));
            NoDelay(acceptor)
        }
        Err(source) => {
            let _ = ready.send(Err(UpstreamError::Bind { addr, source }));
            return;
        }
    };
    let mcp = StreamableHttpService::new(
        move || Ok(Upstream::new(Arc::clone(&shared))),
        LocalSessionManager::default().into(),
        StreamableHttpServerConfig::default(),
    );
    let app = Route::new().at(
        "/mcp",
        mcp.compat().around(move |endpoint, request| {
            let checks = Arc::clone(&checks);
            async move {
                if let Some(refusal) = checks.refusal(request.headers()) {
                    return Ok(refusal);
                }
                Ok(endpoint.call(request).await?.into_response())
            }
        }),
    );
    if let Err(e) = Server::new_with_acceptor(acceptor).run(app).await {
        tracing::error!(%e, "test upstream server stopped");
    }
}

/// The credential checks of [`UpstreamOptions`], run before rmcp sees a request.
struct Checks {
    audience: Option<String>,
    header: Option<(HeaderName, HeaderValue)>,
}

impl Checks {
    fn new(options: &UpstreamOptions) -> Result<Self, UpstreamError> {
        let header = match &options.require_static_header {
            None => None,
            Some((name, value)) => Some((
                HeaderName::try_from(name.as_str()).map_err(|e| UpstreamError::InvalidHeader(e.to_string()))?,
                HeaderValue::try_from(value.as_str()).map_err(|e| UpstreamError::InvalidHeader(e.to_string()))?,
            )),
        };
        Ok(Self {
            audience: options.require_audience.clone(),
            header,
        })
    }

    /// `401` with the reason when the request fails a check.
    fn refusal(&self, headers: &http::HeaderMap) -> Option<Response> {
        if let Some((name, expected)) = &self.header {
            let mut values = headers.get_all(name).iter();
            let ok = match (values.next(), values.next()) {
                (Some(value), None) => bool::from(value.as_bytes().ct_eq(expected.as_bytes())),
                _ => false,
            };
            if !ok {
                return Some(unauthorized("Bearer", format!("missing or wrong `{name}` header")));
            }
        }
        if let Some(audience) = &self.audience {
            match claims::request_claims(headers) {
                Ok(claims) if claims::audience_matches(&claims, audience) => {}
                Ok(_) => {
                    return Some(unauthorized(
                        r#"Bearer error="invalid_token""#,
                        format!("the token's aud is not `{audience}`"),
                    ));
                }
                Err(e) => return Some(unauthorized(r#"Bearer error="invalid_token""#, e.to_string())),
            }
        }
        None
    }
}

fn unauthorized(challenge: &'static str, reason: String) -> Response {
    Response::builder()
        .status(StatusCode::UNAUTHORIZED)
        .header(http::header::WWW_AUTHENTICATE, challenge)
        .content_type("text/plain; charset=utf-8")
        .body(reason)
}

/// Accepted connections with `TCP_NODELAY`, as any production MCP server sets it: rmcp answers
/// in small writes (headers, then SSE events), and with Nagle's algorithm against the client's
/// delayed ACK every request would wait ~40 ms — which would make this upstream a useless
/// baseline for the gateway load test.
struct NoDelay(poem::listener::TcpAcceptor);

impl poem::listener::Acceptor for NoDelay {
    type Io = tokio::net::TcpStream;

    fn local_addr(&self) -> Vec<poem::web::LocalAddr> {
        self.0.local_addr()
    }

    async fn accept(
        &mut self,
    ) -> std::io::Result<(
        Self::Io,
        poem::web::LocalAddr,
        poem::web::RemoteAddr,
        poem::http::uri::Scheme,
    )> {
        let (stream, local, remote, scheme) = self.0.accept().await?;
        // Only latency is at stake: a socket refusing the option still serves.
        let _ = stream.set_nodelay(true);
        Ok((stream, local, remote, scheme))
    }
}

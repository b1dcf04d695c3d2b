//! What one TCP connection may hold: a cap on open connections, a deadline for a request's
//! headers, an idle timeout — so slow-header clients (slowloris) cannot pin the server.
//!
//! - [`ConnectionLimits::max_connections`]: connections beyond it wait in the kernel's accept
//!   backlog until one closes.
//! - [`ConnectionLimits::header_read_timeout`]: from a connection's first byte (or from its
//!   accept), a request must arrive (its headers complete) within this time; otherwise the
//!   connection is closed. A connection with a request in flight is not subject to it (the body
//!   and a long-running answer are the handler's business), and the clock restarts when the
//!   next request's first byte arrives.
//! - [`ConnectionLimits::idle_timeout`]: a connection with no traffic either way is closed
//!   (poem's idle timeout; SSE streams send keep-alives more often than this).
//!
//! hyper's own header timeout needs a timer poem does not configure, so the deadline lives in the
//! connection's I/O here, and the server's outermost layer ([`TrackRequests`]) tells it when a
//! request was dispatched and when its response has been sent.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use parking_lot::Mutex;
use poem::http::uri::Scheme;
use poem::listener::{Acceptor, TcpAcceptor};
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

use super::response_guard::hold_until_sent;

/// Limits on connections (`[server]` in configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    /// On shutdown, how long in-flight requests may take to finish before their connections
    /// are closed.
    pub shutdown_grace: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(120),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// What the request layer tells a connection.
#[derive(Debug, Default)]
struct ConnectionState {
    /// Requests whose responses are not yet sent.
    in_flight: AtomicUsize,
    /// Bumped at each dispatched request.
    dispatched: AtomicU64,
}

/// Live connections by peer address (unique per open TCP connection).
#[derive(Debug, Default)]
pub struct Connections {
    by_peer: Mutex<HashMap<SocketAddr, Weak<ConnectionState>>>,
    open: AtomicUsize,
}

impl Connections {
    /// Open connections (tests, metrics).
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    fn state_of(&self, peer: &SocketAddr) -> Option<Arc<ConnectionState>> {
        self.by_peer.lock().get(peer).and_then(Weak::upgrade)
    }
}

/// Accepts TCP connections within [`ConnectionLimits`], with `TCP_NODELAY`: MCP answers are
/// small writes (headers, then SSE events), and with Nagle's algorithm against the client's
/// delayed ACK each request-response waits ~40 ms.
pub struct LimitedAcceptor {
    inner: TcpAcceptor,
    permits: Arc<Semaphore>,
    connections: Arc<Connections>,
    header_read_timeout: Duration,
}

impl LimitedAcceptor {
    pub fn new(inner: TcpAcceptor, limits: &ConnectionLimits, connections: Arc<Connections>) -> Self {
        Self {
            inner,
            permits: Arc::new(Semaphore::new(limits.max_connections.max(1))),
            connections,
            header_read_timeout: limits.header_read_timeout,
        }
    }
}

impl Acceptor for LimitedAcceptor {
    type Io = LimitedStream;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.inner.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| io::Error::other("connection limiter closed"))?;
        let (stream, local, remote, scheme) = self.inner.accept().await?;
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
        let state = Arc::new(ConnectionState::default());
        let peer = remote.as_socket_addr().copied();
        if let Some(peer) = peer {
            self.connections.by_peer.lock().insert(peer, Arc::downgrade(&state));
        }
        self.connections.open.fetch_add(1, Ordering::Relaxed);
        let io = LimitedStream {
            inner: stream,
            state,
            connections: self.connections.clone(),
            peer,
            header_read_timeout: self.header_read_timeout,
            deadline: Some((Box::pin(tokio::time::sleep(self.header_read_timeout)), 0)),
            _permit: permit,
        };
        Ok((io, local, remote, scheme))
    }
}

/// A connection's I/O, enforcing the header deadline.
pub struct LimitedStream {
    inner: tokio::net::TcpStream,
    state: Arc<ConnectionState>,
    connections: Arc<Connections>,
    peer: Option<SocketAddr>,
    header_read_timeout: Duration,
    /// Armed while waiting for a request: the timer, and the dispatch count when armed.
    deadline: Option<(Pin<Box<Sleep>>, u64)>,
    _permit: OwnedSemaphorePermit,
}

impl LimitedStream {
    /// Disarms the deadline once a request was dispatched; fails once it has passed.
    fn check_deadline(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        let Some((sleep, armed_at)) = &mut self.deadline else {
            return Ok(());
        };
        if self.state.dispatched.load(Ordering::Acquire) != *armed_at {
            self.deadline = None;
            return Ok(());
        }
        if sleep.as_mut().poll(cx).is_ready() {
            tracing::info!(peer = ?self.peer, "closing a connection that sent no complete request in time");
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "request headers not received in time",
            ));
        }
        Ok(())
    }
}

impl Drop for LimitedStream {
    fn drop(&mut self) {
        self.connections.open.fetch_sub(1, Ordering::Relaxed);
        if let Some(peer) = &self.peer {
            let mut by_peer = self.connections.by_peer.lock();
            if by_peer
                .get(peer)
                .is_some_and(|w| w.ptr_eq(&Arc::downgrade(&self.state)))
            {
                by_peer.remove(peer);
            }
        }
    }
}

impl AsyncRead for LimitedStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check_deadline(cx)?;
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &result {
            let received = buf.filled().len() > before;
            let idle = this.state.in_flight.load(Ordering::Acquire) == 0;
            if received && idle && this.deadline.is_none() {
                let dispatched = this.state.dispatched.load(Ordering::Acquire);
                let mut sleep = Box::pin(tokio::time::sleep_until(Instant::now() + this.header_read_timeout));
                // Register the timer with this task so it wakes us even if the peer goes quiet.
                let _ = sleep.as_mut().poll(cx);
                this.deadline = Some((sleep, dispatched));
            }
        }
        result
    }
}

impl AsyncWrite for LimitedStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// The outermost layer: tells the request's connection that a request was dispatched, and that
/// its response has been sent.
#[derive(Debug, Clone)]
pub struct TrackRequests(pub Arc<Connections>);

impl<E: Endpoint> Middleware<E> for TrackRequests {
    type Output = TrackRequestsEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        TrackRequestsEndpoint {
            connections: self.0.clone(),
            inner: ep,
        }
    }
}

pub struct TrackRequestsEndpoint<E> {
    connections: Arc<Connections>,
    inner: E,
}

/// Marks one request in flight on its connection until dropped.
struct InFlightOnConnection(Arc<ConnectionState>);

impl Drop for InFlightOnConnection {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

impl<E: Endpoint> Endpoint for TrackRequestsEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let state = req
            .remote_addr()
            .as_socket_addr()
            .and_then(|peer| self.connections.state_of(peer));
        let Some(state) = state else {
            return Ok(self.inner.call(req).await?.into_response());
        };
        state.in_flight.fetch_add(1, Ordering::AcqRel);
        state.dispatched.fetch_add(1, Ordering::AcqRel);
        let guard = InFlightOnConnection(state);
        let response = match self.inner.call(req).await {
            Ok(output) => output.into_response(),
            Err(error) => error.into_response(),
        };
        Ok(hold_until_sent(response, guard))
    }
}

//! Binding and serving, with the bound address read back (tests bind `127.0.0.1:0`) and a
//! graceful shutdown handle.

use std::net::SocketAddr;

use std::sync::Arc;

use poem::listener::TcpAcceptor;
use poem::{EndpointExt, IntoEndpoint, Server};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::edge::connections::{ConnectionLimits, Connections, LimitedAcceptor, TrackRequests};

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
}

/// A server running in the background; stops when dropped or on [`RunningServer::shutdown`].
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    connections: Arc<Connections>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl RunningServer {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Open connections (tests, metrics).
    pub fn open_connections(&self) -> usize {
        self.connections.open()
    }

    /// Stops accepting, lets in-flight requests finish (up to the limits' `shutdown_grace`),
    /// then returns.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Waits until the server stops by itself (it does not, unless it fails).
    pub async fn wait(mut self) -> std::io::Result<()> {
        match self.task.take() {
            Some(task) => task.await.unwrap_or(Ok(())),
            None => Ok(()),
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Binds `addr` and serves `app` in a background task.
pub async fn serve<E>(app: E, addr: SocketAddr) -> Result<RunningServer, ServeError>
where
    E: IntoEndpoint,
    E::Endpoint: 'static,
{
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    serve_on(app, listener)
}

/// Serves `app` on an already bound listener (so a caller can learn the port before building
/// the app, e.g. to put it in the public URL), with default [`ConnectionLimits`].
pub fn serve_on<E>(app: E, listener: tokio::net::TcpListener) -> Result<RunningServer, ServeError>
where
    E: IntoEndpoint,
    E::Endpoint: 'static,
{
    serve_with_limits(app, listener, ConnectionLimits::default())
}

/// Serves `app` on `listener` within `limits`.
pub fn serve_with_limits<E>(
    app: E,
    listener: tokio::net::TcpListener,
    limits: ConnectionLimits,
) -> Result<RunningServer, ServeError>
where
    E: IntoEndpoint,
    E::Endpoint: 'static,
{
    let unknown = std::net::SocketAddr::from(([0, 0, 0, 0], 0));
    let bound = listener
        .local_addr()
        .map_err(|source| ServeError::Bind { addr: unknown, source })?;
    let addr = bound;
    let tcp = TcpAcceptor::from_tokio(listener).map_err(|source| ServeError::Bind { addr, source })?;
    let connections = Arc::new(Connections::default());
    let acceptor = LimitedAcceptor::new(tcp, &limits, connections.clone());
    let (stop, stopped) = oneshot::channel::<()>();
    let endpoint = app.into_endpoint().with(TrackRequests(connections.clone()));
    let task = tokio::spawn(async move {
        Server::new_with_acceptor(acceptor)
            .idle_timeout(limits.idle_timeout)
            .run_with_graceful_shutdown(
                endpoint,
                async move {
                    let _ = stopped.await;
                },
                Some(limits.shutdown_grace),
            )
            .await
    });
    Ok(RunningServer {
        addr: bound,
        connections,
        stop: Some(stop),
        task: Some(task),
    })
}

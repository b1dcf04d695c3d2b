//! Binding and serving, with the bound address read back (tests bind `127.0.0.1:0`) and a
//! graceful shutdown handle.

use std::net::SocketAddr;
use std::time::Duration;

use poem::http::uri::Scheme;
use poem::listener::{Acceptor, TcpAcceptor};
use poem::web::{LocalAddr, RemoteAddr};
use poem::{IntoEndpoint, Server};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
}

/// A server running in the background; stops when dropped or on [`RunningServer::shutdown`].
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
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

    /// Stops accepting, lets in-flight requests finish (up to 5 s), then returns.
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
/// the app, e.g. to put it in the public URL).
pub fn serve_on<E>(app: E, listener: tokio::net::TcpListener) -> Result<RunningServer, ServeError>
where
    E: IntoEndpoint,
    E::Endpoint: 'static,
{
    let unknown = std::net::SocketAddr::from(([0, 0, 0, 0], 0));
    let bound = listener
        .local_addr()
        .map_err(|source| ServeError::Bind { addr: unknown, source })?;
    let addr = bound;
    let acceptor = TcpAcceptor::from_tokio(listener)
        .map(NoDelay)
        .map_err(|source| ServeError::Bind { addr, source })?;
    let (stop, stopped) = oneshot::channel::<()>();
    let endpoint = app.into_endpoint();
    let task = tokio::spawn(async move {
        Server::new_with_acceptor(acceptor)
            .run_with_graceful_shutdown(
                endpoint,
                async move {
                    let _ = stopped.await;
                },
                Some(Duration::from_secs(5)),
            )
            .await
    });
    Ok(RunningServer {
        addr: bound,
        stop: Some(stop),
        task: Some(task),
    })
}

/// Accepts with `TCP_NODELAY`: MCP answers are small writes (headers, then SSE events), and with
/// Nagle's algorithm against the client's delayed ACK each request-response waits ~40 ms.
struct NoDelay(TcpAcceptor);

impl Acceptor for NoDelay {
    type Io = tokio::net::TcpStream;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.0.local_addr()
    }

    async fn accept(&mut self) -> std::io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        let (stream, local, remote, scheme) = self.0.accept().await?;
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
        Ok((stream, local, remote, scheme))
    }
}

//! Binding and serving, with the bound address read back (tests bind `127.0.0.1:0`) and a
//! graceful shutdown handle.

use std::net::SocketAddr;
use std::time::Duration;

use poem::listener::TcpAcceptor;
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
    let acceptor = TcpAcceptor::from_tokio(listener).map_err(|source| ServeError::Bind { addr, source })?;
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

//! A reverse proxy that adds `Authorization: Bearer <token>` to every request and changes nothing
//! else: method, path, query, body and headers (Host and Origin included) go to the target as they
//! came, and the response (status, headers, body) comes back as the target sends it, streamed — an
//! SSE stream is passed on event by event, never buffered.
//!
//! For clients that cannot send a token (the conformance suite, the Inspector in some modes) in
//! front of an upstream or a gateway that requires one.

use std::net::SocketAddr;
use std::time::Duration;

use futures::TryStreamExt as _;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use poem::listener::{Acceptor as _, Listener as _, TcpListener};
use poem::{Body, Endpoint, Request, Response, Server};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use url::Url;

/// How long connecting to the target may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long open connections get when the proxy stops.
const STOP_GRACE: Duration = Duration::from_millis(100);

/// Why the proxy could not start.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("binding {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("the target must be an http(s) URL with a host, got `{0}`")]
    Target(String),
    #[error("the token is not a valid header value")]
    Token,
    #[error("building the HTTP client: {0}")]
    Client(String),
}

/// A running proxy; stops (open connections closed) when dropped.
#[derive(Debug)]
pub struct RunningProxy {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningProxy {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR` + `path` (e.g. `/mcp`).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops the proxy and waits until it no longer accepts connections (open ones get 100 ms).
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningProxy {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// Starts the proxy on `listen` (`127.0.0.1:0` picks a port), forwarding to `target`'s scheme, host and
/// port (its path is ignored: each request keeps its own path and query), adding `token` as a bearer.
///
/// # Panics
/// When the proxy cannot start (a test fixture); [`try_inject_token`] returns the error instead.
#[expect(
    clippy::panic,
    reason = "a test fixture that cannot listen ends the test with the reason"
)]
pub async fn inject_token(listen: SocketAddr, target: Url, token: String) -> RunningProxy {
    match try_inject_token(listen, target, token).await {
        Ok(proxy) => proxy,
        Err(e) => panic!("starting the token-injecting proxy: {e}"),
    }
}

/// [`inject_token`], returning errors: [`ProxyError::Target`] for a target that is not http(s) with a
/// host, [`ProxyError::Token`] for a token that cannot be a header value, [`ProxyError::Bind`].
pub async fn try_inject_token(listen: SocketAddr, target: Url, token: String) -> Result<RunningProxy, ProxyError> {
    if !matches!(target.scheme(), "http" | "https") || target.host_str().is_none() {
        return Err(ProxyError::Target(target.to_string()));
    }
    let mut authorization = HeaderValue::try_from(format!("Bearer {token}")).map_err(|_| ProxyError::Token)?;
    authorization.set_sensitive(true);
    let client = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .build()
        .map_err(|e| ProxyError::Client(e.to_string()))?;
    let acceptor = TcpListener::bind(listen)
        .into_acceptor()
        .await
        .map_err(|source| ProxyError::Bind { addr: listen, source })?;
    let addr = acceptor
        .local_addr()
        .into_iter()
        .find_map(|a| a.as_socket_addr().copied())
        .ok_or_else(|| ProxyError::Bind {
            addr: listen,
            source: std::io::Error::other("no local address"),
        })?;
    let forward = Forward {
        client,
        target,
        authorization,
    };
    let (shutdown, stop) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let stop = async {
            let _ = stop.await;
        };
        if let Err(e) = Server::new_with_acceptor(acceptor)
            .run_with_graceful_shutdown(forward, stop, Some(STOP_GRACE))
            .await
        {
            tracing::error!(%e, "token-injecting proxy stopped");
        }
    });
    Ok(RunningProxy {
        addr,
        shutdown: Some(shutdown),
        task: Some(task),
    })
}

struct Forward {
    client: reqwest::Client,
    target: Url,
    authorization: HeaderValue,
}

impl Endpoint for Forward {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        let mut url = self.target.clone();
        url.set_path(request.uri().path());
        url.set_query(request.uri().query());
        let has_body = request.headers().contains_key(header::CONTENT_LENGTH)
            || request.headers().contains_key(header::TRANSFER_ENCODING);
        let mut headers = end_to_end(request.headers());
        headers.insert(header::AUTHORIZATION, self.authorization.clone());
        let mut outbound = self.client.request(request.method().clone(), url).headers(headers);
        if has_body {
            let body = request.into_body().into_bytes_stream();
            outbound = outbound.body(reqwest::Body::wrap_stream(body));
        }
        let response = match outbound.send().await {
            Ok(response) => response,
            Err(e) => {
                tracing::warn!(error = %e, "token-injecting proxy: target unreachable");
                return Ok(Response::builder()
                    .status(StatusCode::BAD_GATEWAY)
                    .body("target unreachable"));
            }
        };
        let mut builder = Response::builder().status(response.status());
        for (name, value) in &end_to_end(response.headers()) {
            builder = builder.header(name, value);
        }
        Ok(builder.body(Body::from_bytes_stream(
            response.bytes_stream().map_err(std::io::Error::other),
        )))
    }
}

/// The headers without the hop-by-hop ones (RFC 9110 §7.6.1: `Connection` and the fields it names,
/// `Keep-Alive`, `Proxy-Connection`, `TE`, `Trailer`, `Transfer-Encoding`, `Upgrade`).
fn end_to_end(headers: &HeaderMap) -> HeaderMap {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::try_from(name.trim()).ok())
        .collect();
    let mut kept = headers.clone();
    for name in [
        header::CONNECTION,
        HeaderName::from_static("keep-alive"),
        HeaderName::from_static("proxy-connection"),
        header::TE,
        header::TRAILER,
        header::TRANSFER_ENCODING,
        header::UPGRADE,
    ]
    .into_iter()
    .chain(named)
    {
        kept.remove(name);
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_are_dropped_and_the_rest_kept() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "evil.example.com".parse().unwrap());
        h.insert(header::ORIGIN, "http://evil.example.com".parse().unwrap());
        h.insert(header::CONNECTION, "keep-alive, x-hop".parse().unwrap());
        h.insert("x-hop", "1".parse().unwrap());
        h.insert("keep-alive", "timeout=5".parse().unwrap());
        h.insert(header::TRANSFER_ENCODING, "chunked".parse().unwrap());
        h.insert("mcp-session-id", "s1".parse().unwrap());
        let kept = end_to_end(&h);
        let names: Vec<_> = kept.keys().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), 3, "{names:?}");
        assert_eq!(kept[header::HOST], "evil.example.com");
        assert_eq!(kept[header::ORIGIN], "http://evil.example.com");
        assert_eq!(kept["mcp-session-id"], "s1");
    }
}

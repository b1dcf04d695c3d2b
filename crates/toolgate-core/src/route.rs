//! Framework-neutral HTTP routes a provider owns (its OAuth endpoints), mounted by the server.
//!
//! Expressed with `http` types so providers do not depend on the web framework; bodies are
//! buffered `Bytes` because every provider endpoint takes small forms or JSON.

use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use http::Method;

pub type HttpRequest = http::Request<Bytes>;
pub type HttpResponse = http::Response<Bytes>;

/// The TCP peer of a request, as an extension of the [`HttpRequest`] a provider route receives
/// (the server sets it; absent when the embedder does not know it). A provider limiting work per
/// client address reads it here; `X-Forwarded-For` is the provider's to trust or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PeerAddr(pub std::net::SocketAddr);

/// Handles one route. Must never panic: errors are answered as HTTP responses.
pub trait RouteHandler: Send + Sync + 'static {
    fn handle(&self, request: HttpRequest) -> BoxFuture<'static, HttpResponse>;
}

impl<F, Fut> RouteHandler for F
where
    F: Fn(HttpRequest) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = HttpResponse> + Send + 'static,
{
    fn handle(&self, request: HttpRequest) -> BoxFuture<'static, HttpResponse> {
        Box::pin(self(request))
    }
}

/// A route contributed by a provider: method, absolute path on the server, handler.
#[derive(Clone)]
pub struct ProviderRoute {
    pub method: Method,
    pub path: String,
    pub handler: Arc<dyn RouteHandler>,
}

impl std::fmt::Debug for ProviderRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

//! Mounts a provider's framework-neutral routes into poem.

use std::sync::Arc;

use poem::http::StatusCode;
use poem::{Endpoint, Request, Response, Result};
use toolgate_core::{PeerAddr, ProviderRoute, RouteHandler};

use crate::request_id::{REQUEST_ID_HEADER, RequestId};

/// Provider endpoints take small forms and JSON; larger bodies are refused.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Every route a provider contributed for one path (e.g. `GET` and `POST /register`).
pub struct ProviderEndpoint {
    routes: Vec<ProviderRoute>,
}

impl ProviderEndpoint {
    pub fn new(routes: Vec<ProviderRoute>) -> Self {
        Self { routes }
    }

    fn handler(&self, method: &http::Method) -> Option<Arc<dyn RouteHandler>> {
        self.routes
            .iter()
            .find(|route| route.method == method)
            .map(|route| route.handler.clone())
    }

    fn allow(&self) -> String {
        self.routes
            .iter()
            .map(|route| route.method.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl Endpoint for ProviderEndpoint {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Self::Output> {
        let Some(handler) = self.handler(req.method()) else {
            return Ok(Response::builder()
                .status(StatusCode::METHOD_NOT_ALLOWED)
                .header(http::header::ALLOW, self.allow())
                .finish());
        };
        let body = req.take_body().into_bytes_limit(MAX_BODY_BYTES).await;
        let Ok(body) = body else {
            return Ok(Response::builder().status(StatusCode::PAYLOAD_TOO_LARGE).finish());
        };
        let mut builder = http::Request::builder()
            .method(req.method().clone())
            .uri(req.uri().clone());
        for (name, value) in req.headers() {
            if name != REQUEST_ID_HEADER {
                builder = builder.header(name, value);
            }
        }
        // The request id the server assigned (the caller's only if it was sane), for the
        // provider's audit events.
        if let Some(RequestId(id)) = req.extensions().get::<RequestId>() {
            builder = builder.header(REQUEST_ID_HEADER, id.as_str());
        }
        // The TCP peer, for the provider's per-address limits.
        if let Some(peer) = req.remote_addr().as_socket_addr() {
            builder = builder.extension(PeerAddr(*peer));
        }
        let Ok(request) = builder.body(body) else {
            return Ok(Response::builder().status(StatusCode::BAD_REQUEST).finish());
        };
        let response = handler.handle(request).await;
        let (parts, body) = response.into_parts();
        let mut out = Response::builder().status(parts.status).body(body);
        out.headers_mut().extend(parts.headers);
        Ok(out)
    }
}

//! Mounts a provider's framework-neutral routes into poem.

use std::sync::Arc;

use poem::http::StatusCode;
use poem::{Endpoint, Request, Response, Result};
use toolgate_core::{ProviderRoute, RouteHandler};

/// Provider endpoints take small forms and JSON; larger bodies are refused.
const MAX_BODY_BYTES: usize = 64 * 1024;

pub struct ProviderEndpoint {
    route: ProviderRoute,
}

impl ProviderEndpoint {
    pub fn new(route: ProviderRoute) -> Self {
        Self { route }
    }

    fn handler(&self) -> Arc<dyn RouteHandler> {
        self.route.handler.clone()
    }
}

impl Endpoint for ProviderEndpoint {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Self::Output> {
        if req.method() != self.route.method {
            return Ok(Response::builder().status(StatusCode::METHOD_NOT_ALLOWED).finish());
        }
        let body = req.take_body().into_bytes_limit(MAX_BODY_BYTES).await;
        let Ok(body) = body else {
            return Ok(Response::builder().status(StatusCode::PAYLOAD_TOO_LARGE).finish());
        };
        let mut builder = http::Request::builder()
            .method(req.method().clone())
            .uri(req.uri().clone());
        for (name, value) in req.headers() {
            builder = builder.header(name, value);
        }
        let Ok(request) = builder.body(body) else {
            return Ok(Response::builder().status(StatusCode::BAD_REQUEST).finish());
        };
        let response = self.handler().handle(request).await;
        let (parts, body) = response.into_parts();
        let mut out = Response::builder().status(parts.status).body(body);
        out.headers_mut().extend(parts.headers);
        Ok(out)
    }
}

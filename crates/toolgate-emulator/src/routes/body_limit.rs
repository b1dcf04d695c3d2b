//! Every request body is bounded before any handler parses it: the emulator's forms
//! (`/authorize` POST, `/token`) are a few KiB, so anything past [`MAX_BODY_BYTES`] is refused
//! with 413 in Entra's error shape. A declared `Content-Length` over the limit is refused
//! without reading a byte; a body without one (chunked) is read up to the limit and no further.

use poem::error::ReadBodyError;
use poem::{Body, Endpoint, IntoResponse, Middleware, Request, Response, Result};

use crate::errors::AadError;

/// The largest body any emulator route reads: 64 KiB, the limit toolgate's own OAuth endpoints
/// use.
pub(crate) const MAX_BODY_BYTES: usize = 64 * 1024;

/// Applies [`MAX_BODY_BYTES`] to every route.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct BodyLimit;

impl<E: Endpoint> Middleware<E> for BodyLimit {
    type Output = BodyLimitEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        BodyLimitEndpoint(ep)
    }
}

pub(crate) struct BodyLimitEndpoint<E>(E);

impl<E: Endpoint> Endpoint for BodyLimitEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Self::Output> {
        let declared = req
            .headers()
            .get(poem::http::header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok());
        if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
            return Ok(too_large());
        }
        let body = match req.take_body().into_bytes_limit(MAX_BODY_BYTES).await {
            Ok(body) => body,
            Err(ReadBodyError::PayloadTooLarge) => return Ok(too_large()),
            // A broken body (a malformed chunk, a connection cut mid-body) is the client's fault.
            Err(_) => return Ok(AadError::unreadable_body().to_json_response()),
        };
        req.set_body(Body::from_bytes(body));
        self.0.call(req).await.map(IntoResponse::into_response)
    }
}

fn too_large() -> Response {
    AadError::request_too_large(MAX_BODY_BYTES).to_json_response()
}

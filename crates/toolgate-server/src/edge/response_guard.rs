//! Keeping something alive until a response has been sent in full: a streamed (SSE) MCP answer
//! is "in flight" until its last byte, not until the handler returns.

use futures::StreamExt as _;
use poem::{Body, Response};

/// `response` whose body keeps `guard` until it is sent or dropped.
pub fn hold_until_sent<G: Send + Sync + 'static>(response: Response, guard: G) -> Response {
    let (parts, body) = response.into_parts();
    let stream = body.into_bytes_stream().map(move |chunk| {
        let _held = &guard;
        chunk
    });
    Response::from_parts(parts, Body::from_bytes_stream(stream))
}

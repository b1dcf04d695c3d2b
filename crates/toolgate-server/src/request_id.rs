//! A request id on every request and response, and a tracing span carrying it (and, once known,
//! the principal) so every log line of a request can be correlated with its audit row.

use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};
use tracing::Instrument as _;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The id of the current request, in request extensions (defined in core: every layer uses it).
pub use toolgate_core::RequestId;

#[derive(Debug, Clone, Copy, Default)]
pub struct RequestIdLayer;

impl<E: Endpoint> Middleware<E> for RequestIdLayer {
    type Output = RequestIdEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        RequestIdEndpoint(ep)
    }
}

pub struct RequestIdEndpoint<E>(E);

/// Accept a caller's id only if it is short and plain, so logs cannot be forged through it.
fn sane(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl<E: Endpoint> Endpoint for RequestIdEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Self::Output> {
        let id = req
            .headers()
            .get(REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .filter(|v| sane(v))
            .map(str::to_owned)
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        req.extensions_mut().insert(RequestId(id.clone()));
        let span = tracing::info_span!(
            "request",
            request_id = %id,
            method = %req.method(),
            path = %req.uri().path(),
            principal = tracing::field::Empty,
        );
        // The caller's `traceparent` makes this span part of its trace (W3C Trace Context);
        // the gate, running in rmcp's task, finds the span in the request's extensions.
        let remote_parent = toolgate_telemetry::trace::adopt_header_parent(&span, req.headers());
        req.extensions_mut().insert(toolgate_telemetry::trace::RequestSpan {
            span: span.clone(),
            remote_parent,
        });
        async move {
            let mut response = match self.0.call(req).await {
                Ok(output) => output.into_response(),
                Err(error) => error.into_response(),
            };
            if let Ok(value) = id.parse() {
                response.headers_mut().insert(REQUEST_ID_HEADER, value);
            }
            tracing::debug!(status = response.status().as_u16(), "request done");
            Ok(response)
        }
        .instrument(span)
        .await
    }
}

//! A deliberate body limit for every operation, applied before authentication, the admin check
//! and JSON parsing: a declared `Content-Length` over the limit is refused without reading a
//! byte, a body without one (chunked) is read up to the limit and no further. Refusals are
//! 413 with the API's error shape.

use poem::error::ReadBodyError;
use poem::http::{StatusCode, header};
use poem::web::Json;
use poem::{Body, Endpoint, IntoResponse, Middleware, Request, Response, Result};

/// `POST /tools/{name}`: the tool's JSON arguments.
pub const TOOL_CALL_MAX_BODY_BYTES: usize = 1024 * 1024;
/// `POST /policy/explain`: a principal, a tool name and arguments.
pub const EXPLAIN_MAX_BODY_BYTES: usize = 64 * 1024;
/// Every other operation is a `GET` and takes no body.
pub const NO_BODY: usize = 0;

/// The limit of the operation at `path` (relative to `/api/v1`).
pub fn max_body_bytes(path: &str) -> usize {
    match path {
        "/policy/explain" => EXPLAIN_MAX_BODY_BYTES,
        p if p.starts_with("/tools/") => TOOL_CALL_MAX_BODY_BYTES,
        _ => NO_BODY,
    }
}

/// Applies [`max_body_bytes`] to the API's routes.
#[derive(Debug, Clone, Copy, Default)]
pub struct BodyLimit;

impl<E: Endpoint> Middleware<E> for BodyLimit {
    type Output = BodyLimitEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        BodyLimitEndpoint(ep)
    }
}

pub struct BodyLimitEndpoint<E>(E);

impl<E: Endpoint> Endpoint for BodyLimitEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Self::Output> {
        let limit = max_body_bytes(req.uri().path());
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok());
        if declared.is_some_and(|length| length > limit as u64) {
            return Ok(too_large(limit));
        }
        let body = match req.take_body().into_bytes_limit(limit).await {
            Ok(body) => body,
            Err(ReadBodyError::PayloadTooLarge) => return Ok(too_large(limit)),
            // A malformed chunk or a connection cut mid-body: the client's fault.
            Err(_) => {
                return Ok(refusal(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "the request body could not be read".into(),
                ));
            }
        };
        req.set_body(Body::from_bytes(body));
        self.0.call(req).await.map(IntoResponse::into_response)
    }
}

fn too_large(limit: usize) -> Response {
    let message = if limit == NO_BODY {
        "this operation takes no request body".to_owned()
    } else {
        format!("the request body is larger than {limit} bytes")
    };
    refusal(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
}

/// The API's error shape (`{"error", "message"}`, as every refusal of the API).
fn refusal(status: StatusCode, error: &str, message: String) -> Response {
    Json(serde_json::json!({ "error": error, "message": message }))
        .with_status(status)
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_operation_has_its_limit() {
        assert_eq!(max_body_bytes("/tools/create_task"), TOOL_CALL_MAX_BODY_BYTES);
        assert_eq!(max_body_bytes("/policy/explain"), EXPLAIN_MAX_BODY_BYTES);
        for path in ["/whoami", "/tools", "/audit", "/health", "/ready", "/nope"] {
            assert_eq!(max_body_bytes(path), NO_BODY, "{path}");
        }
    }
}

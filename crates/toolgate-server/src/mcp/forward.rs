//! Forwarding an MCP request to the replica that holds its session
//! ([`super::shared_sessions`]), streaming the body there and the answer (JSON or an SSE stream)
//! back.
//!
//! The request goes as it came: method, path, query, `Host`, `Origin`, `Authorization`, the MCP
//! headers. The owner authenticates it again and runs the whole MCP edge (origin, binding,
//! bounds, audit). Hop-by-hop headers (RFC 9110 §7.6.1) are not forwarded. The
//! [`FORWARDED_HEADER`] marks the hop so the owner never forwards again.

use poem::http::{HeaderMap, HeaderName, HeaderValue, header};
use poem::{Body, Request, Response};

use super::shared_sessions::{ReplicaUrl, SharedSessions};

/// Set on forwarded requests: the receiving replica serves the request itself (taking the
/// session over if it must), so a request is forwarded at most once.
pub const FORWARDED_HEADER: &str = "toolgate-forwarded-by";

/// Connection-level headers, meaningful for one hop only (RFC 9110 §7.6.1).
const HOP_BY_HOP: [HeaderName; 7] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
];

fn end_to_end(headers: &HeaderMap) -> impl Iterator<Item = (&HeaderName, &HeaderValue)> {
    headers
        .iter()
        .filter(|(name, _)| !HOP_BY_HOP.contains(name) && *name != header::UPGRADE && *name != header::CONTENT_LENGTH)
}

/// Sends `req` to `owner` and returns its answer. The body is buffered first (the edge already
/// bounds it), so a refused connection leaves the request whole for a takeover.
pub(crate) async fn forward(
    sessions: &SharedSessions,
    owner: &ReplicaUrl,
    mut req: Request,
    max_body_bytes: usize,
) -> Result<Response, ForwardError> {
    let path = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let url = format!("{}{}", owner.as_str(), path);
    let body = req
        .take_body()
        .into_bytes_limit(max_body_bytes)
        .await
        .map_err(|_| ForwardError::Body)?;
    let mut outgoing = sessions.client().request(req.method().clone(), url);
    for (name, value) in end_to_end(req.headers()) {
        outgoing = outgoing.header(name, value);
    }
    outgoing = outgoing.header(FORWARDED_HEADER, sessions.this_replica().as_str());
    let answer = match outgoing.body(body.clone()).send().await {
        Ok(answer) => answer,
        Err(error) if error.is_connect() || error.is_timeout() => {
            req.set_body(Body::from_bytes(body));
            return Err(ForwardError::Unreachable {
                owner: owner.clone(),
                error,
                request: Box::new(req),
            });
        }
        Err(error) => return Err(ForwardError::Failed(error)),
    };
    let mut response = Response::builder().status(answer.status());
    for (name, value) in end_to_end(answer.headers()) {
        response = response.header(name, value);
    }
    let stream = futures::TryStreamExt::map_err(answer.bytes_stream(), std::io::Error::other);
    Ok(response.body(Body::from_bytes_stream(stream)))
}

/// Why a request could not be forwarded.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ForwardError {
    /// The owner did not accept the connection: the request comes back, untouched.
    #[error("the replica holding the session ({owner}) is unreachable: {error}")]
    Unreachable {
        owner: ReplicaUrl,
        error: reqwest::Error,
        request: Box<Request>,
    },
    /// The owner accepted the connection, then failed: the request may have run there.
    #[error("forwarding to the replica holding the session failed: {0}")]
    Failed(reqwest::Error),
    /// The request body could not be read within its bound.
    #[error("the request body could not be read")]
    Body,
}

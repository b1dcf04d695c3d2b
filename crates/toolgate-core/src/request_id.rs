//! The id of one HTTP request, put in request extensions by the server's request-id layer and
//! carried into logs (tracing spans) and audit rows, so a log line and its row can be joined.

/// The id of the current request: the caller's `X-Request-Id` when it is short and plain, else
/// a fresh UUID.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestId(pub String);

//! What a reference upstream checks about its callers.

/// Options of a reference upstream served over HTTP ([`crate::serve_http`]).
///
/// Both checks run at the HTTP layer before rmcp sees the request; a request that fails one gets
/// `401 Unauthorized` with `WWW-Authenticate: Bearer` and a one-line reason (never the presented value).
#[derive(Clone, Debug)]
pub struct UpstreamOptions {
    /// `serverInfo.name` in the `initialize` result (default `toolgate-test-upstream`), so tests with
    /// several upstreams can tell them apart.
    pub server_name: String,
    /// Refuse every request whose `Authorization: Bearer` token's `aud` claim (a string, or an array
    /// containing it — RFC 7519 §4.1.3) is not this value. The signature is not checked: the fixture
    /// proves which token arrived, not that it is genuine.
    pub require_audience: Option<String>,
    /// Refuse every request that lacks this header with exactly this value, e.g.
    /// `("authorization", "Bearer static-secret")` or `("x-api-key", "k1")`. Header names are
    /// case-insensitive; values are compared in constant time.
    pub require_static_header: Option<(String, String)>,
}

impl Default for UpstreamOptions {
    fn default() -> Self {
        Self {
            server_name: "toolgate-test-upstream".into(),
            require_audience: None,
            require_static_header: None,
        }
    }
}

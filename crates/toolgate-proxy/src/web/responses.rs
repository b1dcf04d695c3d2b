//! Response builders: JSON, redirects, HTML pages with the headers that keep them out of frames
//! and caches. OAuth errors are answered by [`super::refusal`].

use std::sync::LazyLock;

use bytes::Bytes;
use http::{StatusCode, header};
use serde::Serialize;
use toolgate_core::HttpResponse;

use super::pages;

/// The CSP of every proxy page: nothing loads, nothing frames it, and the only script and the
/// only style allowed are the pages' own, by their SHA-256 (CSP Level 2 hash sources; no
/// `unsafe-inline`, no style attributes).
static PAGE_CSP: LazyLock<String> = LazyLock::new(|| {
    format!(
        "default-src 'none'; script-src {}; style-src {}; img-src https: data:; base-uri 'none'; frame-ancestors 'none'",
        script_hash(pages::CONSENT_SCRIPT),
        script_hash(pages::STYLE)
    )
});

/// A CSP hash source for an inline script or style: `'sha256-{base64 of SHA-256 of its text}'`.
pub(crate) fn script_hash(script: &str) -> String {
    use base64::Engine as _;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, script.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
    )
}

fn finish(builder: http::response::Builder, body: Bytes) -> HttpResponse {
    builder.body(body).unwrap_or_else(|_| {
        let mut fallback = HttpResponse::new(Bytes::new());
        *fallback.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        fallback
    })
}

fn no_store(builder: http::response::Builder) -> http::response::Builder {
    builder
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::PRAGMA, "no-cache")
}

/// JSON with `Cache-Control: no-store` (token responses must not be cached, RFC 6749 §5.1).
///
/// Readable from any origin: browser-based MCP clients (the MCP Inspector, web apps) call the
/// metadata, registration and token endpoints cross-origin. None of them relies on cookies or
/// ambient credentials, so `*` grants nothing a non-browser client does not already have.
pub(crate) fn json<T: Serialize>(status: StatusCode, value: &T) -> HttpResponse {
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    finish(
        no_store(http::Response::builder().status(status))
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")
            .header(header::ACCESS_CONTROL_EXPOSE_HEADERS, "WWW-Authenticate, Retry-After"),
        Bytes::from(body),
    )
}

/// A CORS preflight answer for the JSON endpoints.
pub(crate) fn preflight() -> HttpResponse {
    finish(
        http::Response::builder()
            .status(StatusCode::NO_CONTENT)
            .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")
            .header(header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, OPTIONS")
            .header(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                "Authorization, Content-Type, MCP-Protocol-Version",
            )
            .header(header::ACCESS_CONTROL_MAX_AGE, "600"),
        Bytes::new(),
    )
}

/// 302 to `location`, setting `cookies`.
pub(crate) fn redirect(location: &str, cookies: &[String]) -> HttpResponse {
    let mut builder = no_store(http::Response::builder().status(StatusCode::FOUND)).header(header::LOCATION, location);
    for cookie in cookies {
        builder = builder.header(header::SET_COOKIE, cookie);
    }
    finish(builder, Bytes::new())
}

/// An HTML page that may not be framed, cached or leak a referrer.
pub(crate) fn page(status: StatusCode, html: String, cookies: &[String]) -> HttpResponse {
    let mut builder = no_store(http::Response::builder().status(status))
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(header::CONTENT_SECURITY_POLICY, PAGE_CSP.as_str())
        .header(header::X_FRAME_OPTIONS, "DENY")
        .header(header::REFERRER_POLICY, "no-referrer")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    for cookie in cookies {
        builder = builder.header(header::SET_COOKIE, cookie);
    }
    finish(builder, Bytes::from(html))
}

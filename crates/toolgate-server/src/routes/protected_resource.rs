//! RFC 9728 protected resource metadata, served at the root well-known URI and at the one
//! suffixed with the MCP path (clients try the `WWW-Authenticate` URL, then the suffixed one,
//! then the root one).
//!
//! Browser-based MCP clients (the MCP Inspector, web apps) fetch it cross-origin with an
//! `MCP-Protocol-Version` header, which makes the browser send a CORS preflight first: both
//! URLs answer `OPTIONS` and every answer carries `Access-Control-Allow-Origin: *` (a public
//! document read without credentials; `*` grants nothing a non-browser client lacks).

use poem::http::{StatusCode, header};
use poem::web::Data;
use poem::{IntoResponse, Response, handler};

use crate::auth::AuthGate;

pub const WELL_KNOWN_PATH: &str = "/.well-known/oauth-protected-resource";

#[handler]
pub fn metadata(gate: Data<&AuthGate>) -> Response {
    let document = gate.provider().protected_resource_metadata();
    let body = serde_json::to_string(&document).unwrap_or_else(|_| "{}".into());
    body.with_content_type("application/json")
        .with_header(header::CACHE_CONTROL, "public, max-age=3600")
        .with_header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")
        .into_response()
}

/// The CORS preflight answer for public discovery documents (Fetch standard §3.2.2).
#[handler]
pub fn preflight() -> Response {
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")
        .header(header::ACCESS_CONTROL_ALLOW_METHODS, "GET, OPTIONS")
        .header(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            "Authorization, Content-Type, MCP-Protocol-Version",
        )
        .header(header::ACCESS_CONTROL_MAX_AGE, "600")
        .finish()
}

//! RFC 9728 protected resource metadata, served at the root well-known URI and at the one
//! suffixed with the MCP path (clients try the `WWW-Authenticate` URL, then the suffixed one,
//! then the root one).

use poem::http::header;
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

//! `GET /whoami`: the caller as toolgate sees them. Protected by its signature.

use poem::web::Json;
use poem::{IntoResponse, Response, handler};
use toolgate_core::Principal;

use crate::auth::Authenticated;

#[handler]
pub fn whoami(Authenticated(principal): Authenticated) -> Response {
    Json::<&Principal>(&principal)
        .with_header("cache-control", "no-store")
        .into_response()
}

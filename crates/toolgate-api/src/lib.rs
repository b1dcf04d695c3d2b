//! toolgate's REST API under `/api/v1`, described by OpenAPI, with Swagger UI at `/docs`.
//!
//! The same provider authenticates it as `/mcp` (the [`toolgate_server::auth`] middleware runs
//! per operation), and the same Cedar engine answers what a caller may see.
//!
//! poem-openapi fixes OAuth2 URLs and scope names at compile time, but ours come from
//! configuration (tenant, `api://{client-id}/…`): the spec is generated with placeholders
//! ([`security::placeholders`]) that [`docs::OpenApiDocument`] replaces once at start-up.

#![cfg_attr(not(test), deny(clippy::string_slice, clippy::indexing_slicing))]

mod allow_header;
pub mod body_limit;
mod context;
pub mod docs;
mod endpoints;
pub mod page_security;
pub mod security;

pub use context::{ApiContext, OAuthSettings};
pub use docs::{ApiRoutes, OpenApiDocument, PlaceholderMissing};

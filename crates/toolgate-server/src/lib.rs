//! toolgate's HTTP edge. Handlers stay short: extract, call the domain, map the result.
//!
//! - [`auth`]: the middleware that turns a request into a [`toolgate_core::Principal`] (or an
//!   RFC 6750 answer) and the [`auth::Authenticated`] extractor that protects a handler by its
//!   signature.
//! - [`routes`]: the server's own routes (protected resource metadata, `whoami`, health).
//! - [`app`]: assembling routes, provider routes and layers; [`listen`]: binding and serving.

#![cfg_attr(not(test), deny(clippy::string_slice, clippy::indexing_slicing))]

pub mod app;
pub mod auth;
pub mod edge;
pub mod failure_audit;
mod listen;
pub mod mcp;
pub mod metrics_endpoint;
mod provider_routes;
pub mod rate_limit;
pub mod request_id;
pub mod routes;

pub use app::{AppSettings, auth_gate, build_app, build_app_with, build_app_with_mcp};
pub use edge::connections::ConnectionLimits;
pub use listen::{RunningServer, ServeError, serve, serve_on, serve_with_limits};

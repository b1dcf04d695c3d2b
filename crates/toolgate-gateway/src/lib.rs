//! Gateway mode: toolgate in front of the MCP servers a team already runs.
//!
//! ```text
//! client ──▶ toolgate: provider → principal → policy ──▶ Router ──▶ upstream "github" (stdio)
//!                                 (Gate, audit)                 ├──▶ upstream "tickets" (HTTP, Entra OBO)
//!                                                               └──▶ upstream "tasks" (in-process)
//! ```
//!
//! - [`config`]: `[[upstream]]` and `[gateway]` as written, validated into [`UpstreamSettings`].
//! - [`names`]: upstream names and the namespacing of tools and prompts (`github__create_issue`).
//! - [`catalog`]: what every upstream offers, under the names clients see, with routes back.
//! - [`sync`]: the Cedar schema and policies follow the catalog; sessions hear `list_changed`.
//! - [`upstream`]: connections (stdio, streamable HTTP, in-process), forwarding of what
//!   upstreams send (sampling, elicitation, progress, logs), health and backoff.
//! - [`credentials`]: what toolgate sends upstream — never the client's token: none, a static
//!   header, Entra On-Behalf-Of the user, or Entra client credentials.
//! - [`session`], [`router`]: one downstream session's upstream links, and the `ServerHandler`
//!   the gate wraps; [`shared_links`]: the links of requests without a session.
//! - [`core`]: the shared state, and toolgate's own catalog connections.
//!
//! See `docs/gateway.md`.

#![cfg_attr(not(test), deny(clippy::string_slice, clippy::indexing_slicing))]

pub mod catalog;
pub mod config;
pub mod core;
pub mod credentials;
pub mod names;
pub mod router;
pub mod session;
pub mod shared_links;
pub mod sync;
pub mod upstream;

pub use crate::catalog::{Catalog, Collision, Offer};
pub use crate::config::{GatewaySection, Transport, UpstreamConfigError, UpstreamSection, UpstreamSettings, WhenDown};
pub use crate::core::{GatewayCore, StartError};
pub use crate::credentials::{CredentialError, CredentialSpec, Credentials, EntraClient, RequestBearer, UserAssertion};
pub use crate::names::{Namespacing, UpstreamName};
pub use crate::router::Router;
pub use crate::sync::PolicySync;
pub use crate::upstream::health::{UpstreamState, UpstreamStatus};
pub use crate::upstream::local::{DynHandler, LocalFactory, LocalHandlers};

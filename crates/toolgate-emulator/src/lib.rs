//! An offline Microsoft Entra ID: OIDC discovery, JWKS, authorize (login page or silent),
//! the token grants toolgate uses, and Entra-shaped tokens, quirks included.
//!
//! Why: every toolgate test and the offline dev mode need an identity provider that fails the
//! way Entra fails (AADSTS codes, v1/v2 token shapes, pairwise `sub`, groups overage, Graph
//! tokens nobody else can validate), on `127.0.0.1:0`, with hooks for key rotation and outages.
//! See `docs/emulator.md`.
//!
//! Everything the emulator reads comes from requests (or a config file): no byte-index slicing
//! or indexing that could panic on it, enforced for the non-test code below.
#![cfg_attr(not(test), deny(clippy::string_slice, clippy::indexing_slicing))]

mod b2c;
mod config;
pub mod demo;
mod directory;
mod errors;
mod keys;
mod routes;
mod scopes;
mod server;
mod spec;
mod state;
mod tokens;
mod validate;

pub use config::{
    AppConfig, AppRole, AppRoleAssignment, ClientSecret, ConfigError, EmulatorConfig, MemberType, RedirectPlatform,
    RedirectUris, Settings, TenantConfig, UserConfig,
};
pub use errors::AadError;
pub use server::{Emulator, EmulatorError, RunningEmulator, TokenRequestSpec};

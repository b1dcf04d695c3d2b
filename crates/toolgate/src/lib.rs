//! toolgate puts Microsoft Entra ID sign-in and Cedar policies in front of MCP tools.
//!
//! This crate is both the `toolgate` binary and the facade embedders depend on: it re-exports
//! the pieces (`core`, `entra`, `proxy`, `store`, `mcp`, `policy`, `audit`, `server`, `emulator`) and turns a configuration file into a
//! running server ([`config`], [`build`]).

pub mod build;
pub mod cli;
mod commands;
pub mod config;
mod demo_policies;
pub mod mcp_client;
pub mod readiness;
pub mod reload;
pub mod sign_in;
pub mod start;
pub mod telemetry;

pub use build::{Builder, Gateway};
pub use toolgate_audit as audit;
pub use toolgate_core as core;
pub use toolgate_emulator as emulator;
pub use toolgate_entra as entra;
pub use toolgate_gateway as gateway;
pub use toolgate_mcp as mcp;
pub use toolgate_policy as policy;
pub use toolgate_proxy as proxy;
pub use toolgate_server as server;
pub use toolgate_store as store;

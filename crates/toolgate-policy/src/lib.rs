//! Cedar policies in front of MCP tools.
//!
//! - [`generate_schema`] turns the tool catalog into a Cedar schema with each tool's input typed,
//!   so a policy that names a missing attribute or argument is refused before it goes live.
//! - [`PolicyEngine`] loads `*.cedar` files, validates them strictly and answers two questions:
//!   [`PolicyEngine::authorize_call`] (on the full typed arguments) and
//!   [`PolicyEngine::authorize_list`] / [`PolicyEngine::visible_tools`] (could *some* call be
//!   permitted? — partial evaluation with the arguments unknown).
//! - [`testing`] runs policy test tables (`toolgate policy test`).
//!
//! Decisions never panic and never fail: problems become a deny with reasons.

#![cfg_attr(not(test), deny(clippy::string_slice, clippy::indexing_slicing))]

mod catalog;
mod claims;
mod decide;
mod declared;
mod engine;
mod error;
mod index;
#[cfg(test)]
mod index_tests;
mod input_type;
mod live;
mod loader;
mod names;
mod principal;
mod prompts_resources;
mod schema;
pub mod testing;
mod tool_policy;

pub use catalog::{load_catalog, read_catalog};
pub use claims::{ClaimKind, ClaimMapping, ExtraClaim};
pub use engine::{PolicyConfig, PolicyEngine};
pub use error::{PolicyError, PolicyProblem};
pub use live::{LivePolicy, PolicyStatus};
pub use loader::{PolicySource, read_dir as read_policy_dir};
pub use principal::PrincipalEntity;
pub use schema::{GeneratedSchema, generate_schema};
pub use testing::{CaseResult, TestReport};

//! toolgate end-to-end tests: one test binary, every test starting its own servers on
//! 127.0.0.1:0 and talking real HTTP. The Entra emulator stands in for Entra.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Tests compare with the wall clock (tokens the emulator issued now); the rule is for request paths.
#![allow(clippy::disallowed_methods)]

mod harness;

mod azure_bearer;
mod browser;
mod config_errors;
mod contract;
mod demo_catalog;
mod demo_tools;
mod docs_examples;
mod emulator;
pub mod entra_proxy;
mod gate_methods;
mod gateway;
mod gateway_mode;
mod hardening;
mod key_cache;
mod lifecycle;
mod mcp_gate;
mod modern_protocol;
mod policy_reload;
mod probe;
mod rate_limits;
mod raw_http;
mod replicas;
mod rest_api;
mod telemetry;
mod token_cache;
mod validator_rules;
mod whoami;

//! Integration tests of the gateway test fixtures: every test starts its own servers on 127.0.0.1:0
//! and talks real HTTP or stdio to them, with real MCP clients (rmcp, the conformance suite, the
//! Inspector CLI) and real upstreams (server-everything, FastMCP).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod binary;
mod conformance;
mod external;
mod inject;

mod support;
mod upstream;

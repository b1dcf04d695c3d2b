//! Test fixtures for toolgate's gateway mode (issue 9 §6), independent of the gateway code:
//!
//! - **A reference MCP upstream** ([`serve_http`], and `toolgate-test-upstream stdio|http` for a child
//!   process): a hand-written rmcp [`rmcp::ServerHandler`] that implements every server scenario of the
//!   active suite of `@modelcontextprotocol/conformance` 0.1.16 (tools, resources with subscribe and a
//!   template, prompts, completion, logging, ping), plus tools for gateway tests: `echo`, `whoami`
//!   (claims of the bearer token it received), `transfer` (typed arguments for policies), `add_tool`
//!   (a tool added at run time with `notifications/tools/list_changed` to every session), `hang`,
//!   `sleep` and `crash`. Optional credential checks ([`UpstreamOptions`]) prove that toolgate sends the
//!   credentials it should.
//! - **A token-injecting reverse proxy** ([`inject_token`]): the conformance suite and the Inspector send no
//!   token; the proxy adds `Authorization: Bearer <token>` and forwards everything else unchanged
//!   (Host and Origin included), streaming responses (SSE) as they come.
//! - **The external clients and servers** ([`external`]): Node 22, the conformance suite, the MCP
//!   Inspector CLI, `@modelcontextprotocol/server-everything` and a FastMCP server (`bank.py`), as
//!   installed by `scripts/test.sh` under `tests/clients/gateway`.

mod catalog;
pub mod claims;
mod content;
mod error;
pub mod external;
mod http;
mod inject;
mod options;
mod server;
mod stdio;
mod tools;

pub use error::UpstreamError;
pub use http::{Ending, RunningUpstream, serve_http, try_serve_http};
pub use inject::{ProxyError, RunningProxy, inject_token, try_inject_token};
pub use options::UpstreamOptions;
pub use server::{AddToolError, MAX_TRACE_RECORDS, ReceivedTrace};
pub use stdio::{CRASH_EXIT_CODE, serve_stdio};

//! The MCP gate. Wrap any rmcp [`rmcp::ServerHandler`] — tools written with rmcp's macros — in a
//! [`Gate`] and every `tools/list` is filtered for the caller and every `tools/call` is decided
//! by policy and audited, before the wrapped server sees it:
//!
//! ```text
//! request → provider → principal → policy → tool → audit
//!            (server)   (extension)  (Gate)   (inner)  (AuditSink)
//! ```
//!
//! The gate knows rmcp and toolgate's core only; mounting it in an HTTP server (poem) is
//! `toolgate_server::mcp`.

#![cfg_attr(not(test), deny(clippy::string_slice, clippy::indexing_slicing))]

mod caller;
mod catalog;
mod denial;
mod gate;
mod in_process;
mod throttle;

pub use catalog::{ToolTags, descriptor_of, normalize_schema};
pub use denial::DenialStyle;
pub use gate::{DEFAULT_PASS_THROUGH, Gate, GateOptions, GateShared, MAX_NAME_CHARS, MAX_URI_CHARS, PassThrough};
pub use in_process::InProcessTools;
pub use throttle::{LIMITS_UNAVAILABLE_REASON, RATE_LIMITED, limits_unavailable_error, rate_limited_error};

//! The MCP gate. Wrap any rmcp [`rmcp::ServerHandler`] — tools written with rmcp's macros — in a
//! [`Gate`] and every `tools/list` is filtered for the caller and every `tools/call` is decided
//! by policy and audited, before the wrapped server sees it:
//!
//! ```text
//! request → provider → principal → policy → tool → audit
//!            (server)   (extension)  (Gate)   (inner)  (AuditSink)
//! ```
//!
//! [`http::mcp_endpoint`] mounts the gated server in poem as a streamable-HTTP endpoint behind
//! authentication and the MCP edge (`Host`/`Origin`, sessions bound to their creator and capped,
//! bounded bodies and JSON, one request per id, a concurrency cap per principal).

mod caller;
mod catalog;
mod denial;
mod gate;
pub mod http;
mod in_process;

pub use catalog::{ToolTags, descriptor_of, normalize_schema};
pub use denial::DenialStyle;
pub use gate::{DEFAULT_PASS_THROUGH, Gate, GateOptions, GateShared, MAX_NAME_CHARS, MAX_URI_CHARS, PassThrough};
pub use http::{McpTransportConfig, SessionBindings, SessionLimits, mcp_endpoint};
pub use in_process::InProcessTools;

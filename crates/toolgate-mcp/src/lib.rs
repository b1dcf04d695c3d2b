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
//! authentication, binds each MCP session to the principal that created it, and validates
//! `Host`/`Origin`.

mod caller;
mod catalog;
mod denial;
mod gate;
pub mod http;
mod in_process;
mod record;
mod session_binding;

pub use catalog::{ToolTags, descriptor_of, normalize_schema};
pub use denial::DenialStyle;
pub use gate::{Gate, GateOptions, GateShared};
pub use http::{McpTransportConfig, mcp_endpoint};
pub use in_process::InProcessTools;
pub use session_binding::{BindSessions, SessionBindings};

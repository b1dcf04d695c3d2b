//! The MCP endpoint in poem: rmcp's streamable-HTTP service around the gate ([`endpoint`]),
//! behind the MCP edge ([`edge`]) that bounds and audits what reaches it, with sessions bound to
//! the principal that created them ([`session_binding`]).

mod edge;
mod endpoint;
mod session_binding;

pub use self::edge::McpEdgeLayer;
pub use self::endpoint::{DEFAULT_MAX_BODY_BYTES, McpTransportConfig, mcp_endpoint};
pub use self::session_binding::{SessionBindings, SessionLimits};

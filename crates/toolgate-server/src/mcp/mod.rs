//! The MCP endpoint in poem: rmcp's streamable-HTTP service around the gate ([`endpoint`]),
//! behind the MCP edge ([`edge`]) that bounds and audits what reaches it, with sessions bound to
//! the principal that created them ([`session_binding`]) and, across replicas, held by one
//! replica that the others forward to ([`shared_sessions`], [`forward`]).

mod edge;
mod endpoint;
mod forward;
mod session_binding;
mod shared_sessions;

pub use self::edge::McpEdgeLayer;
pub use self::endpoint::{DEFAULT_MAX_BODY_BYTES, McpTransportConfig, mcp_endpoint};
pub use self::forward::FORWARDED_HEADER;
pub use self::session_binding::{SessionBindings, SessionLimits};
pub use self::shared_sessions::{InvalidReplicaUrl, ReplicaUrl, SESSION_NAMESPACE, SessionRecord, SharedSessions};

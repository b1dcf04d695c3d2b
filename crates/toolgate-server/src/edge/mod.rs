//! What the server refuses before any handler runs, and the bounds it keeps on what a caller can
//! hold: connections and header deadlines ([`connections`]), `Host`/`Origin` for the MCP
//! endpoint ([`host_origin`]), a bounded first look at JSON-RPC bodies ([`json_rpc`]), slots per
//! caller ([`in_flight`]), holding a slot until a streamed answer is sent
//! ([`response_guard`]), and MCP standard headers that agree with the body
//! ([`standard_headers`]).

pub mod connections;
pub mod host_origin;
pub mod in_flight;
pub mod json_rpc;
pub mod response_guard;
pub mod standard_headers;

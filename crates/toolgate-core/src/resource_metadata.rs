//! RFC 9728 OAuth 2.0 Protected Resource Metadata.

use serde::Serialize;

/// The document served at `/.well-known/oauth-protected-resource[/<path>]`. MCP clients read it
/// to find the authorization server and the scopes to request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProtectedResourceMetadata {
    /// The canonical resource URL (no trailing slash, no fragment). The TypeScript MCP SDK
    /// requires it to be a prefix of the URL it connected to.
    pub resource: String,
    pub authorization_servers: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes_supported: Vec<String>,
    pub bearer_methods_supported: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_documentation: Option<String>,
}

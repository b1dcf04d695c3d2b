//! What the API's operations need, shared by all requests.

use std::sync::Arc;

use toolgate_audit::AuditStore;
use toolgate_core::{CatalogSource, PolicyReload, ReadinessSource, ToolInvoker, ToolPolicy};

/// Where Swagger UI's "Authorize" sends people, and what it asks for.
#[derive(Debug, Clone)]
pub struct OAuthSettings {
    /// The authority's authorization endpoint (Entra, the emulator, or the proxy).
    pub authorization_url: String,
    pub token_url: String,
    /// The public (SPA) client Swagger UI signs in with; no secret ever reaches the browser.
    pub client_id: String,
    /// Full scope names, e.g. `api://{client-id}/access_as_user`.
    pub scopes: Vec<String>,
}

/// Shared state of the API.
#[derive(Clone)]
pub struct ApiContext {
    /// The policy in force (it may change while serving: reload, new upstream tools).
    pub policy: Arc<dyn ToolPolicy>,
    /// The tool catalog in force.
    pub catalog: Arc<dyn CatalogSource>,
    /// Parts that can make the server unready (upstreams, a refused policy rebuild).
    pub readiness: Option<Arc<dyn ReadinessSource>>,
    /// The audit trail to query (admin only); `None` when the deployment has none.
    pub audit: Option<AuditStore>,
    /// The app role that may use the admin operations (explain, audit).
    pub admin_role: String,
    /// Runs tools through the same gate as MCP (policy and audit).
    pub tools: Arc<dyn ToolInvoker>,
    /// Reloads the policies (admin only); `None` when they cannot change (embedded policies).
    pub reload: Option<Arc<dyn PolicyReload>>,
}

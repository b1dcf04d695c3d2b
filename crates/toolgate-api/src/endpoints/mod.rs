//! The operations, one file per area. Handlers stay short: extract, ask the domain, map.

mod admin;
mod audit;
mod explain;
mod health;
mod reload;
mod tools;
mod whoami;

pub use audit::AuditApi;
pub use explain::ExplainApi;
pub use health::{AuditReadiness, HealthApi};
pub use reload::ReloadApi;
pub use tools::ToolsApi;
pub use whoami::WhoamiApi;

/// Tags grouping operations in Swagger UI.
#[derive(poem_openapi::Tags)]
pub enum ApiTags {
    /// Who you are and what you may use.
    Caller,
    /// Administration (the admin app role only).
    Admin,
    /// Liveness and readiness.
    Health,
}

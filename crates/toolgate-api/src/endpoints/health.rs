//! `GET /health` (liveness) and `GET /ready` (the policy set is loaded and the audit trail
//! answers). Unauthenticated, and they reveal nothing.

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use toolgate_audit::AuditFilter;

use super::ApiTags;
use crate::context::ApiContext;

#[derive(Debug, Object)]
pub struct Status {
    pub status: String,
}

#[derive(ApiResponse)]
pub enum Readiness {
    #[oai(status = 200)]
    Ready(Json<Status>),
    #[oai(status = 503)]
    NotReady(Json<Status>),
}

pub struct HealthApi;

#[OpenApi]
impl HealthApi {
    /// The process answers.
    #[oai(path = "/health", method = "get", operation_id = "health", tag = "ApiTags::Health")]
    async fn health(&self) -> Json<Status> {
        Json(Status { status: "ok".into() })
    }

    /// Ready to serve: policies loaded, audit trail reachable.
    #[oai(path = "/ready", method = "get", operation_id = "ready", tag = "ApiTags::Health")]
    async fn ready(&self, context: Data<&ApiContext>) -> Readiness {
        if let Some(store) = &context.audit
            && store
                .count(&AuditFilter {
                    limit: Some(1),
                    ..AuditFilter::default()
                })
                .await
                .is_err()
        {
            return Readiness::NotReady(Json(Status {
                status: "audit trail unreachable".into(),
            }));
        }
        Readiness::Ready(Json(Status { status: "ready".into() }))
    }
}

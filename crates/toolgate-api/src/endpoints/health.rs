//! `GET /health` (liveness) and `GET /ready` (the policy set is loaded and the audit trail
//! answers). Unauthenticated, and they reveal nothing. Readiness costs at most one row-less
//! statement per two seconds, however often it is asked ([`ReadinessProbe`]).

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use toolgate_audit::ReadinessProbe;

use super::ApiTags;
use crate::context::ApiContext;

#[derive(Debug, Object)]
pub struct Status {
    pub status: String,
    /// The parts that make up readiness (`policy`, `upstream:NAME`) and their state; no error
    /// details (they are in the logs).
    pub components: Vec<Component>,
}

#[derive(Debug, Object)]
pub struct Component {
    pub name: String,
    pub ready: bool,
    pub state: String,
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
        Json(Status {
            status: "ok".into(),
            components: Vec::new(),
        })
    }

    /// Ready to serve: policies loaded, audit trail reachable (re-checked at most every two
    /// seconds).
    #[oai(path = "/ready", method = "get", operation_id = "ready", tag = "ApiTags::Health")]
    async fn ready(&self, readiness: Data<&AuditReadiness>, context: Data<&ApiContext>) -> Readiness {
        let components: Vec<Component> = context
            .readiness
            .as_ref()
            .map(|source| source.components())
            .unwrap_or_default()
            .into_iter()
            .map(|c| Component {
                name: c.name,
                ready: c.ready,
                state: c.state,
            })
            .collect();
        if let Some(probe) = &readiness.0.0
            && !probe.is_ready().await
        {
            return Readiness::NotReady(Json(Status {
                status: "audit trail unreachable".into(),
                components,
            }));
        }
        if components.iter().any(|c| !c.ready) {
            return Readiness::NotReady(Json(Status {
                status: "not ready".into(),
                components,
            }));
        }
        // Ready, but an upstream is down (calls of its tools fail with errors naming it), or a
        // policy reload was refused (the set before it serves).
        let status = if components
            .iter()
            .any(|c| c.state == "down" || c.state == "reload_refused")
        {
            "degraded"
        } else {
            "ready"
        };
        Readiness::Ready(Json(Status {
            status: status.into(),
            components,
        }))
    }
}

/// The audit trail's readiness probe, shared by all `/ready` requests; `None` when the
/// deployment has no audit trail to read.
#[derive(Debug, Clone)]
pub struct AuditReadiness(pub Option<Arc<ReadinessProbe>>);

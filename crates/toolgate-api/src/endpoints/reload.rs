//! `POST /policy/reload` (admin): read the policy directory again and put the policies in force
//! if they validate against the catalog; the other replicas follow.

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use toolgate_core::ReloadTrigger;

use super::ApiTags;
use super::admin::{ApiError, is_admin};
use crate::context::ApiContext;
use crate::docs::authenticated;
use crate::security::Caller;

/// A reload that put the policies in force (or found them unchanged).
#[derive(Debug, Object)]
pub struct Reloaded {
    /// The policy set in force now.
    pub policy_set_hash: String,
    /// Whether the files made a different policy set than the one in force before.
    pub changed: bool,
}

/// A reload refused because the policies do not validate; the policy set in force stays.
#[derive(Debug, Object)]
pub struct ReloadRefused {
    /// `policy_invalid`.
    pub error: String,
    /// The validation errors, `file:line:col: message`.
    pub message: String,
    /// The policy set still in force.
    pub policy_set_hash: String,
}

#[derive(ApiResponse)]
pub enum ReloadResult {
    #[oai(status = 200)]
    Ok(Json<Reloaded>),
    /// The caller lacks the admin role.
    #[oai(status = 403)]
    Forbidden(Json<ApiError>),
    /// The policies are embedded in the binary (`toolgate dev`): there is nothing to reload.
    #[oai(status = 409)]
    NotReloadable(Json<ApiError>),
    /// The policies in the directory do not validate; the policy set in force stays.
    #[oai(status = 422)]
    Refused(Json<ReloadRefused>),
}

pub struct ReloadApi;

#[OpenApi]
impl ReloadApi {
    /// Reload the policies from the policy directory: validated against the current catalog,
    /// swapped in atomically, announced to the other replicas. Admin only.
    #[oai(
        path = "/policy/reload",
        operation_id = "reloadPolicies",
        method = "post",
        tag = "ApiTags::Admin",
        transform = "authenticated"
    )]
    async fn reload(&self, auth: Caller, context: Data<&ApiContext>) -> ReloadResult {
        if !is_admin(auth.principal(), &context.admin_role) {
            return ReloadResult::Forbidden(ApiError::new("forbidden", "the admin role is required"));
        }
        let Some(reloader) = &context.reload else {
            return ReloadResult::NotReloadable(ApiError::new(
                "not_reloadable",
                "the policies are embedded in the binary; there is no directory to reload",
            ));
        };
        let report = reloader.reload(ReloadTrigger::Api, Some(auth.principal())).await;
        match report.error {
            None => ReloadResult::Ok(Json(Reloaded {
                policy_set_hash: report.policy_set_hash,
                changed: report.changed,
            })),
            Some(message) => ReloadResult::Refused(Json(ReloadRefused {
                error: "policy_invalid".into(),
                message,
                policy_set_hash: report.policy_set_hash,
            })),
        }
    }
}

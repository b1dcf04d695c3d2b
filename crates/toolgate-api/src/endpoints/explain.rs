//! `POST /policy/explain` (admin): what would the policies decide for these claims, this tool and
//! these arguments, and why.

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use toolgate_core::{Effect, Groups, Principal, PrincipalKind};

use super::ApiTags;
use super::admin::{ApiError, is_admin, parse_error_message};

fn explain_bad_request(error: poem::Error) -> ExplainResult {
    ExplainResult::BadRequest(ApiError::new("invalid_request", parse_error_message(&error)))
}
use crate::context::ApiContext;
use crate::docs::authenticated;
use crate::security::Caller;

#[derive(Debug, Clone, Copy, Enum)]
#[oai(rename_all = "snake_case")]
pub enum Question {
    /// May the principal call the tool with these arguments?
    Call,
    /// Would the tool be listed for the principal?
    List,
}

#[derive(Debug, Clone, Copy, Enum)]
#[oai(rename_all = "snake_case")]
pub enum Kind {
    User,
    App,
}

/// A hypothetical caller, described like a verified token.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ExplainPrincipal {
    pub kind: Kind,
    pub id: String,
    #[oai(default)]
    pub tenant: String,
    #[oai(default)]
    pub roles: Vec<String>,
    #[oai(default)]
    pub scopes: Vec<String>,
    #[oai(default)]
    pub groups: Vec<String>,
    #[oai(default)]
    pub groups_overage: bool,
    #[oai(default)]
    pub guest: bool,
    pub client_app: Option<String>,
    /// Extra claims, for configured claim mappings.
    #[oai(default)]
    pub claims: std::collections::BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ExplainRequest {
    pub principal: ExplainPrincipal,
    pub tool: String,
    /// `call` (may this call be made?) or `list` (would the tool be listed?).
    pub question: Question,
    #[oai(default)]
    pub arguments: serde_json::Value,
}

#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ExplainResponse {
    /// `allow` or `deny`, as the policies decide (regardless of shadow mode).
    pub effect: String,
    pub determining_policies: Vec<String>,
    pub errors: Vec<String>,
    pub policy_set_hash: String,
    pub shadow: bool,
}

#[derive(ApiResponse)]
#[oai(bad_request_handler = "explain_bad_request")]
pub enum ExplainResult {
    #[oai(status = 200)]
    Ok(Json<ExplainResponse>),
    /// The body is not a valid explain request.
    #[oai(status = 400)]
    BadRequest(Json<ApiError>),
    /// The caller lacks the admin role.
    #[oai(status = 403)]
    Forbidden(Json<ApiError>),
    /// The body is over 64 KiB (refused before authentication and parsing).
    #[oai(status = 413)]
    PayloadTooLarge(Json<ApiError>),
}

impl From<ExplainPrincipal> for Principal {
    fn from(p: ExplainPrincipal) -> Self {
        Principal {
            id: p.id,
            kind: match p.kind {
                Kind::User => PrincipalKind::User,
                Kind::App => PrincipalKind::App,
            },
            tenant_id: p.tenant,
            object_id: None,
            display_name: None,
            username: None,
            roles: p.roles,
            scopes: p.scopes,
            groups: if p.groups_overage {
                Groups::Overage { source: None }
            } else {
                Groups::Listed { ids: p.groups }
            },
            client_app_id: p.client_app,
            guest: p.guest,
            provider: "explain".into(),
            expires_at: 0,
            claims: p.claims.into_iter().collect(),
        }
    }
}

pub struct ExplainApi;

#[OpenApi]
impl ExplainApi {
    /// Explain a decision: effect, determining policies and evaluation errors. Admin only.
    #[oai(
        path = "/policy/explain",
        operation_id = "explainDecision",
        method = "post",
        tag = "ApiTags::Admin",
        transform = "authenticated"
    )]
    async fn explain(&self, auth: Caller, context: Data<&ApiContext>, body: Json<ExplainRequest>) -> ExplainResult {
        if !is_admin(auth.principal(), &context.admin_role) {
            return ExplainResult::Forbidden(ApiError::new("forbidden", "the admin role is required"));
        }
        let Json(request) = body;
        let principal = Principal::from(request.principal);
        let decision = match request.question {
            Question::Call => context
                .policy
                .authorize_call(&principal, &request.tool, &request.arguments),
            Question::List => context.policy.authorize_list(&principal, &request.tool),
        };
        ExplainResult::Ok(Json(ExplainResponse {
            effect: match decision.effect() {
                Effect::Allow => "allow".into(),
                Effect::Deny => "deny".into(),
            },
            determining_policies: decision.determining_policies().to_vec(),
            errors: decision.errors().to_vec(),
            policy_set_hash: decision.policy_set_hash().to_owned(),
            shadow: decision.is_shadow_mode(),
        }))
    }
}

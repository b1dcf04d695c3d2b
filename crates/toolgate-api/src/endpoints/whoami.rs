//! `GET /whoami`.

use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use toolgate_core::{Principal, PrincipalKind};

use super::ApiTags;
use crate::docs::authenticated;
use crate::security::Caller;

/// The caller as toolgate sees them.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct PrincipalView {
    /// `user:{tid}/{oid}` or `app:{tid}/{client id}`.
    pub id: String,
    /// `user` or `app`.
    pub kind: String,
    pub tenant_id: String,
    pub display_name: Option<String>,
    pub username: Option<String>,
    pub roles: Vec<String>,
    pub scopes: Vec<String>,
    pub groups: Vec<String>,
    /// True when the token had too many groups to list (Entra's overage).
    pub groups_overage: bool,
    pub client_app_id: Option<String>,
    pub guest: bool,
    pub provider: String,
    /// Token expiry, seconds since the Unix epoch.
    pub expires_at: i64,
}

impl From<&Principal> for PrincipalView {
    fn from(p: &Principal) -> Self {
        Self {
            id: p.id.clone(),
            kind: match p.kind {
                PrincipalKind::User => "user".into(),
                PrincipalKind::App => "app".into(),
            },
            tenant_id: p.tenant_id.clone(),
            display_name: p.display_name.clone(),
            username: p.username.clone(),
            roles: p.roles.clone(),
            scopes: p.scopes.clone(),
            groups: p.groups.ids().to_vec(),
            groups_overage: p.groups.is_overage(),
            client_app_id: p.client_app_id.clone(),
            guest: p.guest,
            provider: p.provider.clone(),
            expires_at: p.expires_at,
        }
    }
}

pub struct WhoamiApi;

#[OpenApi]
impl WhoamiApi {
    /// The signed-in caller.
    #[oai(
        path = "/whoami",
        operation_id = "whoami",
        method = "get",
        tag = "ApiTags::Caller",
        transform = "authenticated"
    )]
    async fn whoami(&self, auth: Caller) -> Json<PrincipalView> {
        Json(PrincipalView::from(auth.principal().as_ref()))
    }
}

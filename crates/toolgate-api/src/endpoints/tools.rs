//! `GET /tools`: the tools this caller may see (the same list `tools/list` gives over MCP).

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::ApiTags;
use crate::context::ApiContext;
use crate::docs::authenticated;
use crate::security::EntraAuth;

#[derive(Debug, Object)]
pub struct ToolView {
    pub name: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub read_only: Option<bool>,
    pub destructive: Option<bool>,
    /// The tool's JSON Schema for its arguments.
    pub input_schema: serde_json::Value,
}

pub struct ToolsApi;

#[OpenApi]
impl ToolsApi {
    /// Tools the caller may use: listed when some call of the tool could be permitted.
    #[oai(path = "/tools", method = "get", tag = "ApiTags::Caller", transform = "authenticated")]
    async fn tools(&self, auth: EntraAuth, context: Data<&ApiContext>) -> Json<Vec<ToolView>> {
        let visible = context
            .catalog
            .iter()
            .filter(|tool| context.policy.authorize_list(&auth.0, &tool.name).is_allowed())
            .map(|tool| ToolView {
                name: tool.name.clone(),
                description: tool.description.clone(),
                tags: tool.tags.clone(),
                read_only: tool.annotations.read_only,
                destructive: tool.annotations.destructive,
                input_schema: tool.input_schema.clone(),
            })
            .collect();
        Json(visible)
    }
}

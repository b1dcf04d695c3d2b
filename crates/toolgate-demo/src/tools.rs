//! The five demo tools. Annotations follow MCP: reads are read-only, deletes destructive.

use rmcp::RoleServer;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    GetPromptRequestParams, GetPromptResponse, GetPromptResult, ListPromptsResult, ListResourcesResult,
    PaginatedRequestParams, Prompt, PromptMessage, ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult,
    Resource, ResourceContents, Role, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, ServerHandler, schemars, tool, tool_handler, tool_router};
use serde::Deserialize;

use crate::store::TaskStore;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ListTasks {
    /// `open` or `done`; all tasks when absent.
    pub status: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct TaskId {
    pub id: i64,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct CreateTask {
    pub title: String,
    /// 1 (low) to 5 (urgent); 3 when absent.
    pub priority: Option<i64>,
    pub project: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct PurgeTasks {
    pub older_than_days: i64,
}

/// The demo task tracker as an rmcp server.
#[derive(Debug, Clone)]
pub struct TaskTools {
    store: TaskStore,
    tool_router: ToolRouter<Self>,
}

impl TaskTools {
    pub fn new(store: TaskStore) -> Self {
        Self {
            store,
            tool_router: Self::tool_router(),
        }
    }
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

#[tool_router]
impl TaskTools {
    #[tool(
        description = "List tasks, optionally filtered by status.",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn list_tasks(&self, Parameters(ListTasks { status }): Parameters<ListTasks>) -> Result<String, McpError> {
        let done = match status.as_deref() {
            None => None,
            Some("open") => Some(false),
            Some("done") => Some(true),
            Some(other) => return Err(McpError::invalid_params(format!("unknown status `{other}`"), None)),
        };
        Ok(json(&self.store.list(done)))
    }

    #[tool(
        description = "Get one task by id.",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn get_task(&self, Parameters(TaskId { id }): Parameters<TaskId>) -> Result<String, McpError> {
        let task = u64::try_from(id).ok().and_then(|id| self.store.get(id));
        task.map(|t| json(&t))
            .ok_or_else(|| McpError::invalid_params(format!("no task {id}"), None))
    }

    #[tool(
        description = "Create a task. Priority 1 (low) to 5 (urgent).",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn create_task(
        &self,
        Parameters(CreateTask {
            title,
            priority,
            project,
        }): Parameters<CreateTask>,
    ) -> Result<String, McpError> {
        let priority = priority.unwrap_or(3);
        let priority = u8::try_from(priority)
            .ok()
            .filter(|p| (1..=5).contains(p))
            .ok_or_else(|| McpError::invalid_params("priority must be 1 to 5", None))?;
        Ok(json(&self.store.create(title, priority, project)))
    }

    #[tool(
        description = "Delete one task by id.",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn delete_task(&self, Parameters(TaskId { id }): Parameters<TaskId>) -> Result<String, McpError> {
        let deleted = u64::try_from(id).is_ok_and(|id| self.store.delete(id));
        Ok(json(&serde_json::json!({ "deleted": deleted })))
    }

    #[tool(
        description = "Delete every task older than the given number of days. Administrators only.",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn purge_tasks(
        &self,
        Parameters(PurgeTasks { older_than_days }): Parameters<PurgeTasks>,
    ) -> Result<String, McpError> {
        if older_than_days < 0 {
            return Err(McpError::invalid_params("older_than_days must be ≥ 0", None));
        }
        Ok(json(&serde_json::json!({ "purged": self.store.purge() })))
    }
}

/// The demo prompt and resource, so the gate's prompt and resource policies have something to govern.
pub const SUMMARY_PROMPT: &str = "summarize_tasks";
pub const TASKS_RESOURCE: &str = "tasks://all";

#[tool_handler(router = self.tool_router)]
impl ServerHandler for TaskTools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_prompts()
                .enable_resources()
                .build(),
        )
        .with_instructions("A demo task tracker behind toolgate.")
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        Ok(ListPromptsResult::with_all_items(vec![Prompt::new(
            SUMMARY_PROMPT,
            Some("Ask the model to summarize the open tasks."),
            None,
        )]))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        if request.name != SUMMARY_PROMPT {
            return Err(McpError::invalid_params(
                format!("prompt '{}' not found", request.name),
                None,
            ));
        }
        let text = format!(
            "Summarize these open tasks in three bullet points:\n{}",
            json(&self.store.list(Some(false)))
        );
        Ok(GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)]).into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        Ok(ListResourcesResult::with_all_items(vec![Resource::new(
            TASKS_RESOURCE,
            "All tasks",
        )]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        if request.uri != TASKS_RESOURCE {
            return Err(McpError::resource_not_found(
                format!("resource '{}' not found", request.uri),
                None,
            ));
        }
        Ok(ReadResourceResult::new(vec![ResourceContents::text(
            json(&self.store.list(None)),
            TASKS_RESOURCE,
        )])
        .into())
    }
}

impl TaskTools {
    /// The tools as rmcp describes them (names, input schemas, annotations).
    pub fn catalog() -> Vec<rmcp::model::Tool> {
        Self::tool_router().list_all()
    }
}

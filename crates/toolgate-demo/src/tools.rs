//! The five demo tools. Annotations follow MCP: reads are read-only, deletes destructive.

use rmcp::RoleServer;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResult, ContentBlock, GetPromptRequestParams, GetPromptResponse, GetPromptResult, ListPromptsResult,
    ListResourcesResult, PaginatedRequestParams, Prompt, PromptMessage, ReadResourceRequestParams,
    ReadResourceResponse, ReadResourceResult, Resource, ResourceContents, Role, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, ServerHandler, schemars, tool, tool_handler, tool_router};
use serde::{Deserialize, Serialize};

use crate::store::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_PROJECT_CHARS, MAX_TITLE_CHARS, Task, TaskError, TaskStore};

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ListTasks {
    /// `open` or `done`; all tasks when absent.
    pub status: Option<String>,
    /// Continue after the previous page: its `nextCursor`, as given (opaque). First page when
    /// absent.
    pub cursor: Option<String>,
    /// Tasks per page, 1 to 100; 50 when absent.
    #[schemars(range(min = 1, max = MAX_PAGE_SIZE))]
    pub limit: Option<i64>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct TaskId {
    pub id: i64,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct CreateTask {
    /// 1 to 200 characters.
    #[schemars(length(min = 1, max = MAX_TITLE_CHARS))]
    pub title: String,
    /// 1 (low) to 5 (urgent); 3 when absent.
    pub priority: Option<i64>,
    /// At most 64 characters.
    #[schemars(length(max = MAX_PROJECT_CHARS))]
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

/// What `list_tasks` answers: one page, and where the next one starts (MCP's pagination
/// vocabulary: an opaque `nextCursor`, absent on the last page).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TaskList {
    tasks: Vec<Task>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

/// Cursors are opaque to clients; here they carry the last id of the page before.
mod cursor {
    use rmcp::ErrorData as McpError;

    pub(super) fn encode(after: u64) -> String {
        format!("after-{after}")
    }

    /// MCP answers an invalid cursor with -32602 (invalid params).
    pub(super) fn decode(cursor: &str) -> Result<u64, McpError> {
        cursor
            .strip_prefix("after-")
            .and_then(|id| id.parse::<u64>().ok())
            .ok_or_else(|| McpError::invalid_params("invalid cursor: pass `nextCursor` from the previous page", None))
    }
}

#[tool_router]
impl TaskTools {
    #[tool(
        description = "List tasks, optionally filtered by status, a page at a time (oldest first). Pass `nextCursor` from the answer as `cursor` for the next page; no `nextCursor` means no more.",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn list_tasks(
        &self,
        Parameters(ListTasks { status, cursor, limit }): Parameters<ListTasks>,
    ) -> Result<String, McpError> {
        let done = match status.as_deref() {
            None => None,
            Some("open") => Some(false),
            Some("done") => Some(true),
            Some(_) => return Err(McpError::invalid_params("status must be `open` or `done`", None)),
        };
        let after = cursor.as_deref().map(cursor::decode).transpose()?;
        let limit = match limit {
            None => DEFAULT_PAGE_SIZE,
            Some(limit) => usize::try_from(limit)
                .ok()
                .filter(|l| (1..=MAX_PAGE_SIZE).contains(l))
                .ok_or_else(|| McpError::invalid_params(format!("limit must be 1 to {MAX_PAGE_SIZE}"), None))?,
        };
        let page = self.store.page(done, after, limit);
        Ok(json(&TaskList {
            tasks: page.tasks,
            next_cursor: page.next_after.map(cursor::encode),
        }))
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
        description = "Create a task. Priority 1 (low) to 5 (urgent). Titles 1 to 200 characters, projects at most 64; the list holds at most 500 tasks.",
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
    ) -> Result<CallToolResult, McpError> {
        let priority = priority.unwrap_or(3);
        let priority = u8::try_from(priority)
            .ok()
            .filter(|p| (1..=5).contains(p))
            .ok_or_else(|| McpError::invalid_params("priority must be 1 to 5", None))?;
        match self.store.create(title, priority, project) {
            Ok(task) => Ok(CallToolResult::success(vec![ContentBlock::text(json(&task))])),
            // Not the caller's input but the tool's state: a tool error the model can read
            // (MCP: tool execution errors are results with `isError`).
            Err(full @ TaskError::Full(_)) => Ok(CallToolResult::error(vec![ContentBlock::text(full.to_string())])),
            Err(invalid) => Err(McpError::invalid_params(invalid.to_string(), None)),
        }
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
        // One page of open tasks at most, so the prompt stays bounded however many there are.
        let page = self.store.page(Some(false), None, MAX_PAGE_SIZE);
        let more = if page.next_after.is_some() {
            format!("\n(Only the oldest {MAX_PAGE_SIZE} open tasks are shown.)")
        } else {
            String::new()
        };
        let text = format!(
            "Summarize these open tasks in three bullet points:\n{}{more}",
            json(&page.tasks)
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::store::MAX_TASKS;

    fn tool(name: &str) -> rmcp::model::Tool {
        TaskTools::catalog().into_iter().find(|t| t.name == name).unwrap()
    }

    /// What clients read (schema, description) states the limits the store enforces.
    #[test]
    fn schemas_and_descriptions_state_the_limits() {
        let create = tool("create_task");
        let props = &create.input_schema["properties"];
        assert_eq!(props["title"]["maxLength"], MAX_TITLE_CHARS);
        assert_eq!(props["title"]["minLength"], 1);
        assert_eq!(props["project"]["maxLength"], MAX_PROJECT_CHARS);
        let description = create.description.unwrap_or_default();
        for limit in [MAX_TITLE_CHARS, MAX_PROJECT_CHARS, MAX_TASKS] {
            assert!(description.contains(&limit.to_string()), "{description}");
        }
        let list = tool("list_tasks");
        let props = &list.input_schema["properties"];
        assert_eq!(props["limit"]["maximum"], MAX_PAGE_SIZE);
        assert_eq!(props["limit"]["minimum"], 1);
        assert!(props["cursor"]["type"].to_string().contains("string"), "{props}");
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_invalid_params() {
        assert_eq!(cursor::decode(&cursor::encode(42)).unwrap(), 42);
        for bad in [
            "",
            "42",
            "after-",
            "after--1",
            "after-x",
            "after-99999999999999999999999",
        ] {
            let error = cursor::decode(bad).unwrap_err();
            assert_eq!(error.code, rmcp::model::ErrorCode::INVALID_PARAMS, "{bad}");
        }
    }
}

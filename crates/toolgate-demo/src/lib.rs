//! The demo tool set: a tiny in-memory task tracker written with rmcp's tool macros, exactly
//! as an embedder would write their own tools. `toolgate dev`, the examples, the tests and the
//! benchmarks put the gate in front of it.

mod store;
mod tools;

pub use store::{
    DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_PROJECT_CHARS, MAX_TASKS, MAX_TITLE_CHARS, Task, TaskError, TaskPage,
    TaskStore,
};
pub use tools::{SUMMARY_PROMPT, TASKS_RESOURCE, TaskTools};

/// Tags of the demo tools (the policies use them: `resource.tags.contains("dangerous")`).
pub fn tool_tags() -> std::collections::HashMap<String, Vec<String>> {
    [
        ("list_tasks", vec!["read"]),
        ("get_task", vec!["read"]),
        ("create_task", vec!["write"]),
        ("delete_task", vec!["write"]),
        ("purge_tasks", vec!["admin", "dangerous"]),
    ]
    .into_iter()
    .map(|(name, tags)| (name.to_owned(), tags.into_iter().map(str::to_owned).collect()))
    .collect()
}

//! Tasks kept in memory, shared by every session of one server. Bounded: at most
//! [`MAX_TASKS`] tasks (creation beyond is refused), titles and project names of bounded length,
//! and lists come in pages of at most [`MAX_PAGE_SIZE`].

use std::sync::Arc;

use parking_lot::Mutex;
use serde::Serialize;

/// Tasks one store holds by default; creating one more is refused until some are deleted.
pub const MAX_TASKS: usize = 500;
/// Longest title, in characters (Unicode scalar values, as JSON Schema's `maxLength` counts).
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest project name, in characters.
pub const MAX_PROJECT_CHARS: usize = 64;
/// Tasks per page when the caller names no `limit`.
pub const DEFAULT_PAGE_SIZE: usize = 50;
/// Largest page a caller may ask for.
pub const MAX_PAGE_SIZE: usize = 100;
const _: () = assert!(DEFAULT_PAGE_SIZE <= MAX_PAGE_SIZE);

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Task {
    pub id: u64,
    pub title: String,
    pub priority: u8,
    pub project: Option<String>,
    pub done: bool,
}

/// Why a task was not created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TaskError {
    #[error("title must be 1 to {MAX_TITLE_CHARS} characters (got {0})")]
    Title(usize),
    #[error("project must be at most {MAX_PROJECT_CHARS} characters (got {0})")]
    Project(usize),
    #[error("the task list is full ({0} tasks): delete some before creating more")]
    Full(usize),
}

/// One page of tasks, oldest first; `next_after` is the id to continue after when more follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskPage {
    pub tasks: Vec<Task>,
    pub next_after: Option<u64>,
}

#[derive(Debug, Default)]
struct Inner {
    last_id: u64,
    /// Ordered by id (ids only grow), so "after id N" pages are stable across deletions.
    tasks: Vec<Task>,
}

#[derive(Debug, Clone)]
pub struct TaskStore {
    inner: Arc<Mutex<Inner>>,
    max_tasks: usize,
}

impl Default for TaskStore {
    fn default() -> Self {
        Self::with_max_tasks(MAX_TASKS)
    }
}

impl TaskStore {
    /// An empty store holding at most `max_tasks` tasks.
    pub fn with_max_tasks(max_tasks: usize) -> Self {
        Self {
            inner: Arc::default(),
            max_tasks,
        }
    }

    /// A store with a few tasks, so listing shows something.
    pub fn seeded() -> Self {
        let store = Self::default();
        for (title, priority, project) in [
            ("Rotate the signing keys", 3, "security"),
            ("Write the policy cookbook", 2, "docs"),
        ] {
            // Within every limit by construction; a refusal would only leave the store emptier.
            let _ = store.create(title.into(), priority, Some(project.into()));
        }
        store
    }

    /// The most tasks this store holds.
    pub fn max_tasks(&self) -> usize {
        self.max_tasks
    }

    /// Adds a task. Errors: an empty or over-long title ([`MAX_TITLE_CHARS`]), an over-long
    /// project ([`MAX_PROJECT_CHARS`]), or a full store ([`TaskStore::max_tasks`]).
    pub fn create(&self, title: String, priority: u8, project: Option<String>) -> Result<Task, TaskError> {
        let title_chars = title.chars().count();
        if title_chars == 0 || title_chars > MAX_TITLE_CHARS {
            return Err(TaskError::Title(title_chars));
        }
        if let Some(project_chars) = project.as_deref().map(|p| p.chars().count())
            && project_chars > MAX_PROJECT_CHARS
        {
            return Err(TaskError::Project(project_chars));
        }
        let mut guard = self.inner.lock();
        if guard.tasks.len() >= self.max_tasks {
            return Err(TaskError::Full(self.max_tasks));
        }
        guard.last_id += 1;
        let task = Task {
            id: guard.last_id,
            title,
            priority,
            project,
            done: false,
        };
        guard.tasks.push(task.clone());
        Ok(task)
    }

    /// Every task (optionally only open or done ones), oldest first; at most
    /// [`TaskStore::max_tasks`].
    pub fn list(&self, done: Option<bool>) -> Vec<Task> {
        self.inner
            .lock()
            .tasks
            .iter()
            .filter(|t| done.is_none_or(|d| t.done == d))
            .cloned()
            .collect()
    }

    /// Up to `limit` tasks (clamped to 1..=[`MAX_PAGE_SIZE`]) with ids above `after`, oldest
    /// first.
    pub fn page(&self, done: Option<bool>, after: Option<u64>, limit: usize) -> TaskPage {
        let limit = limit.clamp(1, MAX_PAGE_SIZE);
        let guard = self.inner.lock();
        let mut matching = guard
            .tasks
            .iter()
            .filter(|t| after.is_none_or(|after| t.id > after))
            .filter(|t| done.is_none_or(|d| t.done == d));
        let tasks: Vec<Task> = matching.by_ref().take(limit).cloned().collect();
        let more = matching.next().is_some();
        let next_after = if more { tasks.last().map(|t| t.id) } else { None };
        TaskPage { tasks, next_after }
    }

    pub fn len(&self) -> usize {
        self.inner.lock().tasks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, id: u64) -> Option<Task> {
        self.inner.lock().tasks.iter().find(|t| t.id == id).cloned()
    }

    pub fn delete(&self, id: u64) -> bool {
        let mut guard = self.inner.lock();
        let before = guard.tasks.len();
        guard.tasks.retain(|t| t.id != id);
        guard.tasks.len() != before
    }

    pub fn purge(&self) -> usize {
        let mut guard = self.inner.lock();
        let count = guard.tasks.len();
        guard.tasks.clear();
        count
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn titles_and_projects_are_bounded_in_characters_not_bytes() {
        let store = TaskStore::default();
        let longest = "é".repeat(MAX_TITLE_CHARS);
        assert_eq!(store.create(longest.clone(), 3, None).unwrap().title, longest);
        assert_eq!(
            store.create(format!("{longest}x"), 3, None),
            Err(TaskError::Title(MAX_TITLE_CHARS + 1))
        );
        assert_eq!(store.create(String::new(), 3, None), Err(TaskError::Title(0)));
        // A megabyte title is refused without being stored.
        assert!(store.create("a".repeat(1 << 20), 3, None).is_err());
        let project = "p".repeat(MAX_PROJECT_CHARS + 1);
        assert_eq!(
            store.create("t".into(), 3, Some(project)),
            Err(TaskError::Project(MAX_PROJECT_CHARS + 1))
        );
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn a_full_store_refuses_until_a_task_is_deleted() {
        let store = TaskStore::with_max_tasks(3);
        for i in 0..3 {
            store.create(format!("t{i}"), 3, None).unwrap();
        }
        assert_eq!(store.create("t3".into(), 3, None), Err(TaskError::Full(3)));
        assert_eq!(store.len(), 3);
        assert!(store.delete(2));
        assert_eq!(store.create("t3".into(), 3, None).unwrap().id, 4);
        assert_eq!(TaskStore::default().max_tasks(), MAX_TASKS);
    }

    #[test]
    fn pages_follow_ids_and_survive_deletions() {
        let store = TaskStore::default();
        for i in 1..=5 {
            store.create(format!("t{i}"), 3, None).unwrap();
        }
        let first = store.page(None, None, 2);
        assert_eq!(first.tasks.iter().map(|t| t.id).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(first.next_after, Some(2));
        // Deleting an already-listed task shifts nothing.
        store.delete(1);
        let second = store.page(None, first.next_after, 2);
        assert_eq!(second.tasks.iter().map(|t| t.id).collect::<Vec<_>>(), [3, 4]);
        let last = store.page(None, second.next_after, 2);
        assert_eq!(last.tasks.iter().map(|t| t.id).collect::<Vec<_>>(), [5]);
        assert_eq!(last.next_after, None);
        // An exact fit has no next page.
        assert_eq!(store.page(None, Some(2), 3).next_after, None);
        // The limit is clamped.
        assert_eq!(store.page(None, None, 0).tasks.len(), 1);
        for i in 0..150 {
            store.create(format!("more {i}"), 3, None).unwrap();
        }
        assert_eq!(store.page(None, None, 10_000).tasks.len(), MAX_PAGE_SIZE);
    }
}

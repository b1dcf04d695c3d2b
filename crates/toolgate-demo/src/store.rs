//! Tasks kept in memory, shared by every session of one server.

use std::sync::Arc;

use parking_lot::Mutex;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Task {
    pub id: u64,
    pub title: String,
    pub priority: u8,
    pub project: Option<String>,
    pub done: bool,
}

#[derive(Debug, Clone, Default)]
pub struct TaskStore {
    inner: Arc<Mutex<(u64, Vec<Task>)>>,
}

impl TaskStore {
    /// A store with a few tasks, so listing shows something.
    pub fn seeded() -> Self {
        let store = Self::default();
        store.create("Rotate the signing keys".into(), 3, Some("security".into()));
        store.create("Write the policy cookbook".into(), 2, Some("docs".into()));
        store
    }

    pub fn create(&self, title: String, priority: u8, project: Option<String>) -> Task {
        let mut guard = self.inner.lock();
        guard.0 += 1;
        let task = Task {
            id: guard.0,
            title,
            priority,
            project,
            done: false,
        };
        guard.1.push(task.clone());
        task
    }

    pub fn list(&self, done: Option<bool>) -> Vec<Task> {
        self.inner
            .lock()
            .1
            .iter()
            .filter(|t| done.is_none_or(|d| t.done == d))
            .cloned()
            .collect()
    }

    pub fn get(&self, id: u64) -> Option<Task> {
        self.inner.lock().1.iter().find(|t| t.id == id).cloned()
    }

    pub fn delete(&self, id: u64) -> bool {
        let mut guard = self.inner.lock();
        let before = guard.1.len();
        guard.1.retain(|t| t.id != id);
        guard.1.len() != before
    }

    pub fn purge(&self) -> usize {
        let mut guard = self.inner.lock();
        let count = guard.1.len();
        guard.1.clear();
        count
    }
}

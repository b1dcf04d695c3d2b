//! State the background task shares with the handles: health figures and the "spool full" flag
//! that `record()` consults.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use parking_lot::Mutex;
use serde::Serialize;
use tokio::sync::watch;

/// A snapshot of the writer, for `/health` and metrics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditHealth {
    /// Events (and flush requests) waiting in memory for the background task.
    pub queue_depth: usize,
    /// Events in the spool file, waiting to be replayed.
    pub spooled_events: u64,
    /// Size of the spool file.
    pub spool_bytes: u64,
    /// The spool reached `spool_max_bytes`: `on_spool_full` applies to new events.
    pub spool_full: bool,
    /// Whether the last database operation succeeded.
    pub database_available: bool,
    /// Events committed to the database since start.
    pub committed_events: u64,
    /// The last database error, kept after recovery for diagnosis.
    pub last_db_error: Option<String>,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) spooled_events: AtomicU64,
    pub(crate) spool_bytes: AtomicU64,
    pub(crate) database_available: AtomicBool,
    pub(crate) committed_events: AtomicU64,
    pub(crate) last_db_error: Mutex<Option<String>>,
    /// `true` while events are held in memory because the spool had no room for them.
    pub(crate) spool_full: watch::Sender<bool>,
}

impl Shared {
    pub(crate) fn new() -> Self {
        Self {
            spooled_events: AtomicU64::new(0),
            spool_bytes: AtomicU64::new(0),
            database_available: AtomicBool::new(false),
            committed_events: AtomicU64::new(0),
            last_db_error: Mutex::new(None),
            spool_full: watch::Sender::new(false),
        }
    }

    pub(crate) fn db_ok(&self, committed: u64) {
        self.database_available.store(true, Ordering::Relaxed);
        self.committed_events.fetch_add(committed, Ordering::Relaxed);
    }

    pub(crate) fn db_failed(&self, error: String) {
        self.database_available.store(false, Ordering::Relaxed);
        *self.last_db_error.lock() = Some(error);
    }

    pub(crate) fn set_spool(&self, events: u64, bytes: u64) {
        self.spooled_events.store(events, Ordering::Relaxed);
        self.spool_bytes.store(bytes, Ordering::Relaxed);
    }

    pub(crate) fn set_spool_full(&self, full: bool) {
        self.spool_full.send_if_modified(|current| {
            let changed = *current != full;
            *current = full;
            changed
        });
    }

    pub(crate) fn snapshot(&self, queue_depth: usize) -> AuditHealth {
        AuditHealth {
            queue_depth,
            spooled_events: self.spooled_events.load(Ordering::Relaxed),
            spool_bytes: self.spool_bytes.load(Ordering::Relaxed),
            spool_full: *self.spool_full.borrow(),
            database_available: self.database_available.load(Ordering::Relaxed),
            committed_events: self.committed_events.load(Ordering::Relaxed),
            last_db_error: self.last_db_error.lock().clone(),
        }
    }
}

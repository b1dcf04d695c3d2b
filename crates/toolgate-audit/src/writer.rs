//! The handle the gate records events through. `record()` only enqueues; the background task
//! ([`crate::task`]) writes.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use toolgate_core::{AuditEvent, AuditSink, AuditUnavailable};

use crate::config::{AuditConfig, SpoolFullPolicy};
use crate::connect;
use crate::error::AuditError;
use crate::health::{AuditHealth, Shared};
use crate::spool::Spool;
use crate::task::{Command, Queued, Task};

/// Writes audit events to the database in batches, spooling them to disk while it is down.
/// Cheap to clone; every clone feeds the same background task.
#[derive(Clone)]
pub struct AuditWriter {
    inner: Arc<Inner>,
}

struct Inner {
    tx: mpsc::Sender<Command>,
    shared: Arc<Shared>,
    policy: SpoolFullPolicy,
    shutdown: watch::Sender<bool>,
    task: tokio::sync::Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for AuditWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditWriter")
            .field("policy", &self.inner.policy)
            .field("health", &self.health())
            .finish()
    }
}

impl AuditWriter {
    /// Connects, migrates, replays a spool left by a previous run and starts the background
    /// task. An unreachable database is not an error (events are spooled until it answers);
    /// a malformed URL, an invalid configuration or an unusable spool file is.
    pub async fn start(config: AuditConfig) -> Result<Self, AuditError> {
        config.validate()?;
        let db = connect::open(&config.database_url, config.connect_timeout, config.sqlite_synchronous).await?;
        let spool = Spool::open(&config.spool_path, config.spool_max_bytes).await?;
        let shared = Arc::new(Shared::new());
        shared.set_spool(spool.events(), spool.bytes());
        let (tx, rx) = mpsc::channel(config.queue_capacity);
        let (shutdown, shutdown_rx) = watch::channel(false);
        let mut task = Task::new(&config, db, rx, spool, shared.clone(), shutdown_rx);
        task.start_up().await;
        let handle = tokio::spawn(task.run());
        Ok(Self {
            inner: Arc::new(Inner {
                tx,
                shared,
                policy: config.on_spool_full,
                shutdown,
                task: tokio::sync::Mutex::new(Some(handle)),
            }),
        })
    }

    /// Returns once every event recorded before the call is committed or spooled (and, if the
    /// database answers, the spool replayed). Waits while the spool is full and the database
    /// down; returns at once after [`shutdown`](Self::shutdown).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.inner.tx.send(Command::Flush(done)).await.is_ok() {
            // An error means the task stopped, which flushes everything first.
            let _ = wait.await;
        }
    }

    /// Stops taking events, writes (or spools) everything accepted, and stops the task.
    /// Later `record()` calls fail with `AuditUnavailable`.
    pub async fn shutdown(&self) {
        self.inner.shutdown.send_replace(true);
        let handle = self.inner.task.lock().await.take();
        if let Some(handle) = handle
            && let Err(error) = handle.await
        {
            tracing::error!(%error, "audit writer task failed");
        }
    }

    /// Queue depth, spool size and the last database error.
    pub fn health(&self) -> AuditHealth {
        let tx = &self.inner.tx;
        self.inner
            .shared
            .snapshot(tx.max_capacity().saturating_sub(tx.capacity()))
    }
}

fn stopped() -> AuditUnavailable {
    AuditUnavailable("the audit writer is shut down".to_owned())
}

impl AuditWriter {
    /// Enqueues `event` (bounded to [`toolgate_core::audit_limits`]). Under `FailClosed` refuses
    /// at once when the spool is full (database down) or the queue is full; under `Block` waits
    /// for room.
    async fn enqueue(&self, event: AuditEvent, ack: Option<crate::task::Ack>) -> Result<(), AuditUnavailable> {
        let inner = &self.inner;
        let command = Command::Event(Box::new(Queued {
            event: event.bounded(),
            ack,
        }));
        match inner.policy {
            SpoolFullPolicy::FailClosed => {
                if *inner.shared.spool_full.borrow() {
                    return Err(AuditUnavailable("audit database unreachable and spool full".to_owned()));
                }
                inner.tx.try_send(command).map_err(|error| match error {
                    mpsc::error::TrySendError::Full(_) => AuditUnavailable("audit queue full".to_owned()),
                    mpsc::error::TrySendError::Closed(_) => stopped(),
                })
            }
            SpoolFullPolicy::Block => {
                let mut full = inner.shared.spool_full.subscribe();
                full.wait_for(|full| !*full).await.map_err(|_| stopped())?;
                inner.tx.send(command).await.map_err(|_| stopped())
            }
        }
    }
}

/// Authentication failures may take the queue only while more than this share of it is free:
/// a flood of them cannot crowd out the events of authorized calls.
const UNPRIVILEGED_QUEUE_SHARE: usize = 2;

#[async_trait]
impl AuditSink for AuditWriter {
    async fn record(&self, event: AuditEvent) -> Result<(), AuditUnavailable> {
        self.enqueue(event, None).await
    }

    /// Enqueues `event` and waits until the background task has committed it or written it to
    /// the fsynced spool. Refused (under `FailClosed`) when neither is possible.
    async fn record_durable(&self, event: AuditEvent) -> Result<(), AuditUnavailable> {
        let (ack, acked) = oneshot::channel();
        self.enqueue(event, Some(ack)).await?;
        acked.await.map_err(|_| stopped())?
    }

    fn try_record_unprivileged(&self, event: AuditEvent) -> bool {
        let inner = &self.inner;
        let tx = &inner.tx;
        if *inner.shared.spool_full.borrow() || tx.capacity() <= tx.max_capacity() / UNPRIVILEGED_QUEUE_SHARE {
            return false;
        }
        tx.try_send(Command::Event(Box::new(Queued {
            event: event.bounded(),
            ack: None,
        })))
        .is_ok()
    }
}

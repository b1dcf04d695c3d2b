//! The background task: turns the queue into batched INSERTs, spools batches the database
//! cannot take, and replays the spool once the database answers again.
//!
//! Order is kept: while the spool holds events, new batches go behind them into the spool, and
//! the spool is replayed oldest first before anything is inserted directly.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::{Instant, MissedTickBehavior};
use toolgate_core::{AuditEvent, AuditUnavailable};

use crate::config::{AuditConfig, SpoolFullPolicy};
use crate::health::Shared;
use crate::insert::insert_events;
use crate::spool::Spool;

/// Told whether an event became durable (committed, or written to the fsynced spool).
pub(crate) type Ack = oneshot::Sender<Result<(), AuditUnavailable>>;

/// An event on its way, with the waiter to tell once it is durable (if any).
#[derive(Debug)]
pub(crate) struct Queued {
    pub(crate) event: AuditEvent,
    pub(crate) ack: Option<Ack>,
}

impl Queued {
    fn done(self, result: Result<(), AuditUnavailable>) {
        if let Some(ack) = self.ack {
            let _ = ack.send(result);
        }
    }
}

/// What handles send to the task.
#[derive(Debug)]
pub(crate) enum Command {
    Event(Box<Queued>),
    /// Answered once everything sent before it is committed or spooled.
    Flush(oneshot::Sender<()>),
}

/// What woke the task up.
enum Wake {
    Command(Option<Command>),
    Retry,
    Shutdown,
}

pub(crate) struct Task {
    db: DatabaseConnection,
    rx: mpsc::Receiver<Command>,
    spool: Spool,
    shared: Arc<Shared>,
    shutdown: watch::Receiver<bool>,
    batch_size: usize,
    flush_interval: Duration,
    replay_interval: Duration,
    policy: SpoolFullPolicy,
    /// Events neither committed nor spooled because the spool had no room; while any are held
    /// the task reads nothing new from the queue.
    held: Vec<Queued>,
    /// Migrations ran (they cannot while the database is down at start).
    migrated: bool,
    /// The last database attempt failed: new batches go to the spool until a replay succeeds.
    db_down: bool,
}

impl Task {
    pub(crate) fn new(
        config: &AuditConfig,
        db: DatabaseConnection,
        rx: mpsc::Receiver<Command>,
        spool: Spool,
        shared: Arc<Shared>,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        Self {
            db,
            rx,
            spool,
            shared,
            shutdown,
            batch_size: config.batch_size,
            flush_interval: config.flush_interval,
            replay_interval: config.replay_interval,
            policy: config.on_spool_full,
            held: Vec::new(),
            migrated: false,
            db_down: false,
        }
    }

    /// Migrates and replays a spool left by a previous run. Never fails: an unreachable
    /// database only means events are spooled until it comes back.
    pub(crate) async fn start_up(&mut self) {
        if !self.ensure_migrated().await {
            return;
        }
        if !self.spool.is_empty() {
            self.replay().await;
        }
    }

    pub(crate) async fn run(mut self) {
        let mut retry = tokio::time::interval_at(Instant::now() + self.replay_interval, self.replay_interval);
        retry.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            let stuck = !self.held.is_empty();
            let needs_retry = stuck || self.db_down || !self.spool.is_empty();
            let wake = tokio::select! {
                command = self.rx.recv(), if !stuck => Wake::Command(command),
                _ = retry.tick(), if needs_retry => Wake::Retry,
                _ = wait_for_shutdown(&mut self.shutdown) => Wake::Shutdown,
            };
            match wake {
                Wake::Command(Some(first)) => self.handle_batch(first).await,
                Wake::Retry => self.recover().await,
                // Every handle is gone, or shutdown() was called.
                Wake::Command(None) | Wake::Shutdown => break,
            }
        }
        self.finish().await;
    }

    /// Collects up to `batch_size` events or until `flush_interval` has passed (or a flush is
    /// asked for), then writes them. An event someone waits on (a call's decision, which must be
    /// durable before the call runs) ends the collection as soon as the queue is empty: group
    /// commit — under load batches stay large, alone an event costs one commit, never a wait.
    async fn handle_batch(&mut self, first: Command) {
        let mut batch = Vec::new();
        let mut flushes = Vec::new();
        sort(first, &mut batch, &mut flushes);
        let deadline = Instant::now() + self.flush_interval;
        while batch.len() < self.batch_size && flushes.is_empty() {
            if batch.iter().any(|queued| queued.ack.is_some()) {
                match self.rx.try_recv() {
                    Ok(command) => sort(command, &mut batch, &mut flushes),
                    Err(_) => break,
                }
                continue;
            }
            // Shutdown ends the wait too: the main loop then finishes and writes everything.
            let next = tokio::select! {
                next = tokio::time::timeout_at(deadline, self.rx.recv()) => next,
                _ = wait_for_shutdown(&mut self.shutdown) => break,
            };
            match next {
                Ok(Some(command)) => sort(command, &mut batch, &mut flushes),
                // Closed: the main loop sees it next and finishes.
                Ok(None) | Err(_) => break,
            }
        }
        self.write(batch).await;
        if !flushes.is_empty() {
            // A flush also gives the spool a chance, so that "flushed" after an outage means
            // "in the database" as soon as the database is back.
            if self.held.is_empty() && !self.spool.is_empty() {
                self.recover().await;
            }
            for flush in flushes {
                let _ = flush.send(());
            }
        }
    }

    async fn write(&mut self, batch: Vec<Queued>) {
        if batch.is_empty() {
            return;
        }
        if !self.db_down && !self.spool.is_empty() {
            self.replay().await;
        }
        if !self.db_down && self.spool.is_empty() && self.commit_queued(&batch).await {
            acknowledge(batch);
            return;
        }
        self.spool_or_hold(batch).await;
    }

    /// Commits the events of `batch`.
    async fn commit_queued(&mut self, batch: &[Queued]) -> bool {
        let events: Vec<AuditEvent> = batch.iter().map(|queued| queued.event.clone()).collect();
        self.commit(&events).await
    }

    /// Replays the spool, then places held events. Runs every `replay_interval` while the
    /// database is down or the spool is not empty.
    async fn recover(&mut self) {
        if !self.spool.is_empty() && !self.replay().await {
            return;
        }
        if self.held.is_empty() {
            // Nothing waits: let the next batch try the database directly.
            self.db_down = false;
            self.shared.set_spool_full(false);
            return;
        }
        let held = std::mem::take(&mut self.held);
        if self.commit_queued(&held).await {
            acknowledge(held);
        } else {
            self.spool_or_hold(held).await;
        }
        self.shared.set_spool_full(!self.held.is_empty());
    }

    /// Commits the spool oldest first and empties it. `true` when the spool is now empty.
    async fn replay(&mut self) -> bool {
        let events = match self.spool.read_all().await {
            Ok(events) => events,
            Err(error) => {
                tracing::error!(%error, "cannot read the audit spool");
                return false;
            }
        };
        for chunk in events.chunks(self.batch_size) {
            if !self.commit(chunk).await {
                return false;
            }
        }
        if let Err(error) = self.spool.truncate().await {
            // Committed but still spooled: the next replay inserts nothing new.
            tracing::error!(%error, "cannot empty the audit spool");
            return false;
        }
        self.publish_spool();
        tracing::info!(events = events.len(), "audit spool replayed");
        true
    }

    /// Inserts `events`; on failure records the error and marks the database down.
    async fn commit(&mut self, events: &[AuditEvent]) -> bool {
        if !self.ensure_migrated().await {
            return false;
        }
        match insert_events(&self.db, events).await {
            Ok(_) => {
                self.db_down = false;
                self.shared.db_ok(events.len() as u64);
                true
            }
            Err(error) => {
                self.failed(format!("insert: {error}"));
                false
            }
        }
    }

    async fn ensure_migrated(&mut self) -> bool {
        if self.migrated {
            return true;
        }
        match toolgate_migrations::migrate(&self.db).await {
            Ok(()) => {
                self.migrated = true;
                self.db_down = false;
                self.shared.db_ok(0);
                true
            }
            Err(error) => {
                self.failed(format!("migrate: {error}"));
                false
            }
        }
    }

    fn failed(&mut self, error: String) {
        if !self.db_down {
            tracing::warn!(%error, "audit database unavailable, spooling events");
        }
        self.db_down = true;
        self.shared.db_failed(error);
    }

    /// Appends what fits to the spool and holds the rest in memory (spool full). A held event
    /// someone waits on is refused at once under `fail_closed` (its call will not run) and
    /// waits for room under `block`.
    async fn spool_or_hold(&mut self, batch: Vec<Queued>) {
        let events: Vec<AuditEvent> = batch.iter().map(|queued| queued.event.clone()).collect();
        let written = match self.spool.append(&events, false).await {
            Ok(written) => written,
            Err(error) => {
                tracing::error!(%error, "cannot write the audit spool, holding events in memory");
                0
            }
        };
        let mut rest = batch.into_iter();
        acknowledge(rest.by_ref().take(written));
        let mut refused = false;
        for queued in rest {
            if queued.ack.is_some() && self.policy == SpoolFullPolicy::FailClosed {
                refused = true;
                tracing::error!(event_id = %queued.event.event_id,
                    "audit database unreachable and spool full: refusing a decision (its call does not run)");
                queued.done(Err(AuditUnavailable(
                    "audit database unreachable and spool full".to_owned(),
                )));
            } else {
                self.held.push(queued);
            }
        }
        self.publish_spool();
        if !self.held.is_empty() {
            tracing::warn!(held = self.held.len(), "audit spool full");
        }
        self.shared.set_spool_full(!self.held.is_empty() || refused);
    }

    fn publish_spool(&self) {
        self.shared.set_spool(self.spool.events(), self.spool.bytes());
    }

    /// Stops taking events and places every accepted one: in the database if it is up,
    /// otherwise in the spool even beyond its limit (losing events would be worse).
    async fn finish(mut self) {
        self.rx.close();
        let mut batch = std::mem::take(&mut self.held);
        let mut flushes = Vec::new();
        while let Some(command) = self.rx.recv().await {
            sort(command, &mut batch, &mut flushes);
        }
        let committed = !batch.is_empty()
            && !self.db_down
            && (self.spool.is_empty() || self.replay().await)
            && self.commit_queued(&batch).await;
        if committed {
            acknowledge(batch);
        } else if !batch.is_empty() {
            let events: Vec<AuditEvent> = batch.iter().map(|queued| queued.event.clone()).collect();
            match self.spool.append(&events, true).await {
                Ok(_) => {
                    tracing::info!(events = events.len(), "audit events spooled at shutdown");
                    acknowledge(batch);
                }
                Err(error) => {
                    tracing::error!(%error, lost = events.len(),
                        "audit events lost at shutdown: the spool cannot be written");
                    for queued in batch {
                        queued.done(Err(AuditUnavailable("the audit spool cannot be written".to_owned())));
                    }
                }
            }
        }
        self.publish_spool();
        self.shared.set_spool_full(false);
        for flush in flushes {
            let _ = flush.send(());
        }
    }
}

fn sort(command: Command, batch: &mut Vec<Queued>, flushes: &mut Vec<oneshot::Sender<()>>) {
    match command {
        Command::Event(queued) => batch.push(*queued),
        Command::Flush(done) => flushes.push(done),
    }
}

/// Tells every waiter in `placed` that its event is durable.
fn acknowledge(placed: impl IntoIterator<Item = Queued>) {
    for queued in placed {
        queued.done(Ok(()));
    }
}

/// Resolves once shutdown is asked for, or when every handle (and so the sender) is gone.
async fn wait_for_shutdown(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

//! The spool: an append-only file of JSON lines holding events the database could not take.
//! Each append is fsynced before the events count as safe; the file is emptied only after
//! every event in it has been committed, so a crash at any point loses nothing (a replay may
//! insert an event twice, which the unique `event_id` turns into a no-op).

use std::path::{Path, PathBuf};

use tokio::fs::{File, OpenOptions};
use tokio::io::AsyncWriteExt;
use toolgate_core::AuditEvent;

use crate::error::AuditError;

#[derive(Debug)]
pub(crate) struct Spool {
    path: PathBuf,
    file: File,
    max_bytes: u64,
    bytes: u64,
    events: u64,
}

impl Spool {
    /// Opens (or creates) the spool and counts the events left by a previous run.
    pub(crate) async fn open(path: &Path, max_bytes: u64) -> Result<Self, AuditError> {
        let err = |source| AuditError::Spool {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(dir).await.map_err(err)?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(path)
            .await
            .map_err(err)?;
        let content = tokio::fs::read(path).await.map_err(err)?;
        let mut bytes = content.len() as u64;
        // A crash mid-append leaves a torn last line; end it so the next append starts clean
        // (the torn line is skipped, with a warning, at replay).
        if content.last().is_some_and(|b| *b != b'\n') {
            file.write_all(b"\n").await.map_err(err)?;
            file.sync_data().await.map_err(err)?;
            bytes += 1;
        }
        let events = parse_lines(&content, path).len() as u64;
        Ok(Self {
            path: path.to_owned(),
            file,
            max_bytes,
            bytes,
            events,
        })
    }

    pub(crate) fn events(&self) -> u64 {
        self.events
    }

    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.events == 0
    }

    /// Appends as many of `events` (from the front) as fit under the size limit, fsyncs, and
    /// returns how many were written. `force` ignores the limit (used at shutdown, where
    /// exceeding it beats losing events).
    pub(crate) async fn append(&mut self, events: &[AuditEvent], force: bool) -> Result<usize, AuditError> {
        let mut buffer = Vec::new();
        let mut taken = 0;
        for event in events {
            let mut line = serde_json::to_vec(event).map_err(|e| self.io_err(e.into()))?;
            line.push(b'\n');
            let size = self.bytes + buffer.len() as u64 + line.len() as u64;
            if !force && size > self.max_bytes {
                break;
            }
            buffer.extend_from_slice(&line);
            taken += 1;
        }
        if taken == 0 {
            return Ok(0);
        }
        self.file.write_all(&buffer).await.map_err(|e| self.io_err(e))?;
        self.file.sync_data().await.map_err(|e| self.io_err(e))?;
        self.bytes += buffer.len() as u64;
        self.events += taken as u64;
        Ok(taken)
    }

    /// Every event in the spool, oldest first.
    pub(crate) async fn read_all(&self) -> Result<Vec<AuditEvent>, AuditError> {
        let content = tokio::fs::read(&self.path).await.map_err(|e| self.io_err(e))?;
        Ok(parse_lines(&content, &self.path))
    }

    /// Empties the spool; call only once its events are committed.
    pub(crate) async fn truncate(&mut self) -> Result<(), AuditError> {
        self.file.set_len(0).await.map_err(|e| self.io_err(e))?;
        self.file.sync_all().await.map_err(|e| self.io_err(e))?;
        self.bytes = 0;
        self.events = 0;
        Ok(())
    }

    fn io_err(&self, source: std::io::Error) -> AuditError {
        AuditError::Spool {
            path: self.path.clone(),
            source,
        }
    }
}

fn parse_lines(content: &[u8], path: &Path) -> Vec<AuditEvent> {
    content
        .split(|b| *b == b'\n')
        .enumerate()
        .filter(|(_, line)| !line.is_empty())
        .filter_map(|(index, line)| match serde_json::from_slice(line) {
            Ok(event) => Some(event),
            Err(error) => {
                tracing::warn!(path = %path.display(), line = index + 1, %error,
                    "skipping unreadable audit spool line");
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use toolgate_core::AuditDecision;

    fn event(n: u32) -> AuditEvent {
        AuditEvent {
            event_id: format!("e{n}"),
            occurred_at_ms: 1_700_000_000_000 + i64::from(n),
            request_id: format!("r{n}"),
            session_id: None,
            principal_id: Some("alice".into()),
            tenant_id: None,
            client_app_id: None,
            provider: "entra".into(),
            method: "tools/call".into(),
            tool: Some("echo".into()),
            decision: AuditDecision::Allow,
            policy_ids: vec!["p1".into()],
            policy_set_hash: None,
            argument_digest: None,
            arguments: None,
            latency_us: 5,
            outcome: toolgate_core::AuditOutcome::Ok,
            reason_code: None,
            upstream: None,
            upstream_item: None,
            write: Default::default(),
        }
    }

    #[tokio::test]
    async fn append_respects_the_limit_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/spool.jsonl");
        let one_line = serde_json::to_vec(&event(0)).unwrap().len() as u64 + 1;
        let mut spool = Spool::open(&path, one_line * 2 + 1).await.unwrap();
        let events: Vec<_> = (0..3).map(event).collect();
        assert_eq!(spool.append(&events, false).await.unwrap(), 2);
        assert_eq!(spool.append(&events[2..], false).await.unwrap(), 0);
        assert_eq!(spool.append(&events[2..], true).await.unwrap(), 1);
        drop(spool);

        let mut spool = Spool::open(&path, 1 << 20).await.unwrap();
        assert_eq!(spool.events(), 3);
        assert_eq!(spool.read_all().await.unwrap(), events);
        spool.truncate().await.unwrap();
        assert!(spool.is_empty());
        spool.append(&events[..1], false).await.unwrap();
        assert_eq!(spool.read_all().await.unwrap(), events[..1].to_vec());
    }

    #[tokio::test]
    async fn a_torn_last_line_is_skipped_and_does_not_corrupt_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spool.jsonl");
        let mut content = serde_json::to_vec(&event(1)).unwrap();
        content.extend_from_slice(b"\n{\"event_id\":\"to");
        tokio::fs::write(&path, content).await.unwrap();
        let mut spool = Spool::open(&path, 1 << 20).await.unwrap();
        assert_eq!(spool.events(), 1);
        spool.append(&[event(2)], false).await.unwrap();
        assert_eq!(spool.read_all().await.unwrap(), vec![event(1), event(2)]);
    }
}

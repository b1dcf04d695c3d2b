//! Reloading when the policy directory changes (inotify and its equivalents, through the
//! `notify` crate). Events are debounced: a reload runs once the directory has been quiet for
//! [`QUIET`], so an editor's save or a Kubernetes ConfigMap update (a symlink swap of `..data`)
//! reloads once, after the last write.

use std::sync::Arc;
use std::time::Duration;

use notify::{RecursiveMode, Watcher as _};
use toolgate_core::{PolicyReload as _, ReloadTrigger};

use super::PolicyReloader;

/// How long the directory must be quiet before a reload.
pub const QUIET: Duration = Duration::from_millis(300);

/// Watches the reloader's directory until the returned guard is dropped (or the task aborted).
/// Fails when the directory cannot be watched (it does not exist, or the OS refuses).
pub fn watch(reloader: Arc<PolicyReloader>) -> notify::Result<tokio::task::JoinHandle<()>> {
    let (changes, mut changed) = tokio::sync::mpsc::unbounded_channel::<()>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| match event {
        Ok(event) if !event.kind.is_access() => {
            let _ = changes.send(());
        }
        Ok(_) => {}
        Err(error) => tracing::warn!(%error, "watching the policy directory"),
    })?;
    watcher.watch(reloader.dir(), RecursiveMode::Recursive)?;
    Ok(tokio::spawn(async move {
        // The watcher lives as long as this task.
        let _watcher = watcher;
        while changed.recv().await.is_some() {
            // Debounce: wait until no event arrived for QUIET.
            loop {
                match tokio::time::timeout(QUIET, changed.recv()).await {
                    Ok(Some(())) => continue,
                    Ok(None) => return,
                    Err(_quiet) => break,
                }
            }
            reloader.reload(ReloadTrigger::FileChange, None).await;
        }
    }))
}

//! Policy hot reload: the policy directory is read again, validated against the catalog in
//! force and swapped in atomically ([`toolgate_policy::LivePolicy::reload`]) — on a file change
//! ([`watch`]), on `SIGHUP`, on `POST /api/v1/policy/reload`, and when another replica announces
//! a reload ([`notice`]). A refused reload keeps the set in force; either way the attempt is
//! logged and audited (`policy/reload`), and readiness shows a refusal (`reload_refused`) until a
//! reload succeeds. Sessions are told `list_changed` when a new set is in force: what each caller
//! may see can have changed.

pub mod notice;
pub mod watch;

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use toolgate_core::{
    AuditDecision, AuditEvent, AuditOutcome, AuditSink, CatalogSource, PolicyReload, Principal, ReloadReport,
    ReloadTrigger, SystemClock,
};
use toolgate_gateway::PolicySync;
use toolgate_policy::{LivePolicy, read_policy_dir};

use self::notice::ReloadNotice;

/// Reloads one gateway's policies from its policy directory.
pub struct PolicyReloader {
    dir: PathBuf,
    live: Arc<LivePolicy>,
    catalog: Arc<dyn CatalogSource>,
    sync: Arc<PolicySync>,
    audit: Arc<dyn AuditSink>,
    notice: Option<ReloadNotice>,
    /// One reload at a time, so the announced hash is the one that went into force.
    one_at_a_time: tokio::sync::Mutex<()>,
}

impl PolicyReloader {
    pub fn new(
        dir: PathBuf,
        live: Arc<LivePolicy>,
        catalog: Arc<dyn CatalogSource>,
        sync: Arc<PolicySync>,
        audit: Arc<dyn AuditSink>,
        notice: Option<ReloadNotice>,
    ) -> Arc<Self> {
        Arc::new(Self {
            dir,
            live,
            catalog,
            sync,
            audit,
            notice,
            one_at_a_time: tokio::sync::Mutex::new(()),
        })
    }

    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    pub(crate) fn notice(&self) -> Option<&ReloadNotice> {
        self.notice.as_ref()
    }

    async fn run(&self, trigger: ReloadTrigger) -> ReloadReport {
        let _one = self.one_at_a_time.lock().await;
        let dir = self.dir.clone();
        let read = tokio::task::spawn_blocking(move || read_policy_dir(&dir)).await;
        let outcome = match read {
            // An empty directory is more likely a mistake (a half-written deployment) than the
            // intent to deny everything, which `forbid (principal, action, resource);` says.
            Ok(Ok(sources)) if sources.is_empty() => Err(format!(
                "{} has no *.cedar files: a reload to an empty policy set is refused",
                self.dir.display()
            )),
            Ok(Ok(sources)) => self
                .live
                .reload(sources, &self.catalog.catalog())
                .map_err(|e| e.to_string()),
            Ok(Err(error)) => Err(error.to_string()),
            Err(panicked) => Err(format!("reading the policy directory failed: {panicked}")),
        };
        let policy_set_hash = self.live.policy_set_hash();
        match outcome {
            Ok(changed) => {
                if changed {
                    self.sync.notify_sessions().await;
                }
                if let Some(notice) = &self.notice
                    && trigger != ReloadTrigger::Replica
                    && let Err(error) = notice.announce(&policy_set_hash).await
                {
                    tracing::warn!(%error, "could not tell the other replicas about a policy reload");
                }
                ReloadReport {
                    trigger,
                    policy_set_hash,
                    changed,
                    error: None,
                }
            }
            Err(error) => ReloadReport {
                trigger,
                policy_set_hash,
                changed: false,
                error: Some(error),
            },
        }
    }

    async fn record(&self, report: &ReloadReport, by: Option<&Principal>) {
        if !report.changed && !report.refused() {
            return;
        }
        let reason = match &report.error {
            Some(error) => format!("reload_refused ({}): {error}", report.trigger.as_str()),
            None => format!("reloaded ({})", report.trigger.as_str()),
        };
        let (decision, outcome) = if report.refused() {
            (AuditDecision::Deny, AuditOutcome::Refused)
        } else {
            (AuditDecision::Allow, AuditOutcome::Ok)
        };
        let mut event = AuditEvent::new(&SystemClock, "", "policy", "policy/reload", decision, outcome)
            .policy_set(Some(&report.policy_set_hash))
            .reason(Some(&reason));
        if let Some(by) = by {
            event = event.principal(by);
        }
        if let Err(unavailable) = self.audit.record(event).await {
            tracing::error!(%unavailable, "could not audit a policy reload");
        }
    }
}

#[async_trait]
impl PolicyReload for PolicyReloader {
    async fn reload(&self, trigger: ReloadTrigger, by: Option<&Principal>) -> ReloadReport {
        let report = self.run(trigger).await;
        match &report.error {
            Some(error) => tracing::error!(trigger = trigger.as_str(), %error, policy_set = %report.policy_set_hash,
                "policy reload refused: the policy set in force stays"),
            None if report.changed => tracing::info!(trigger = trigger.as_str(), policy_set = %report.policy_set_hash,
                "policy reload: a new policy set is in force"),
            None => tracing::debug!(trigger = trigger.as_str(), "policy reload: nothing changed"),
        }
        self.record(&report, by).await;
        report
    }
}

/// Reloads on every `SIGHUP` until the task is aborted.
pub(crate) async fn on_sighup(reloader: Arc<PolicyReloader>) {
    #[cfg(unix)]
    {
        let Ok(mut hangups) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
            tracing::warn!("cannot listen for SIGHUP: policies reload on file changes and through the API only");
            return;
        };
        while hangups.recv().await.is_some() {
            reloader.reload(ReloadTrigger::Signal, None).await;
        }
    }
    #[cfg(not(unix))]
    std::future::pending::<()>().await;
}

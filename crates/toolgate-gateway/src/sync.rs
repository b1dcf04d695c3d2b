//! Keeping the policy in step with the catalog, and clients in step with both.
//!
//! When the catalog changes (an upstream listed new tools, or sent `list_changed`), the Cedar
//! schema is regenerated and the policies re-validated against it ([`LivePolicy`]). A valid set
//! is swapped in and every session is told `notifications/*/list_changed`; an invalid one leaves
//! the previous set in force (tools it does not know are denied), is logged, audited and shown
//! by readiness.

use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;
use rmcp::RoleServer;
use rmcp::service::Peer;
use toolgate_core::{AuditDecision, AuditEvent, AuditOutcome, AuditSink, SystemClock};
use toolgate_policy::LivePolicy;

use crate::catalog::Catalog;

/// Rebuilds the policy after catalog changes and tells sessions.
pub struct PolicySync {
    catalog: Arc<Catalog>,
    /// Set once the first catalog is known and the policy built from it.
    policy: OnceLock<Arc<LivePolicy>>,
    audit: OnceLock<Arc<dyn AuditSink>>,
    /// Open downstream sessions (pruned when their transport closes).
    peers: Mutex<Vec<Peer<RoleServer>>>,
    /// One rebuild at a time; a change arriving during one triggers another.
    rebuilding: tokio::sync::Mutex<u64>,
}

impl PolicySync {
    pub fn new(catalog: Arc<Catalog>) -> Self {
        Self {
            catalog,
            policy: OnceLock::new(),
            audit: OnceLock::new(),
            peers: Mutex::new(Vec::new()),
            rebuilding: tokio::sync::Mutex::new(0),
        }
    }

    /// The policy, once built.
    pub fn policy(&self) -> Option<&Arc<LivePolicy>> {
        self.policy.get()
    }

    /// Puts `policy` in charge of following the catalog (once).
    pub fn set_policy(&self, policy: Arc<LivePolicy>) {
        let _ = self.policy.set(policy);
    }

    /// Where refused rebuilds are recorded (once).
    pub fn attach_audit(&self, audit: Arc<dyn AuditSink>) {
        let _ = self.audit.set(audit);
    }

    /// Remembers a downstream session, to tell it about changes.
    pub fn register(&self, peer: Peer<RoleServer>) {
        let mut peers = self.peers.lock();
        peers.retain(|p| !p.is_transport_closed());
        peers.push(peer);
    }

    /// The catalog changed: rebuild the policy from it, and tell every session.
    pub async fn catalog_changed(&self) {
        let Some(policy) = self.policy.get() else {
            // Still discovering: the policy is built from the whole first catalog.
            return;
        };
        let mut built_version = self.rebuilding.lock().await;
        let version = self.catalog.version();
        if version == *built_version {
            return;
        }
        let snapshot = self.catalog.snapshot();
        match policy.update_catalog(&snapshot) {
            Ok(_) => {
                *built_version = version;
                drop(built_version);
                self.notify_sessions().await;
            }
            Err(error) => {
                *built_version = version;
                if let Some(audit) = self.audit.get() {
                    let event = AuditEvent::new(
                        &SystemClock,
                        "",
                        "gateway",
                        "policy/rebuild",
                        AuditDecision::Deny,
                        AuditOutcome::Refused,
                    )
                    .policy_set(Some(&policy.status().policy_set_hash))
                    .reason(Some(&format!("policy_invalid_for_catalog: {error}")));
                    if let Err(unavailable) = audit.record(event).await {
                        tracing::error!(%unavailable, "could not audit a refused policy rebuild");
                    }
                }
            }
        }
    }

    /// Tells every open session that the tools, prompts and resources it may see changed (a new
    /// catalog, or a policy reload).
    pub async fn notify_sessions(&self) {
        let peers: Vec<Peer<RoleServer>> = {
            let mut peers = self.peers.lock();
            peers.retain(|p| !p.is_transport_closed());
            peers.clone()
        };
        for peer in peers {
            let _ = peer.notify_tool_list_changed().await;
            let _ = peer.notify_prompt_list_changed().await;
            let _ = peer.notify_resource_list_changed().await;
        }
    }
}

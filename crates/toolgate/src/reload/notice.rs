//! Replicas converge on one policy set: a replica that reloaded announces the new policy-set hash
//! in the shared state store; every other replica looks every [`POLL`] and, seeing a notice it
//! has not acted on, reloads its own policy directory. Replicas deploy the same files (one
//! ConfigMap, one image), so they arrive at the same hash; one that does not (its files differ)
//! says so in its log and audit trail.
//!
//! Polling one key rather than Redis pub/sub: a notice is never lost to a subscriber that was
//! reconnecting, and the cost is one `GET` per replica per second.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use toolgate_core::{PolicyReload as _, ReloadTrigger};
use toolgate_store::{Namespace, StateStore, StateStoreJson as _, StoreError};

use super::PolicyReloader;

/// How often a replica looks for a notice.
pub const POLL: Duration = Duration::from_secs(1);
/// How long a notice is kept (replicas that start later read their files anyway).
const KEEP: Duration = Duration::from_secs(7 * 24 * 3600);
const NAMESPACE: Namespace = match Namespace::new("policy-reload") {
    Some(ns) => ns,
    None => panic!("valid namespace"),
};
const KEY: &str = "latest";

/// The last reload any replica made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// The policy set that replica put in force.
    pub policy_set_hash: String,
    /// Unique per announcement.
    pub id: String,
    /// Who announced it (this process's random id; replicas ignore their own).
    pub replica: String,
}

/// Announcing reloads to the other replicas, and hearing theirs.
#[derive(Clone)]
pub struct ReloadNotice {
    store: Arc<dyn StateStore>,
    replica: String,
}

impl ReloadNotice {
    pub fn new(store: Arc<dyn StateStore>) -> Self {
        Self {
            store,
            replica: random_id(),
        }
    }

    pub async fn announce(&self, policy_set_hash: &str) -> Result<(), StoreError> {
        let notice = Notice {
            policy_set_hash: policy_set_hash.to_owned(),
            id: random_id(),
            replica: self.replica.clone(),
        };
        self.store.put_json(NAMESPACE, KEY, &notice, KEEP).await
    }

    async fn latest(&self) -> Result<Option<Notice>, StoreError> {
        self.store.get_json(NAMESPACE, KEY).await
    }
}

fn random_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Acts on other replicas' notices until the task is aborted.
pub async fn follow(reloader: Arc<PolicyReloader>) {
    let Some(notice) = reloader.notice().cloned() else {
        return;
    };
    // Notices older than this process are not news: it read its files at start.
    let mut seen = notice.latest().await.ok().flatten().map(|n| n.id);
    loop {
        tokio::time::sleep(POLL).await;
        let latest = match notice.latest().await {
            Ok(Some(latest)) => latest,
            Ok(None) => continue,
            Err(error) => {
                tracing::debug!(%error, "looking for policy reload notices");
                continue;
            }
        };
        if seen.as_deref() == Some(latest.id.as_str()) {
            continue;
        }
        seen = Some(latest.id.clone());
        if latest.replica == notice.replica {
            continue;
        }
        let report = reloader.reload(ReloadTrigger::Replica, None).await;
        if report.error.is_none() && report.policy_set_hash != latest.policy_set_hash {
            tracing::warn!(announced = %latest.policy_set_hash, here = %report.policy_set_hash,
                "another replica reloaded to a policy set this replica's files do not make: the replicas' policy files differ");
        }
    }
}

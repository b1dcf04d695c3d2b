//! What `GET /api/v1/ready` reports beyond the audit trail (which the API probes itself): the
//! policy set and each upstream ([`GatewayCore`]), the signing keys, and the shared state store.
//!
//! | Component | Ready when | States |
//! | --- | --- | --- |
//! | `policy` | the intended policies are in force | `in_force`, `reload_refused` (ready: the set before it serves), `previous_set_in_force` |
//! | `upstream:NAME` | always (reported, see `docs/gateway.md`) | `up`, `down`, `unknown` |
//! | `keys` | every validator has signing keys (else every token is refused) | `loaded`, `not_loaded` |
//! | `state_store` | always (reported: without it only new sessions fail) | `up`, `down`, `unknown` |
//!
//! Every answer is computed from state kept in memory; the state store is probed by a background
//! task every [`STORE_PROBE_INTERVAL`], so `/ready` never waits on Redis.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use toolgate_core::{ComponentState, ReadinessSource};
use toolgate_entra::EntraValidator;
use toolgate_gateway::GatewayCore;
use toolgate_store::{Namespace, StateStore};

/// How often the shared state store is probed.
pub const STORE_PROBE_INTERVAL: Duration = Duration::from_secs(2);

const PROBE_NAMESPACE: Namespace = match Namespace::new("readiness") {
    Some(ns) => ns,
    None => panic!("valid namespace"),
};

/// The gateway's components, for readiness.
pub struct GatewayReadiness {
    core: Arc<GatewayCore>,
    validators: Vec<EntraValidator>,
    store: Option<Arc<StoreProbe>>,
}

impl GatewayReadiness {
    pub fn new(core: Arc<GatewayCore>, validators: Vec<EntraValidator>, store: Option<Arc<StoreProbe>>) -> Self {
        Self {
            core,
            validators,
            store,
        }
    }
}

impl ReadinessSource for GatewayReadiness {
    fn components(&self) -> Vec<ComponentState> {
        let mut components = self.core.components();
        if !self.validators.is_empty() {
            let loaded = self.validators.iter().all(|v| v.key_cache().snapshot().is_loaded());
            components.push(ComponentState {
                name: "keys".into(),
                ready: loaded,
                state: if loaded { "loaded" } else { "not_loaded" }.into(),
            });
        }
        if let Some(store) = &self.store {
            components.push(ComponentState {
                name: "state_store".into(),
                ready: true,
                state: store.state().into(),
            });
        }
        components
    }
}

/// The shared state store's last known state, kept by [`StoreProbe::run`].
pub struct StoreProbe {
    store: Arc<dyn StateStore>,
    /// 0 unknown, 1 up, 2 down.
    state: AtomicU8,
}

impl StoreProbe {
    pub fn new(store: Arc<dyn StateStore>) -> Arc<Self> {
        Arc::new(Self {
            store,
            state: AtomicU8::new(0),
        })
    }

    pub fn state(&self) -> &'static str {
        match self.state.load(Ordering::Relaxed) {
            1 => "up",
            2 => "down",
            _ => "unknown",
        }
    }

    /// Probes (one `GET` of a key nobody writes) every [`STORE_PROBE_INTERVAL`] until aborted.
    pub async fn run(self: Arc<Self>) {
        loop {
            let up = self.store.get(PROBE_NAMESPACE, "probe").await.is_ok();
            let previous = self.state.swap(if up { 1 } else { 2 }, Ordering::Relaxed);
            if previous == 1 && !up {
                tracing::warn!("the shared state store does not answer: new MCP sessions fail until it does");
            } else if previous == 2 && up {
                tracing::info!("the shared state store answers again");
            }
            tokio::time::sleep(STORE_PROBE_INTERVAL).await;
        }
    }
}

//! A policy set that changes while serving. A new catalog (gateway upstreams listed new tools)
//! builds a new engine beside the one in force; only an engine whose policies validate against
//! the new schema is swapped in, atomically — every request sees one whole engine, never a mix.
//! When the new schema makes the policies invalid, the engine in force stays (it does not know
//! the new tools, so calls of them are denied: fail safe) and the failure is kept for readiness.
//!
//! New policy texts (a reload: the files changed, `SIGHUP`, the admin API) are validated against
//! the catalog in force the same way: a set that does not validate is refused and the set in
//! force stays; a valid one is swapped in atomically.
//!
//! The policy texts in force are kept apart from the engine: a gateway that starts while an
//! upstream is down (its tools unknown, so policies naming them do not validate yet) runs on an
//! empty policy set — everything denied — until the catalog lets the intended policies validate.

use std::sync::Arc;

use arc_swap::ArcSwap;
use parking_lot::Mutex;
use serde::Serialize;
use serde_json::{Map, Value};
use toolgate_core::{Catalog, Decision, Principal, ToolPolicy};

use crate::claims::ClaimMapping;
use crate::engine::PolicyEngine;
use crate::error::PolicyError;
use crate::loader::PolicySource;

/// The state of a [`LivePolicy`], for readiness and logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyStatus {
    /// The policy set in force.
    pub policy_set_hash: String,
    /// Tools the policy set in force knows.
    pub tools: usize,
    /// Why the intended policies are not in force (the previous set, or an empty one, is), until
    /// a rebuild succeeds.
    pub last_error: Option<String>,
    /// Why the last reload was refused (the set in force stays, and serves as intended), until
    /// a reload succeeds.
    pub reload_error: Option<String>,
}

/// What the engines are built from.
#[derive(Debug, Clone)]
struct Intended {
    sources: Vec<PolicySource>,
    shadow: bool,
    claims: ClaimMapping,
}

/// The engine in force, swappable.
pub struct LivePolicy {
    current: ArcSwap<PolicyEngine>,
    intended: Mutex<Intended>,
    last_error: Mutex<Option<String>>,
    reload_error: Mutex<Option<String>>,
    /// One rebuild at a time.
    rebuilding: Mutex<()>,
}

impl std::fmt::Debug for LivePolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LivePolicy").field("status", &self.status()).finish()
    }
}

impl LivePolicy {
    /// A live policy around an engine that validated.
    pub fn new(engine: PolicyEngine) -> Arc<Self> {
        let intended = Intended {
            sources: engine.sources().to_vec(),
            shadow: engine.is_shadow(),
            claims: engine.claims().clone(),
        };
        Arc::new(Self {
            current: ArcSwap::from_pointee(engine),
            intended: Mutex::new(intended),
            last_error: Mutex::new(None),
            reload_error: Mutex::new(None),
            rebuilding: Mutex::new(()),
        })
    }

    /// `sources` against `catalog`. When they do not validate, the policy starts with an empty
    /// set in force (everything denied) and the error is returned beside it, so the caller can
    /// decide whether that is fatal (the catalog is complete) or temporary (an upstream is down).
    pub fn build(
        sources: Vec<PolicySource>,
        catalog: &Catalog,
        shadow: bool,
        claims: ClaimMapping,
    ) -> Result<(Arc<Self>, Option<PolicyError>), PolicyError> {
        match PolicyEngine::from_catalog(&sources, catalog, shadow, claims.clone()) {
            Ok(engine) => Ok((Self::new(engine), None)),
            Err(error) => {
                let empty = PolicyEngine::from_catalog(&[], catalog, shadow, claims.clone())?;
                let live = Arc::new(Self {
                    current: ArcSwap::from_pointee(empty),
                    intended: Mutex::new(Intended {
                        sources,
                        shadow,
                        claims,
                    }),
                    last_error: Mutex::new(Some(error.to_string())),
                    reload_error: Mutex::new(None),
                    rebuilding: Mutex::new(()),
                });
                Ok((live, Some(error)))
            }
        }
    }

    /// The engine in force (cheap: one atomic load).
    pub fn current(&self) -> Arc<PolicyEngine> {
        self.current.load_full()
    }

    /// The hash of the policy set in force.
    pub fn policy_set_hash(&self) -> String {
        self.current.load().policy_set_hash().to_owned()
    }

    /// Rebuilds the intended policies against `catalog`. `Ok(true)` when a new engine is in
    /// force, `Ok(false)` when nothing changed; on error the engine in force stays.
    pub fn update_catalog(&self, catalog: &Catalog) -> Result<bool, PolicyError> {
        let _one_at_a_time = self.rebuilding.lock();
        let intended = self.intended.lock().clone();
        let current = self.current();
        match PolicyEngine::from_catalog(&intended.sources, catalog, intended.shadow, intended.claims) {
            Ok(engine) => {
                *self.last_error.lock() = None;
                if engine.policy_set_hash() == current.policy_set_hash() && engine.same_catalog(&current) {
                    return Ok(false);
                }
                tracing::info!(policy_set = %engine.policy_set_hash(), tools = engine.tool_count(), "policy set rebuilt");
                self.current.store(Arc::new(engine));
                Ok(true)
            }
            Err(error) => {
                tracing::error!(%error, policy_set = %current.policy_set_hash(),
                    "the policies do not validate against the new catalog: the policy set in force stays");
                *self.last_error.lock() = Some(error.to_string());
                Err(error)
            }
        }
    }

    /// Replaces the policy texts with `sources`, validated against `catalog` (the catalog in
    /// force). `Ok(true)` when a new set is in force, `Ok(false)` when the texts make the same
    /// set; on error nothing changes — the set in force and the texts it came from stay, and the
    /// error is kept for [`status`](Self::status) until a reload succeeds.
    pub fn reload(&self, sources: Vec<PolicySource>, catalog: &Catalog) -> Result<bool, PolicyError> {
        let _one_at_a_time = self.rebuilding.lock();
        let Intended { shadow, claims, .. } = self.intended.lock().clone();
        let current = self.current();
        match PolicyEngine::from_catalog(&sources, catalog, shadow, claims) {
            Ok(engine) => {
                self.intended.lock().sources = sources;
                *self.last_error.lock() = None;
                *self.reload_error.lock() = None;
                if engine.policy_set_hash() == current.policy_set_hash() && engine.same_catalog(&current) {
                    return Ok(false);
                }
                tracing::info!(policy_set = %engine.policy_set_hash(), previous = %current.policy_set_hash(),
                    "policies reloaded");
                self.current.store(Arc::new(engine));
                Ok(true)
            }
            Err(error) => {
                tracing::error!(%error, policy_set = %current.policy_set_hash(),
                    "the reloaded policies do not validate: the policy set in force stays");
                *self.reload_error.lock() = Some(error.to_string());
                Err(error)
            }
        }
    }

    pub fn status(&self) -> PolicyStatus {
        let current = self.current();
        PolicyStatus {
            policy_set_hash: current.policy_set_hash().to_owned(),
            tools: current.tool_count(),
            last_error: self.last_error.lock().clone(),
            reload_error: self.reload_error.lock().clone(),
        }
    }
}

impl ToolPolicy for LivePolicy {
    fn authorize_call(&self, principal: &Principal, tool: &str, arguments: &Value) -> Decision {
        self.current.load().authorize_call(principal, tool, arguments)
    }

    fn retain_declared(&self, tool: &str, arguments: &mut Map<String, Value>) -> Vec<String> {
        ToolPolicy::retain_declared(&**self.current.load(), tool, arguments)
    }

    fn policy_set_hash(&self) -> Option<String> {
        Some(LivePolicy::policy_set_hash(self))
    }

    fn authorize_list(&self, principal: &Principal, tool: &str) -> Decision {
        self.current.load().authorize_list(principal, tool)
    }

    fn listable(&self, principal: &Principal, tools: &[&str]) -> Vec<bool> {
        ToolPolicy::listable(&**self.current.load(), principal, tools)
    }

    fn authorize_prompt(&self, principal: &Principal, name: &str) -> Decision {
        self.current.load().authorize_prompt(principal, name)
    }

    fn authorize_resource(&self, principal: &Principal, uri: &str) -> Decision {
        self.current.load().authorize_resource(principal, uri)
    }
}

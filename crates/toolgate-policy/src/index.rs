//! Which policies can apply to a request, decided once at load from each policy's scope.
//!
//! Cedar evaluates a policy as `principal-scope && (action-scope && (resource-scope &&
//! conditions))`, left to right with short-circuit `&&` (Cedar reference, "Policy evaluation";
//! `TemplateBody::condition` in cedar-policy-core 4.x). A policy whose action or resource scope is
//! false for a request is therefore not satisfied and cannot error (scope tests are equality,
//! `in` and `is` on entities: they never error): leaving it out changes neither the decision, nor
//! its determining policies, nor its errors. So each request kind gets, at load, the *slice* of
//! the set whose scopes can hold for it, in the set's own order (errors come out in the same
//! order), and Cedar evaluates only that slice: a decision costs what the applicable policies
//! cost, not what the whole set costs.
//!
//! The principal is only known per request: each slice also indexes its policies by principal
//! scope, so a request hands Cedar only the policies whose whole scope can hold (`principal in
//! Role::"X"` is left out for a caller without role X). Those narrower sets depend only on which
//! policies are admitted, never on who asked; they are built on first use and kept in a bounded
//! cache of the engine (so dropped with it on a reload or a catalog change).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use cedar_policy::{
    ActionConstraint, EntityTypeName, EntityUid, Policy, PolicySet, PrincipalConstraint, ResourceConstraint,
};
use parking_lot::Mutex;

use crate::engine::internal;
use crate::error::PolicyError;
use crate::principal::PrincipalEntity;

/// What a request kind is known to be at load.
pub(crate) struct Target<'a> {
    /// The request's action.
    pub action: &'a EntityUid,
    /// Every ancestor of the action in the entities handed to Cedar (transitively closed).
    pub action_ancestors: &'a [EntityUid],
    pub resource: Resource<'a>,
}

/// What is known of the resource at load.
pub(crate) enum Resource<'a> {
    /// One resource (a catalog tool) and every ancestor of it in the entities handed to Cedar.
    Known(&'a EntityUid, &'a [EntityUid]),
    /// Only its type (prompts and resources are named by the request; their server may be any).
    OfType(&'a EntityTypeName),
}

/// The policies of one set with their scopes, and the slices built so far (shared: tools that
/// admit the same policies share one slice).
pub(crate) struct PolicyIndex {
    /// Each policy, its scopes, and whether it is in shadow mode.
    policies: Vec<(Policy, ActionConstraint, ResourceConstraint, bool)>,
    slices: HashMap<Vec<usize>, Arc<Slice>>,
}

/// The enforced policies that can apply to a request kind, and — when shadow policies can apply
/// too — all of them, enforced and shadow.
#[derive(Debug, Clone)]
pub(crate) struct Slices {
    pub enforced: Arc<Slice>,
    pub with_shadow: Option<Arc<Slice>>,
}

impl PolicyIndex {
    pub fn new(set: &PolicySet, shadow: &HashSet<String>) -> Self {
        let policies = set
            .policies()
            .map(|p| {
                let is_shadow = shadow.contains(&p.id().to_string());
                (p.clone(), p.action_constraint(), p.resource_constraint(), is_shadow)
            })
            .collect();
        Self {
            policies,
            slices: HashMap::new(),
        }
    }

    /// The policies whose action and resource scopes can hold for `target`, in set order.
    pub fn slices(&mut self, target: &Target<'_>) -> Result<Slices, PolicyError> {
        let admitted: Vec<usize> = self
            .policies
            .iter()
            .enumerate()
            .filter(|(_, (_, action, resource, _))| {
                action_may_hold(action, target) && resource_may_hold(resource, target)
            })
            .map(|(i, _)| i)
            .collect();
        let enforced: Vec<usize> = admitted
            .iter()
            .copied()
            .filter(|i| self.policies.get(*i).is_some_and(|(_, _, _, shadow)| !shadow))
            .collect();
        let with_shadow = if enforced.len() < admitted.len() {
            Some(self.slice(admitted)?)
        } else {
            None
        };
        Ok(Slices {
            enforced: self.slice(enforced)?,
            with_shadow,
        })
    }

    fn slice(&mut self, admitted: Vec<usize>) -> Result<Arc<Slice>, PolicyError> {
        if let Some(slice) = self.slices.get(&admitted) {
            return Ok(Arc::clone(slice));
        }
        let policies: Vec<Policy> = admitted
            .iter()
            .filter_map(|i| self.policies.get(*i))
            .map(|(p, _, _, _)| p.clone())
            .collect();
        let slice = Arc::new(Slice::new(self.slices.len(), policies)?);
        self.slices.insert(admitted, Arc::clone(&slice));
        Ok(slice)
    }
}

/// `action == a`, `action in [..]`: reflexive `in` over the action's ancestors.
fn action_may_hold(scope: &ActionConstraint, target: &Target<'_>) -> bool {
    let is_or_in = |a: &EntityUid| a == target.action || target.action_ancestors.contains(a);
    match scope {
        ActionConstraint::Any => true,
        ActionConstraint::Eq(a) => a == target.action,
        ActionConstraint::In(list) => list.iter().any(is_or_in),
    }
}

/// `resource == r`, `resource in e`, `resource is T [in e]`.
fn resource_may_hold(scope: &ResourceConstraint, target: &Target<'_>) -> bool {
    let (resource, ancestors) = match target.resource {
        Resource::Known(resource, ancestors) => (resource, ancestors),
        // `in e` may hold for any type: `e` may be an ancestor.
        Resource::OfType(ty) => {
            return match scope {
                ResourceConstraint::Any | ResourceConstraint::In(_) => true,
                ResourceConstraint::Eq(e) => e.type_name() == ty,
                ResourceConstraint::Is(t) | ResourceConstraint::IsIn(t, _) => t == ty,
            };
        }
    };
    let is_or_in = |e: &EntityUid| e == resource || ancestors.contains(e);
    match scope {
        ResourceConstraint::Any => true,
        ResourceConstraint::Eq(e) => e == resource,
        ResourceConstraint::In(e) => is_or_in(e),
        ResourceConstraint::Is(ty) => ty == resource.type_name(),
        ResourceConstraint::IsIn(ty, e) => ty == resource.type_name() && is_or_in(e),
    }
}

/// The policies that can apply to one request kind, indexed by principal scope.
#[derive(Debug)]
pub(crate) struct Slice {
    /// Identifies the slice in the [`Subsets`] cache.
    id: usize,
    set: Arc<PolicySet>,
    policies: Vec<Policy>,
    /// Positions (in `policies`) of the policies with `principal` unconstrained.
    any: Vec<usize>,
    /// `principal == e`.
    eq: HashMap<EntityUid, Vec<usize>>,
    /// `principal in e`.
    within: HashMap<EntityUid, Vec<usize>>,
    /// `principal is T` and `principal is T in e`.
    typed: Vec<(EntityTypeName, Option<EntityUid>, usize)>,
    /// No condition of the slice reads the resource or the action but through a resource
    /// attribute other than `name` (see [`reads_identity`]).
    identity_free: bool,
}

impl Slice {
    fn new(id: usize, policies: Vec<Policy>) -> Result<Self, PolicyError> {
        let set =
            PolicySet::from_policies(policies.iter().cloned()).map_err(|e| internal(format!("policy slice: {e}")))?;
        let mut slice = Self {
            id,
            set: Arc::new(set),
            policies: Vec::new(),
            any: Vec::new(),
            eq: HashMap::new(),
            within: HashMap::new(),
            typed: Vec::new(),
            identity_free: policies.iter().all(|p| !reads_identity(p)),
        };
        for (i, p) in policies.iter().enumerate() {
            match p.principal_constraint() {
                PrincipalConstraint::Any => slice.any.push(i),
                PrincipalConstraint::Eq(e) => slice.eq.entry(e).or_default().push(i),
                PrincipalConstraint::In(e) => slice.within.entry(e).or_default().push(i),
                PrincipalConstraint::Is(ty) => slice.typed.push((ty, None, i)),
                PrincipalConstraint::IsIn(ty, e) => slice.typed.push((ty, Some(e), i)),
            }
        }
        slice.policies = policies;
        Ok(slice)
    }

    /// One slice of every policy of `set`, every principal admitted (Cedar on the whole set,
    /// for the differential tests).
    #[cfg(test)]
    pub fn whole(policies: Vec<Policy>) -> Arc<Self> {
        let mut slice = Self::new(usize::MAX, policies).unwrap_or_else(|e| panic!("{e}"));
        slice.any = (0..slice.policies.len()).collect();
        slice.eq.clear();
        slice.within.clear();
        slice.typed.clear();
        Arc::new(slice)
    }

    /// The whole slice.
    #[cfg(test)]
    pub fn set(&self) -> &Arc<PolicySet> {
        &self.set
    }

    /// Two tools whose slices are the same identity-free ones, and whose entities differ only
    /// in name, get the same decisions: every scope in the slice holds for both (the scopes of a
    /// known resource and action are decided exactly at load) and the conditions see only what
    /// they share.
    pub fn is_identity_free(&self) -> bool {
        self.identity_free
    }

    /// Identifies the slice among those of its engine.
    pub fn id(&self) -> usize {
        self.id
    }

    /// The policies of the slice whose principal scope holds for `principal` (reflexive `in`
    /// over its parents: roles and groups, which have no parents of their own in the entities
    /// handed to Cedar), in set order.
    pub fn for_principal(&self, principal: &PrincipalEntity, subsets: &Subsets) -> Result<Arc<PolicySet>, PolicyError> {
        let uid = principal.uid();
        let parents = principal.parents();
        let mut admitted = self.any.clone();
        let mut extend = |ids: Option<&Vec<usize>>| admitted.extend(ids.into_iter().flatten().copied());
        extend(self.eq.get(uid));
        extend(self.within.get(uid));
        for parent in parents {
            extend(self.within.get(parent));
        }
        for (ty, within, i) in &self.typed {
            let in_ok = within.as_ref().is_none_or(|e| e == uid || parents.contains(e));
            if ty == uid.type_name() && in_ok {
                admitted.push(*i);
            }
        }
        if admitted.len() == self.policies.len() {
            return Ok(Arc::clone(&self.set));
        }
        admitted.sort_unstable();
        admitted.dedup();
        subsets.get_or_build(self.id, admitted, |ids| {
            PolicySet::from_policies(ids.iter().filter_map(|i| self.policies.get(*i)).cloned())
                .map_err(|e| internal(format!("policy subset: {e}")))
        })
    }
}

/// Whether a condition of `policy` reads `action`, or `resource` other than as `resource.attr`
/// / `resource has attr` with `attr` not `name` — that is, whether it could tell two tools of the
/// same attributes apart. Conservative: any other use (`resource in …`, `resource is …`,
/// `resource == …`, a policy Cedar cannot show as JSON) counts as reading it.
fn reads_identity(policy: &Policy) -> bool {
    fn reads(e: &serde_json::Value) -> bool {
        use serde_json::Value;
        match e {
            Value::Object(map) => {
                if let Some(Value::String(var)) = map.get("Var") {
                    return var == "resource" || var == "action";
                }
                for op in [".", "has"] {
                    if let Some(Value::Object(access)) = map.get(op)
                        && access.get("left") == Some(&serde_json::json!({"Var": "resource"}))
                    {
                        return access.get("attr").and_then(Value::as_str).is_none_or(|a| a == "name");
                    }
                }
                map.values().any(reads)
            }
            Value::Array(items) => items.iter().any(reads),
            _ => false,
        }
    }
    match policy.to_json() {
        Ok(json) => json.get("conditions").is_none_or(reads),
        Err(_) => true,
    }
}

/// A slice's id and the positions it admits.
type SubsetKey = (usize, Vec<usize>);

/// Sets of policies narrowed by principal scope, by slice and admitted positions. Bounded: at
/// [`Subsets::CAPACITY`] entries it starts over (a miss costs one `PolicySet` build).
#[derive(Debug, Default)]
pub(crate) struct Subsets {
    sets: Mutex<HashMap<SubsetKey, Arc<PolicySet>>>,
}

impl Subsets {
    pub const CAPACITY: usize = 4096;

    fn get_or_build(
        &self,
        slice: usize,
        admitted: Vec<usize>,
        build: impl FnOnce(&[usize]) -> Result<PolicySet, PolicyError>,
    ) -> Result<Arc<PolicySet>, PolicyError> {
        let key = (slice, admitted);
        if let Some(set) = self.sets.lock().get(&key) {
            return Ok(Arc::clone(set));
        }
        let set = Arc::new(build(&key.1)?);
        let mut sets = self.sets.lock();
        if sets.len() >= Self::CAPACITY {
            sets.clear();
        }
        sets.insert(key, Arc::clone(&set));
        Ok(set)
    }
}

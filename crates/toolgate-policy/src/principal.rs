//! The principal as a Cedar entity, built once and reused for every question it asks.

use std::collections::{HashMap, HashSet};

use cedar_policy::{Entity, EntityUid, RestrictedExpression};
use toolgate_core::{Principal, PrincipalKind};

use crate::engine::{PolicyEngine, uid};

/// A [`Principal`] prepared for Cedar: a `User` (roles and groups as parents, scopes, groups,
/// overage and guest flags) or an `App` (roles as parents), each with its tenant, roles, client
/// application and mapped extra claims (see the generated schema).
///
/// Building it costs several microseconds (Cedar evaluates every attribute); a caller that asks
/// several questions for one principal (a list, or every call of one token) builds it once with
/// [`PolicyEngine::prepare_principal`] and passes it to the `*_prepared` methods. It is valid for
/// any engine with the same claim mapping (a [`crate::LivePolicy`] keeps its mapping across
/// reloads).
#[derive(Debug, Clone)]
pub struct PrincipalEntity {
    uid: EntityUid,
    entity: Entity,
    /// The entity's parents, which are also all its ancestors: `Role` and `Group` entities are
    /// never handed to Cedar, so they have no parents of their own.
    parents: Vec<EntityUid>,
}

impl PrincipalEntity {
    pub(crate) fn uid(&self) -> &EntityUid {
        &self.uid
    }

    pub(crate) fn entity(&self) -> &Entity {
        &self.entity
    }

    pub(crate) fn parents(&self) -> &[EntityUid] {
        &self.parents
    }
}

impl PolicyEngine {
    /// The principal as a Cedar entity. Errors (a mapped claim Cedar refuses) are the message
    /// of a deny.
    pub fn prepare_principal(&self, p: &Principal) -> Result<PrincipalEntity, String> {
        let strings =
            |v: &[String]| RestrictedExpression::new_set(v.iter().map(|s| RestrictedExpression::new_string(s.clone())));
        let (ty, user) = match p.kind {
            PrincipalKind::User => (&self.names.user, true),
            PrincipalKind::App => (&self.names.app, false),
        };
        let principal_uid = uid(ty, &p.id);
        let mut attrs: HashMap<String, RestrictedExpression> = HashMap::with_capacity(7 + self.claims.extra.len());
        attrs.insert("tenant".into(), RestrictedExpression::new_string(p.tenant_id.clone()));
        attrs.insert("roles".into(), strings(&p.roles));
        attrs.insert(
            "client_app".into(),
            RestrictedExpression::new_string(p.client_app_id.clone().unwrap_or_default()),
        );
        let mut parents: Vec<EntityUid> = p.roles.iter().map(|r| uid(&self.names.role, r)).collect();
        if user {
            attrs.insert("scopes".into(), strings(&p.scopes));
            attrs.insert("groups".into(), strings(p.groups.ids()));
            attrs.insert(
                "groups_overage".into(),
                RestrictedExpression::new_bool(p.groups.is_overage()),
            );
            attrs.insert("guest".into(), RestrictedExpression::new_bool(p.guest));
            parents.extend(p.groups.ids().iter().map(|g| uid(&self.names.group, g)));
        }
        attrs.extend(self.claims.attributes(&p.claims));
        parents.sort();
        parents.dedup();
        let entity = Entity::new(
            principal_uid.clone(),
            attrs,
            parents.iter().cloned().collect::<HashSet<_>>(),
        )
        .map_err(|e| format!("cannot build the principal entity: {e}"))?;
        Ok(PrincipalEntity {
            uid: principal_uid,
            entity,
            parents,
        })
    }
}

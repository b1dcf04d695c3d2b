//! The outcome of an authorization question, with its reasons.

use serde::Serialize;

/// What the policies said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    Allow,
    Deny,
}

/// A decision with the ids of the policies that determined it and any evaluation errors.
/// Errors never allow: an erroring permit does not count, and a schema error denies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// What the policies decided.
    pub effect: Effect,
    /// What is enforced: equals `effect == Allow`, except in shadow mode, where everything is
    /// allowed and a deny is only recorded ("would deny").
    pub enforced_allow: bool,
    /// `@id` annotations of the determining policies, else `file#index`.
    pub determining_policies: Vec<String>,
    pub errors: Vec<String>,
    /// Identifies the policy set (hash of schema + policies) the decision was made with.
    pub policy_set_hash: String,
    pub shadow: bool,
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        self.enforced_allow
    }

    /// Shadow mode let through a call the policies deny.
    pub fn is_shadow_deny(&self) -> bool {
        self.shadow && self.effect == Effect::Deny
    }
}

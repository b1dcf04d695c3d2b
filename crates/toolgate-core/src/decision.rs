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
    /// What the shadow policies (`@mode("shadow")`) would have changed: present only when the
    /// decision with them enforced too has another effect.
    pub shadow_verdict: Option<ShadowVerdict>,
}

/// The decision the policies would have made with the shadow policies (`@mode("shadow")`)
/// enforced too, when its effect differs from the enforced one ("would deny" / "would allow").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShadowVerdict {
    /// The effect with the shadow policies enforced.
    pub would: Effect,
    /// Ids of the shadow policies that would have determined it (or failed to evaluate: errors
    /// never allow), sorted.
    pub policies: Vec<String>,
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        self.enforced_allow
    }

    /// Let through, but denied by the policies (shadow mode) or by a shadow policy ("would deny").
    pub fn is_shadow_deny(&self) -> bool {
        (self.shadow && self.effect == Effect::Deny)
            || (self.is_allowed() && self.shadow_verdict.as_ref().is_some_and(|v| v.would == Effect::Deny))
    }
}

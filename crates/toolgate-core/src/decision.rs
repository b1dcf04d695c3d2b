//! The outcome of an authorization question, with its reasons.
//!
//! A [`Decision`] is built only through its constructors, so its parts cannot disagree (the model
//! is cedar-policy's `Response`): evaluation errors never allow, what is enforced follows from
//! the effect and shadow mode, and a shadow verdict is recorded only when it differs from the
//! effect.

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
    effect: Effect,
    /// Derived, kept for serialized readers: `effect == Allow`, or shadow mode.
    enforced_allow: bool,
    determining_policies: Vec<String>,
    errors: Vec<String>,
    policy_set_hash: String,
    shadow: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    shadow_verdict: Option<ShadowVerdict>,
}

impl Decision {
    /// What the policies of the set `policy_set_hash` decided: `allowed` (Cedar's decision), the
    /// `determining_policies` (`@id` annotations, else `file#index`) and the evaluation `errors`.
    /// Fail closed: with any error the effect is [`Effect::Deny`], whatever `allowed` says.
    pub fn new(allowed: bool, determining_policies: Vec<String>, errors: Vec<String>, policy_set_hash: String) -> Self {
        let effect = if allowed && errors.is_empty() {
            Effect::Allow
        } else {
            Effect::Deny
        };
        Self {
            effect,
            enforced_allow: effect == Effect::Allow,
            determining_policies,
            errors,
            policy_set_hash,
            shadow: false,
            shadow_verdict: None,
        }
    }

    /// A deny that no policy determined: `error` says why no policy could be asked (an unknown
    /// tool, arguments that do not match the input schema).
    pub fn deny_with_error(error: String, policy_set_hash: String) -> Self {
        Self::new(false, Vec::new(), vec![error], policy_set_hash)
    }

    /// The same decision under shadow mode (`[policy] shadow = true`) when `shadow`: everything
    /// is let through and a deny is only recorded ("would deny").
    pub fn in_shadow_mode(mut self, shadow: bool) -> Self {
        self.shadow = shadow;
        self.enforced_allow = shadow || self.effect == Effect::Allow;
        self
    }

    /// Records what the shadow policies (`@mode("shadow")`) would have changed; a verdict with
    /// the decision's own effect changes nothing and is not kept.
    pub fn with_shadow_verdict(mut self, verdict: ShadowVerdict) -> Self {
        self.shadow_verdict = (verdict.would != self.effect).then_some(verdict);
        self
    }

    /// What the policies decided (regardless of shadow mode).
    pub fn effect(&self) -> Effect {
        self.effect
    }

    /// What is enforced: `effect == Allow`, or anything in shadow mode.
    pub fn is_allowed(&self) -> bool {
        self.enforced_allow
    }

    /// Let through, but denied by the policies (shadow mode) or by a shadow policy ("would deny").
    pub fn is_shadow_deny(&self) -> bool {
        (self.shadow && self.effect == Effect::Deny)
            || (self.is_allowed() && self.shadow_verdict.as_ref().is_some_and(|v| v.would == Effect::Deny))
    }

    /// `@id` annotations of the determining policies (else `file#index`), sorted. Never a shadow
    /// policy.
    pub fn determining_policies(&self) -> &[String] {
        &self.determining_policies
    }

    /// Why the decision could not rely on the policies (evaluation errors, unknown tool,
    /// arguments that do not match); non-empty only for a deny.
    pub fn errors(&self) -> &[String] {
        &self.errors
    }

    /// Identifies the policy set (hash of schema + policies) the decision was made with.
    pub fn policy_set_hash(&self) -> &str {
        &self.policy_set_hash
    }

    /// Made in shadow mode (`[policy] shadow = true`).
    pub fn is_shadow_mode(&self) -> bool {
        self.shadow
    }

    /// What the shadow policies would have changed, if anything.
    pub fn shadow_verdict(&self) -> Option<&ShadowVerdict> {
        self.shadow_verdict.as_ref()
    }
}

/// The decision the policies would have made with the shadow policies (`@mode("shadow")`)
/// enforced too, when its effect differs from the enforced one ("would deny" / "would allow").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShadowVerdict {
    would: Effect,
    policies: Vec<String>,
}

impl ShadowVerdict {
    /// `would`: the effect with the shadow policies enforced; `policies`: the shadow policies that
    /// would have determined it or failed to evaluate (sorted here).
    pub fn new(would: Effect, mut policies: Vec<String>) -> Self {
        policies.sort();
        policies.dedup();
        Self { would, policies }
    }

    pub fn would(&self) -> Effect {
        self.would
    }

    pub fn policies(&self) -> &[String] {
        &self.policies
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(would: Effect) -> ShadowVerdict {
        ShadowVerdict::new(would, vec!["trial".into()])
    }

    #[test]
    fn errors_never_allow() {
        let d = Decision::new(true, vec!["p".into()], vec!["boom".into()], "h".into());
        assert_eq!(d.effect(), Effect::Deny);
        assert!(!d.is_allowed());
        let d = Decision::new(true, vec!["p".into()], Vec::new(), "h".into());
        assert!(d.effect() == Effect::Allow && d.is_allowed());
    }

    #[test]
    fn enforcement_follows_effect_and_shadow_mode() {
        let deny = Decision::new(false, Vec::new(), Vec::new(), "h".into());
        assert!(!deny.is_allowed() && !deny.is_shadow_deny());
        let shadowed = deny.clone().in_shadow_mode(true);
        assert!(shadowed.is_allowed() && shadowed.is_shadow_deny() && shadowed.effect() == Effect::Deny);
        assert_eq!(shadowed.in_shadow_mode(false), deny);
    }

    #[test]
    fn a_verdict_is_kept_only_when_it_differs() {
        let allow = Decision::new(true, vec!["p".into()], Vec::new(), "h".into());
        assert!(
            allow
                .clone()
                .with_shadow_verdict(verdict(Effect::Allow))
                .shadow_verdict()
                .is_none()
        );
        let would_deny = allow.with_shadow_verdict(verdict(Effect::Deny));
        assert!(would_deny.is_allowed() && would_deny.is_shadow_deny());
        assert_eq!(
            would_deny.shadow_verdict().map(ShadowVerdict::policies),
            Some(&["trial".to_owned()][..])
        );
        let deny = Decision::new(false, Vec::new(), Vec::new(), "h".into()).with_shadow_verdict(verdict(Effect::Allow));
        assert!(!deny.is_shadow_deny() && deny.shadow_verdict().is_some());
    }
}

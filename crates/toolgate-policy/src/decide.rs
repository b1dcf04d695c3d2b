//! The two questions toolgate asks: may this caller make this call (full typed arguments), and
//! may this caller see this tool in tools/list (could *some* call be permitted?).

use cedar_policy::{
    AuthorizationError, Context, Decision as CedarDecision, Effect as CedarEffect, Entities, PolicyId, Request,
    RequestBuilder, Response,
};
use serde_json::Value;
use toolgate_core::{Decision, Effect, Principal, ShadowVerdict};

use crate::engine::{PolicyEngine, ToolEntry};
use crate::index::Slices;
use crate::principal::PrincipalEntity;

impl PolicyEngine {
    /// Decides one tool call on its arguments, converted with the schema's own typing.
    ///
    /// Default deny, forbid wins. Fail closed: if any policy errors while evaluating, the call
    /// is denied even when another permit holds, because cedar skips an erroring *forbid*.
    pub fn authorize_call(&self, principal: &Principal, tool: &str, arguments: &Value) -> Decision {
        match self.prepare_principal(principal) {
            Ok(p) => self.authorize_call_prepared(&p, tool, arguments),
            Err(e) => self.deny_with_error(e),
        }
    }

    /// [`authorize_call`](Self::authorize_call) for a principal prepared once.
    pub fn authorize_call_prepared(&self, principal: &PrincipalEntity, tool: &str, arguments: &Value) -> Decision {
        let Some(entry) = self.tool(tool) else {
            return self.deny_with_error(format!("unknown tool `{tool}`"));
        };
        let empty = Value::Object(serde_json::Map::new());
        let arguments = if arguments.is_null() { &empty } else { arguments };
        let input = match entry.input.convert(arguments) {
            Ok(input) => input,
            Err(e) => {
                return self.deny_with_error(format!("arguments do not match the input schema of {tool}: {e}"));
            }
        };
        let context = match Context::from_pairs([("input".to_owned(), input)]) {
            Ok(c) => c,
            Err(e) => {
                return self.deny_with_error(format!("arguments do not match the input schema of {tool}: {e}"));
            }
        };
        let request = match Request::new(
            principal.uid().clone(),
            entry.action.clone(),
            entry.uid.clone(),
            context,
            Some(self.schema.schema()),
        ) {
            Ok(r) => r,
            Err(e) => {
                return self.deny_with_error(format!("arguments do not match the input schema of {tool}: {e}"));
            }
        };
        let entities = match entry
            .call_entities
            .clone()
            .add_entities([principal.entity().clone()], None)
        {
            Ok(e) => e,
            Err(e) => return self.deny_with_error(format!("cannot build entities: {e}")),
        };
        self.decide(&request, &entities, principal, &entry.call_policies)
    }

    /// Cedar on the enforced policies that can apply; beside them, when shadow policies can
    /// apply too, on all of them, to record what the shadow policies would have changed.
    pub(crate) fn decide(
        &self,
        request: &Request,
        entities: &Entities,
        principal: &PrincipalEntity,
        slices: &Slices,
    ) -> Decision {
        let enforced = match slices.enforced.for_principal(principal, &self.subsets) {
            Ok(p) => p,
            Err(e) => return self.deny_with_error(e.to_string()),
        };
        let response = self.authorizer.is_authorized(request, &enforced, entities);
        let decision = self.decision_of(&response);
        let Some(all) = &slices.with_shadow else {
            return decision;
        };
        match all.for_principal(principal, &self.subsets) {
            Ok(all) => {
                let with_shadow = self.authorizer.is_authorized(request, &all, entities);
                decision.with_shadow_verdict(self.shadow_verdict(&with_shadow))
            }
            Err(error) => {
                tracing::warn!(%error, "shadow policies not evaluated");
                decision
            }
        }
    }

    /// "Would deny" / "would allow": the effect with the shadow policies enforced too, and the
    /// shadow policies that determined it or failed (kept by the decision only if it differs).
    fn shadow_verdict(&self, with_shadow: &Response) -> ShadowVerdict {
        let errored: Vec<String> = with_shadow
            .diagnostics()
            .errors()
            .map(|e| match e {
                AuthorizationError::PolicyEvaluationError(e) => e.policy_id().to_string(),
            })
            .collect();
        let would = match with_shadow.decision() {
            CedarDecision::Allow if errored.is_empty() => Effect::Allow,
            _ => Effect::Deny,
        };
        let policies: Vec<String> = with_shadow
            .diagnostics()
            .reason()
            .map(PolicyId::to_string)
            .chain(errored)
            .filter(|id| self.shadow_ids.contains(id))
            .collect();
        ShadowVerdict::new(would, policies)
    }

    /// Whether `tool` belongs in this caller's tools/list (see [`PolicyEngine::visible_tools`]).
    pub fn authorize_list(&self, principal: &Principal, tool: &str) -> Decision {
        let Some(entry) = self.tool(tool) else {
            return self.deny_with_error(format!("unknown tool `{tool}`"));
        };
        match self.prepare_principal(principal) {
            Ok(principal) => self.list_prepared(&principal, entry),
            Err(e) => self.deny_with_error(e),
        }
    }

    /// The names in `catalog_names` this caller may see, in the given order. A name that is not
    /// in the engine's catalog is left out.
    ///
    /// A tool is listed when some call of it could be permitted: its call action is evaluated
    /// with the arguments unknown (partial evaluation), so a permit that depends on arguments
    /// keeps the tool listed, and a forbid that holds whatever the arguments hides it. A
    /// `forbid` on `Action::"list"` hides a tool; a `permit` on it shows one.
    pub fn visible_tools<S: AsRef<str>>(&self, principal: &Principal, catalog_names: &[S]) -> Vec<String> {
        match self.prepare_principal(principal) {
            Ok(p) => self.visible_tools_prepared(&p, catalog_names),
            Err(_) => Vec::new(),
        }
    }

    /// [`visible_tools`](Self::visible_tools) for a principal prepared once. Each tool is
    /// decided as [`authorize_list`](Self::authorize_list) decides it, once per tool *shape*:
    /// tools that the same policies apply to, with the same attributes, and that no condition
    /// tells apart by name, are listed alike (see `index::Slice::is_identity_free`).
    pub fn visible_tools_prepared<S: AsRef<str>>(
        &self,
        principal: &PrincipalEntity,
        catalog_names: &[S],
    ) -> Vec<String> {
        let mut by_shape: Vec<Option<bool>> = vec![None; self.shape_count];
        catalog_names
            .iter()
            .filter_map(|name| {
                let entry = self.tool(name.as_ref())?;
                let known = by_shape.get(entry.shape).copied().flatten();
                let visible = known.unwrap_or_else(|| {
                    let visible = self.list_prepared(principal, entry).effect() == Effect::Allow;
                    if let Some(slot) = by_shape.get_mut(entry.shape) {
                        *slot = Some(visible);
                    }
                    visible
                });
                visible.then(|| entry.name.clone())
            })
            .collect()
    }

    fn list_prepared(&self, principal: &PrincipalEntity, entry: &ToolEntry) -> Decision {
        match entry
            .list_entities
            .clone()
            .add_entities([principal.entity().clone()], None)
        {
            Ok(entities) => self.list_decision(&entities, principal, entry),
            Err(e) => self.deny_with_error(format!("cannot build entities: {e}")),
        }
    }

    /// List semantics; `entities` holds the principal, the tool, its action entity and `list`.
    fn list_decision(&self, entities: &Entities, principal: &PrincipalEntity, entry: &ToolEntry) -> Decision {
        let puid = principal.uid();
        // 1. An explicit policy on Action::"list" decides first (a forbid hides, a permit shows).
        // No policy on it can apply: Cedar would deny with no reason and no error.
        let list_policies = match entry.list_policies.for_principal(principal, &self.subsets) {
            Ok(p) => p,
            Err(e) => return self.deny_with_error(e.to_string()),
        };
        if !list_policies.is_empty()
            && let Ok(request) = Request::new(
                puid.clone(),
                self.names.list.clone(),
                entry.uid.clone(),
                Context::empty(),
                Some(self.schema.schema()),
            )
        {
            let response = self.authorizer.is_authorized(&request, &list_policies, entities);
            let errors = errors_of(&response);
            if !errors.is_empty() {
                return self.decision(Effect::Deny, reason_of(&response), errors);
            }
            let reason = reason_of(&response);
            if !reason.is_empty() {
                let effect = match response.decision() {
                    CedarDecision::Allow => Effect::Allow,
                    CedarDecision::Deny => Effect::Deny,
                };
                return self.decision(effect, reason, Vec::new());
            }
        }

        // 2. Could some call be permitted? Evaluate the call with `context` unknown.
        let request = match RequestBuilder::default()
            .principal(puid.clone())
            .action(entry.action.clone())
            .resource(entry.uid.clone())
            .schema(self.schema.schema())
            .build()
        {
            Ok(r) => r,
            Err(e) => return self.deny_with_error(format!("cannot build the list request: {e}")),
        };
        let call_policies = match entry.call_policies.enforced.for_principal(principal, &self.subsets) {
            Ok(p) => p,
            Err(e) => return self.deny_with_error(e.to_string()),
        };
        let partial = self
            .authorizer
            .is_authorized_partial(&request, &call_policies, entities);
        let errored: Vec<String> = partial.definitely_errored().map(PolicyId::to_string).collect();
        if !errored.is_empty() {
            let errors = errored
                .iter()
                .map(|id| format!("policy `{id}` failed to evaluate"))
                .collect();
            return self.decision(Effect::Deny, errored, errors);
        }
        match partial.decision() {
            // No forbid holds for sure and some permit holds or may hold.
            Some(CedarDecision::Allow) | None => {
                let mut ids: Vec<String> = partial
                    .may_be_determining()
                    .filter(|p| p.effect() == CedarEffect::Permit)
                    .map(|p| p.id().to_string())
                    .collect();
                ids.sort();
                self.decision(Effect::Allow, ids, Vec::new())
            }
            Some(CedarDecision::Deny) => {
                let mut ids: Vec<String> = partial
                    .definitely_satisfied()
                    .filter(|p| p.effect() == CedarEffect::Forbid)
                    .map(|p| p.id().to_string())
                    .collect();
                ids.sort();
                self.decision(Effect::Deny, ids, Vec::new())
            }
        }
    }

    /// Maps cedar's response, failing closed on evaluation errors.
    pub(crate) fn decision_of(&self, response: &Response) -> Decision {
        let reason = reason_of(response);
        let errors = errors_of(response);
        let effect = match response.decision() {
            CedarDecision::Allow if errors.is_empty() => Effect::Allow,
            _ => Effect::Deny,
        };
        self.decision(effect, reason, errors)
    }
}

fn reason_of(response: &Response) -> Vec<String> {
    let mut ids: Vec<String> = response.diagnostics().reason().map(PolicyId::to_string).collect();
    ids.sort();
    ids
}

fn errors_of(response: &Response) -> Vec<String> {
    response.diagnostics().errors().map(ToString::to_string).collect()
}

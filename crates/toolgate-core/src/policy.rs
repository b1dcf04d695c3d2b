//! The authorization seam between the MCP/REST layers and the policy engine (Cedar in
//! `toolgate-policy`). Kept as a trait so the gate does not depend on the engine's internals.

use serde_json::{Map, Value};

use crate::decision::Decision;
use crate::principal::Principal;

/// Decides what a principal may see and call.
pub trait ToolPolicy: Send + Sync + 'static {
    /// May `principal` call `tool` with exactly these arguments?
    fn authorize_call(&self, principal: &Principal, tool: &str, arguments: &Value) -> Decision;

    /// Removes the members of `arguments` that `tool`'s input schema does not declare, so that
    /// the tool receives exactly what [`authorize_call`](Self::authorize_call) judged. Returns
    /// the removed members' paths. Call it before deciding.
    fn retain_declared(&self, tool: &str, arguments: &mut Map<String, Value>) -> Vec<String> {
        let _ = (tool, arguments);
        Vec::new()
    }

    /// Identifies the policy set in force (recorded with list rows). `None` if unknown.
    fn policy_set_hash(&self) -> Option<String> {
        None
    }

    /// Should `tool` be listed for `principal`: could *some* call of it be permitted?
    fn authorize_list(&self, principal: &Principal, tool: &str) -> Decision;

    /// For each of `tools`, in order: would [`authorize_list`](Self::authorize_list) allow it
    /// (`Decision::is_allowed`)? One call for a whole `tools/list`, so an engine can decide tools
    /// that policies cannot tell apart once (the Cedar engine does: see its `visible_tools`).
    fn listable(&self, principal: &Principal, tools: &[&str]) -> Vec<bool> {
        tools
            .iter()
            .map(|tool| self.authorize_list(principal, tool).is_allowed())
            .collect()
    }

    /// May `principal` get the prompt `name`? (prompts/list shows exactly these.)
    fn authorize_prompt(&self, principal: &Principal, name: &str) -> Decision;

    /// May `principal` read the resource `uri`? (resources/list shows exactly these.)
    fn authorize_resource(&self, principal: &Principal, uri: &str) -> Decision;
}

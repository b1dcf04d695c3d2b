//! The engine as the gate's [`ToolPolicy`].

use serde_json::{Map, Value};
use toolgate_core::{Decision, Principal, ToolPolicy};

use crate::engine::PolicyEngine;

impl ToolPolicy for PolicyEngine {
    fn authorize_call(&self, principal: &Principal, tool: &str, arguments: &Value) -> Decision {
        PolicyEngine::authorize_call(self, principal, tool, arguments)
    }

    fn retain_declared(&self, tool: &str, arguments: &mut Map<String, Value>) -> Vec<String> {
        self.tool(tool)
            .map(|entry| entry.declared.retain(arguments))
            .unwrap_or_default()
    }

    fn policy_set_hash(&self) -> Option<String> {
        Some(PolicyEngine::policy_set_hash(self).to_owned())
    }

    fn authorize_list(&self, principal: &Principal, tool: &str) -> Decision {
        PolicyEngine::authorize_list(self, principal, tool)
    }

    fn authorize_prompt(&self, principal: &Principal, name: &str) -> Decision {
        PolicyEngine::authorize_prompt(self, principal, name)
    }

    fn authorize_resource(&self, principal: &Principal, uri: &str) -> Decision {
        PolicyEngine::authorize_resource(self, principal, uri)
    }
}

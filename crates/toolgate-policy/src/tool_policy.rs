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

    /// Decided once per tool shape ([`PolicyEngine::visible_tools`]); in engine-wide shadow mode
    /// every decision is enforced as an allow, so tool by tool as the default does.
    fn listable(&self, principal: &Principal, tools: &[&str]) -> Vec<bool> {
        if self.is_shadow() {
            return tools
                .iter()
                .map(|tool| PolicyEngine::authorize_list(self, principal, tool).is_allowed())
                .collect();
        }
        let visible = self.visible_tools(principal, tools);
        let mut visible = visible.iter().peekable();
        tools
            .iter()
            .map(|tool| {
                // `visible_tools` keeps the given order, so one pass pairs them up.
                let listed = visible.peek().is_some_and(|name| name.as_str() == *tool);
                if listed {
                    visible.next();
                }
                listed
            })
            .collect()
    }

    fn authorize_prompt(&self, principal: &Principal, name: &str) -> Decision {
        PolicyEngine::authorize_prompt(self, principal, name)
    }

    fn authorize_resource(&self, principal: &Principal, uri: &str) -> Decision {
        PolicyEngine::authorize_resource(self, principal, uri)
    }
}

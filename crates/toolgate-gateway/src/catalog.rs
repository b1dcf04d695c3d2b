//! The aggregated catalog: every upstream's tools, prompts, resources and resource templates,
//! under the names clients see, with the routes back to their upstream.
//!
//! Listings feed it ([`Catalog::observe`]). An *authoritative* listing (toolgate's own
//! connection to the upstream) replaces what is known of that upstream; a listing made for a
//! user's session only adds and updates (users may see different subsets, and one user's view
//! must not remove tools from another's). Each change bumps [`Catalog::version`]; the policy is
//! rebuilt from [`Catalog::snapshot`] (see `sync`).

use std::collections::HashMap;

use parking_lot::RwLock;
use rmcp::model::{Prompt, Resource, ResourceTemplate, Tool};
use toolgate_core::{CatalogItem, ItemKind, ItemOrigin, ItemOrigins, ToolDescriptor};
use toolgate_mcp::{ToolTags, descriptor_of};

use crate::names::{Namespacing, UpstreamName};

/// What one upstream offers, under its own names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Offer {
    pub tools: Vec<Tool>,
    pub prompts: Vec<Prompt>,
    pub resources: Vec<Resource>,
    pub templates: Vec<ResourceTemplate>,
}

/// An upstream as the catalog knows it.
#[derive(Debug, Clone)]
struct Entry {
    name: UpstreamName,
    prefix: bool,
    offer: Offer,
}

/// Two upstreams offering the same name to clients.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the {kind} `{name}` is offered by both upstream `{first}` and upstream `{second}`: rename one (prefix = true, or another separator)"
)]
pub struct Collision {
    pub kind: &'static str,
    pub name: String,
    pub first: String,
    pub second: String,
}

#[derive(Debug, Default)]
struct Routes {
    tools: HashMap<String, (usize, String)>,
    prompts: HashMap<String, (usize, String)>,
    resources: HashMap<String, usize>,
}

#[derive(Debug)]
struct State {
    entries: Vec<Entry>,
    routes: Routes,
    version: u64,
    collisions: Vec<Collision>,
}

/// The shared catalog of one gateway.
#[derive(Debug)]
pub struct Catalog {
    namespacing: Namespacing,
    tags: ToolTags,
    state: RwLock<State>,
}

impl Catalog {
    /// An empty catalog for `upstreams` (name, prefixed?) in configuration order.
    pub fn new(namespacing: Namespacing, tags: ToolTags, upstreams: &[(UpstreamName, bool)]) -> Self {
        Self {
            namespacing,
            tags,
            state: RwLock::new(State {
                entries: upstreams
                    .iter()
                    .map(|(name, prefix)| Entry {
                        name: name.clone(),
                        prefix: *prefix,
                        offer: Offer::default(),
                    })
                    .collect(),
                routes: Routes::default(),
                version: 0,
                collisions: Vec::new(),
            }),
        }
    }

    /// Bumped at every change.
    pub fn version(&self) -> u64 {
        self.state.read().version
    }

    /// Names offered by two upstreams (each later one is left out of the routes).
    pub fn collisions(&self) -> Vec<Collision> {
        self.state.read().collisions.clone()
    }

    /// Records what upstream `index` listed. Returns whether the catalog changed.
    pub fn observe(&self, index: usize, listed: Offer, authoritative: bool) -> bool {
        let mut state = self.state.write();
        let Some(entry) = state.entries.get_mut(index) else {
            return false;
        };
        let merged = if authoritative {
            listed
        } else {
            let mut merged = entry.offer.clone();
            merge(&mut merged.tools, listed.tools, |t| t.name.to_string());
            merge(&mut merged.prompts, listed.prompts, |p| p.name.to_string());
            merge(&mut merged.resources, listed.resources, |r| r.uri.to_string());
            merge(&mut merged.templates, listed.templates, |t| t.uri_template.to_string());
            merged
        };
        if merged == entry.offer {
            return false;
        }
        entry.offer = merged;
        state.version += 1;
        self.reroute(&mut state);
        true
    }

    fn reroute(&self, state: &mut State) {
        let mut routes = Routes::default();
        let mut collisions = Vec::new();
        for (index, entry) in state.entries.iter().enumerate() {
            let mut claim = |table: &mut HashMap<String, (usize, String)>, kind: &'static str, own: &str| {
                let qualified = self.namespacing.qualify(&entry.name, entry.prefix, own);
                match table.get(&qualified) {
                    Some((first, _)) if *first != index => collisions.push(Collision {
                        kind,
                        name: qualified,
                        first: state
                            .entries
                            .get(*first)
                            .map_or_else(String::new, |e| e.name.to_string()),
                        second: entry.name.to_string(),
                    }),
                    Some(_) => {}
                    None => {
                        table.insert(qualified, (index, own.to_owned()));
                    }
                }
            };
            for tool in &entry.offer.tools {
                claim(&mut routes.tools, "tool", &tool.name);
            }
            for prompt in &entry.offer.prompts {
                claim(&mut routes.prompts, "prompt", &prompt.name);
            }
            for resource in &entry.offer.resources {
                routes.resources.entry(resource.uri.to_string()).or_insert(index);
            }
        }
        for collision in &collisions {
            tracing::error!(%collision, "name collision between upstreams: the second is not offered");
        }
        state.routes = routes;
        state.collisions = collisions;
    }

    /// The upstream and own name of a tool clients call `qualified`.
    pub fn route_tool(&self, qualified: &str) -> Option<(usize, String)> {
        self.state.read().routes.tools.get(qualified).cloned()
    }

    pub fn route_prompt(&self, qualified: &str) -> Option<(usize, String)> {
        self.state.read().routes.prompts.get(qualified).cloned()
    }

    /// The upstream of a resource URI: the one that listed it, else the one whose template's
    /// literal prefix matches it (longest prefix wins), else the only upstream with resources.
    pub fn route_resource(&self, uri: &str) -> Option<usize> {
        let state = self.state.read();
        if let Some(index) = state.routes.resources.get(uri) {
            return Some(*index);
        }
        let mut best: Option<(usize, usize)> = None;
        for (index, entry) in state.entries.iter().enumerate() {
            for template in &entry.offer.templates {
                let literal = template.uri_template.split('{').next().unwrap_or_default();
                if !literal.is_empty() && uri.starts_with(literal) && best.is_none_or(|(_, len)| literal.len() > len) {
                    best = Some((index, literal.len()));
                }
            }
        }
        if let Some((index, _)) = best {
            return Some(index);
        }
        let mut with_resources = state
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| !e.offer.resources.is_empty() || !e.offer.templates.is_empty());
        match (with_resources.next(), with_resources.next()) {
            (Some((index, _)), None) => Some(index),
            _ => None,
        }
    }

    /// `tool` of upstream `index` under the name clients see.
    pub fn qualify_tool(&self, index: usize, mut tool: Tool) -> Tool {
        if let Some(entry) = self.state.read().entries.get(index) {
            tool.name = self.namespacing.qualify(&entry.name, entry.prefix, &tool.name).into();
        }
        tool
    }

    pub fn qualify_prompt(&self, index: usize, mut prompt: Prompt) -> Prompt {
        if let Some(entry) = self.state.read().entries.get(index) {
            prompt.name = self.namespacing.qualify(&entry.name, entry.prefix, &prompt.name);
        }
        prompt
    }

    /// What upstream `index` offered last, under its own names.
    pub fn offer(&self, index: usize) -> Offer {
        self.state
            .read()
            .entries
            .get(index)
            .map(|e| e.offer.clone())
            .unwrap_or_default()
    }

    /// The catalog policies are written against: tools (as clients name them, with their
    /// upstream as server), prompts and resources.
    pub fn snapshot(&self) -> toolgate_core::Catalog {
        let state = self.state.read();
        let mut catalog = toolgate_core::Catalog::default();
        for (index, entry) in state.entries.iter().enumerate() {
            let server = Some(entry.name.to_string());
            for tool in &entry.offer.tools {
                let qualified = self.namespacing.qualify(&entry.name, entry.prefix, &tool.name);
                if state.routes.tools.get(&qualified).is_some_and(|(i, _)| *i == index) {
                    let mut renamed = tool.clone();
                    renamed.name = qualified.into();
                    let mut descriptor: ToolDescriptor = descriptor_of(&renamed, &self.tags);
                    descriptor.server = server.clone();
                    catalog.tools.push(descriptor);
                }
            }
            for prompt in &entry.offer.prompts {
                let qualified = self.namespacing.qualify(&entry.name, entry.prefix, &prompt.name);
                if state.routes.prompts.get(&qualified).is_some_and(|(i, _)| *i == index) {
                    catalog.prompts.push(CatalogItem {
                        name: qualified,
                        server: server.clone(),
                    });
                }
            }
            for resource in &entry.offer.resources {
                if state.routes.resources.get(resource.uri.as_str()) == Some(&index) {
                    catalog.resources.push(CatalogItem {
                        name: resource.uri.to_string(),
                        server: server.clone(),
                    });
                }
            }
            for template in &entry.offer.templates {
                catalog.resource_templates.push(CatalogItem {
                    name: template.uri_template.to_string(),
                    server: server.clone(),
                });
            }
        }
        catalog
    }

    /// The name of upstream `index`.
    pub fn upstream_name(&self, index: usize) -> Option<UpstreamName> {
        self.state.read().entries.get(index).map(|e| e.name.clone())
    }
}

impl ItemOrigins for Catalog {
    fn origin(&self, kind: ItemKind, name: &str) -> Option<ItemOrigin> {
        let (index, own) = match kind {
            ItemKind::Tool => self.route_tool(name)?,
            ItemKind::Prompt => self.route_prompt(name)?,
            ItemKind::Resource => (self.route_resource(name)?, name.to_owned()),
        };
        Some(ItemOrigin {
            upstream: self.upstream_name(index)?.to_string(),
            name: own,
        })
    }
}

/// Adds the items of `listed` to `known`, replacing those with the same key.
fn merge<T: PartialEq>(known: &mut Vec<T>, listed: Vec<T>, key: impl Fn(&T) -> String) {
    for item in listed {
        let item_key = key(&item);
        match known.iter_mut().find(|k| key(k) == item_key) {
            Some(slot) => *slot = item,
            None => known.push(item),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn tool(name: &str) -> Tool {
        Tool::new(
            name.to_owned(),
            "a tool",
            json!({"type": "object", "properties": {"n": {"type": "integer"}}})
                .as_object()
                .cloned()
                .unwrap(),
        )
    }

    fn catalog() -> Catalog {
        let names =
            [("github", true), ("tickets", true), ("plain", false)].map(|(n, p)| (UpstreamName::parse(n).unwrap(), p));
        Catalog::new(Namespacing::default(), ToolTags::default(), &names)
    }

    #[test]
    fn names_are_qualified_routed_and_collisions_named() {
        let catalog = catalog();
        let offer = |names: &[&str]| Offer {
            tools: names.iter().map(|n| tool(n)).collect(),
            ..Offer::default()
        };
        assert!(catalog.observe(0, offer(&["search", "create_issue"]), true));
        assert!(catalog.observe(1, offer(&["search"]), true));
        assert!(
            !catalog.observe(1, offer(&["search"]), true),
            "the same listing changes nothing"
        );
        assert_eq!(catalog.route_tool("github__search"), Some((0, "search".into())));
        assert_eq!(catalog.route_tool("tickets__search"), Some((1, "search".into())));
        assert_eq!(catalog.route_tool("search"), None);
        // `plain` opts out of prefixes: its `github__search` collides with github's.
        assert!(catalog.observe(2, offer(&["github__search", "ping_me"]), true));
        let collisions = catalog.collisions();
        assert_eq!(collisions.len(), 1);
        assert_eq!(
            (collisions[0].first.as_str(), collisions[0].second.as_str()),
            ("github", "plain")
        );
        assert_eq!(catalog.route_tool("ping_me"), Some((2, "ping_me".into())));
        let snapshot = catalog.snapshot();
        let names: Vec<_> = snapshot
            .tools
            .iter()
            .map(|t| (t.name.as_str(), t.server.as_deref()))
            .collect();
        assert_eq!(
            names,
            [
                ("github__search", Some("github")),
                ("github__create_issue", Some("github")),
                ("tickets__search", Some("tickets")),
                ("ping_me", Some("plain")),
            ]
        );
    }

    #[test]
    fn a_users_listing_adds_but_never_removes() {
        let catalog = catalog();
        catalog.observe(
            0,
            Offer {
                tools: vec![tool("a"), tool("b")],
                ..Offer::default()
            },
            false,
        );
        assert!(!catalog.observe(
            0,
            Offer {
                tools: vec![tool("a")],
                ..Offer::default()
            },
            false
        ));
        assert!(catalog.route_tool("github__b").is_some());
        assert!(catalog.observe(
            0,
            Offer {
                tools: vec![tool("a")],
                ..Offer::default()
            },
            true
        ));
        assert!(
            catalog.route_tool("github__b").is_none(),
            "an authoritative listing replaces"
        );
    }
}

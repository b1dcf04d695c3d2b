//! Where an item clients see comes from: in gateway mode, tools and prompts are offered under
//! namespaced names (`github__create_issue`) and resources are routed to the upstream that
//! listed them. The audit trail records both names.

/// What kind of item a name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemKind {
    Tool,
    Prompt,
    /// A resource URI.
    Resource,
}

/// The upstream an item comes from and the item's own name there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemOrigin {
    pub upstream: String,
    pub name: String,
}

/// Resolves items to their origin (the gateway's catalog).
pub trait ItemOrigins: Send + Sync + 'static {
    fn origin(&self, kind: ItemKind, name: &str) -> Option<ItemOrigin>;
}

/// The catalog in force (gateway mode: it follows the upstreams), for listings outside MCP
/// such as the REST API's `GET /tools`.
pub trait CatalogSource: Send + Sync + 'static {
    fn catalog(&self) -> crate::tool::Catalog;
}

/// A fixed catalog.
impl CatalogSource for crate::tool::Catalog {
    fn catalog(&self) -> crate::tool::Catalog {
        self.clone()
    }
}

/// One part of the server, as readiness reports it: a name and a state, never error details
/// (readiness is unauthenticated; details go to the logs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentState {
    /// `policy`, `upstream:github` …
    pub name: String,
    pub ready: bool,
    /// `up`, `down`, `unknown`, `in_force`, `previous_set_in_force` …
    pub state: String,
}

/// Parts of the server that can be not ready (upstreams, a policy rebuild that failed).
pub trait ReadinessSource: Send + Sync + 'static {
    fn components(&self) -> Vec<ComponentState>;
}

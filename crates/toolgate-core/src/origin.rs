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

//! toolgate's core vocabulary, shared by every other crate and free of web, database and Redis
//! dependencies: who is calling ([`Principal`]), how a request becomes one ([`AuthProvider`]),
//! how a refusal is spoken over HTTP ([`AuthRejection`], RFC 6750), and what time it is ([`Clock`]).
//!
//! Data flows one way through toolgate: request → provider → principal → policy → tool → audit.

#![cfg_attr(not(test), deny(clippy::string_slice, clippy::indexing_slicing))]

mod audit;
mod clock;
mod decision;
mod origin;
mod policy;
mod principal;
mod provider;
mod provider_set;
mod rate_limit;
mod rejection;
mod reload;
mod request_id;
mod resource_metadata;
mod route;
pub mod text;
mod tool;

pub use audit::{
    ArgumentCapture, AuditDecision, AuditEvent, AuditOutcome, AuditSink, AuditUnavailable, AuditWrite, NoAudit,
    SHADOW_POLICY_PREFIX, argument_digest, canonical_json, capture, limits as audit_limits,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use decision::{Decision, Effect, ShadowVerdict};
pub use origin::{CatalogSource, ComponentState, ItemKind, ItemOrigin, ItemOrigins, ReadinessSource};
pub use policy::ToolPolicy;
pub use principal::{Groups, Principal, PrincipalKind};
pub use provider::{AuthProvider, RequestHead, bearer_token};
pub use provider_set::ProviderSet;
pub use rate_limit::{
    LimitScope, LimitedItem, RateLimitStats, RateLimited, RateLimiter, Throttled, retry_after_seconds,
};
pub use rejection::{AuthRejection, Challenge, RejectReason, RejectionClass};
pub use reload::{PolicyReload, ReloadReport, ReloadTrigger};
pub use request_id::RequestId;
pub use resource_metadata::ProtectedResourceMetadata;
pub use route::{HttpRequest, HttpResponse, PeerAddr, ProviderRoute, RouteHandler};
pub use tool::{Catalog, CatalogItem, ToolAnnotations, ToolCallError, ToolDescriptor, ToolInvoker};

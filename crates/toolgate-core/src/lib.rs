//! toolgate's core vocabulary, shared by every other crate and free of web, database and Redis
//! dependencies: who is calling ([`Principal`]), how a request becomes one ([`AuthProvider`]),
//! how a refusal is spoken over HTTP ([`AuthRejection`], RFC 6750), and what time it is ([`Clock`]).
//!
//! Data flows one way through toolgate: request → provider → principal → policy → tool → audit.

mod audit;
mod clock;
mod decision;
mod policy;
mod principal;
mod provider;
mod provider_set;
mod rejection;
mod resource_metadata;
mod route;
mod tool;

pub use audit::{AuditDecision, AuditEvent, AuditSink, AuditUnavailable, NoAudit};
pub use clock::{Clock, ManualClock, SystemClock};
pub use decision::{Decision, Effect};
pub use policy::ToolPolicy;
pub use principal::{Groups, Principal, PrincipalKind};
pub use provider::{AuthProvider, RequestHead, bearer_token};
pub use provider_set::ProviderSet;
pub use rejection::{AuthRejection, Challenge, RejectReason};
pub use resource_metadata::ProtectedResourceMetadata;
pub use route::{HttpRequest, HttpResponse, PeerAddr, ProviderRoute, RouteHandler};
pub use tool::{ToolAnnotations, ToolCallError, ToolDescriptor, ToolInvoker};

//! The audit trail's vocabulary: one event per decision and per refused request, the sink every
//! stage hands events to, what of a call's arguments is kept ([`ArgumentCapture`]) and their
//! digest. Storage lives in `toolgate-audit`.

mod capture;
mod digest;
mod event;
mod outcome;
mod sink;

pub use capture::{ArgumentCapture, capture};
pub use digest::{argument_digest, canonical_json};
pub use event::{AuditDecision, AuditEvent, AuditWrite, SHADOW_POLICY_PREFIX, limits};
pub use outcome::AuditOutcome;
pub use sink::{AuditSink, AuditUnavailable, NoAudit};

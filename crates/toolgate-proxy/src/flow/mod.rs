//! The state of an authorization as it moves through the proxy — transaction, pending consent,
//! grant, code, refresh token — and the store operations that make each step single-use.

mod grants;
mod records;
mod user;

pub(crate) use grants::{CodeOutcome, Grants, RefreshOutcome};
pub(crate) use records::{ClientRequest, EntraTokens, Grant, IssuedCode, PendingConsent, Purpose, Transaction};
pub use user::UserClaims;

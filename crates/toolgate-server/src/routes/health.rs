//! Liveness: the process answers. (Readiness, which checks keys and the audit store, lives with
//! the components it checks.)

use poem::handler;

#[handler]
pub fn live() -> &'static str {
    "ok"
}

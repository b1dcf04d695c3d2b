//! Binds each MCP session to the principal that created it.
//!
//! rmcp does not: another user's token presented with a known `Mcp-Session-Id` would be served
//! inside the first user's session. Authentication still runs on every request; this layer adds
//! "and it must be the same principal as the session's creator".

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use poem::http::StatusCode;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};
use toolgate_core::Principal;

const SESSION_HEADER: &str = "mcp-session-id";
/// Bindings of sessions idle longer than this are forgotten (rmcp ends such sessions too).
const IDLE_EXPIRY: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug)]
struct Binding {
    principal_id: String,
    last_seen: Instant,
}

/// Session id → owning principal. Shared by every request of one server.
#[derive(Debug, Clone, Default)]
pub struct SessionBindings {
    inner: Arc<Mutex<HashMap<String, Binding>>>,
}

/// What a request with a session id may do.
#[derive(Debug, PartialEq, Eq)]
enum Check {
    Owner,
    Stranger,
    Unknown,
}

impl SessionBindings {
    fn check(&self, session_id: &str, principal_id: &str) -> Check {
        let mut map = self.inner.lock();
        match map.get_mut(session_id) {
            Some(binding) if binding.principal_id == principal_id => {
                binding.last_seen = Instant::now();
                Check::Owner
            }
            Some(_) => Check::Stranger,
            None => Check::Unknown,
        }
    }

    fn bind(&self, session_id: String, principal_id: String) {
        let mut map = self.inner.lock();
        if map.len() > 10_000 {
            map.retain(|_, b| b.last_seen.elapsed() < IDLE_EXPIRY);
        }
        map.insert(
            session_id,
            Binding {
                principal_id,
                last_seen: Instant::now(),
            },
        );
    }

    fn forget(&self, session_id: &str) {
        self.inner.lock().remove(session_id);
    }

    /// How many sessions are bound (tests, metrics).
    pub fn len(&self) -> usize {
        self.inner.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Middleware enforcing [`SessionBindings`]; mount it inside the authentication middleware.
#[derive(Debug, Clone)]
pub struct BindSessions(pub SessionBindings);

impl<E: Endpoint> Middleware<E> for BindSessions {
    type Output = BindSessionsEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        BindSessionsEndpoint {
            bindings: self.0.clone(),
            inner: ep,
        }
    }
}

pub struct BindSessionsEndpoint<E> {
    bindings: SessionBindings,
    inner: E,
}

fn refused() -> Response {
    Response::builder()
        .status(StatusCode::FORBIDDEN)
        .content_type("application/json")
        .body(r#"{"error":"forbidden","message":"this MCP session belongs to another principal"}"#)
}

impl<E: Endpoint> Endpoint for BindSessionsEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let Some(principal_id) = req.extensions().get::<Arc<Principal>>().map(|p| p.id.clone()) else {
            return Ok(StatusCode::UNAUTHORIZED.into_response());
        };
        let presented = req
            .headers()
            .get(SESSION_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let is_delete = req.method() == poem::http::Method::DELETE;
        if let Some(session_id) = &presented {
            match self.bindings.check(session_id, &principal_id) {
                Check::Owner | Check::Unknown => {}
                Check::Stranger => {
                    tracing::warn!(principal = %principal_id, "refused: MCP session presented by a principal that did not create it");
                    return Ok(refused());
                }
            }
        }
        let response = self.inner.call(req).await?.into_response();
        match (
            presented,
            response.headers().get(SESSION_HEADER).and_then(|v| v.to_str().ok()),
        ) {
            (None, Some(created)) if response.status().is_success() => {
                self.bindings.bind(created.to_owned(), principal_id);
            }
            (Some(session_id), _) if is_delete && response.status().is_success() => self.bindings.forget(&session_id),
            _ => {}
        }
        Ok(response)
    }
}

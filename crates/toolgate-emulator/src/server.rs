//! Starting the emulator on an address, and the handle tests hold: base URL, test hooks, shutdown.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use parking_lot::{Mutex, RwLock};
use poem::Server;
use poem::listener::{Acceptor as _, Listener as _, TcpListener};
use serde_json::{Map, Value};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::{ConfigError, EmulatorConfig};
use crate::errors::AadError;
use crate::keys::{KeyRing, sign};
use crate::state::EmulatorState;
use crate::tokens::Shape;

/// Why the emulator could not start or do what a hook asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("signing key: {0}")]
    Key(#[from] toolgate_jose::KeyError),
    #[error("signing failed: {0}")]
    Signing(#[from] toolgate_jose::JwsError),
    /// What Entra would have answered (the AADSTS code is in the error).
    #[error(transparent)]
    Rejected(#[from] AadError),
}

/// The emulator; see [`Emulator::start`].
#[derive(Debug)]
pub struct Emulator;

impl Emulator {
    /// Validates the config, generates signing keys, and serves on `bind` (port 0 picks one).
    pub async fn start(config: EmulatorConfig, bind: SocketAddr) -> Result<RunningEmulator, EmulatorError> {
        config.validate()?;
        let acceptor = TcpListener::bind(bind)
            .into_acceptor()
            .await
            .map_err(|source| EmulatorError::Bind { addr: bind, source })?;
        let local_addr = acceptor
            .local_addr()
            .into_iter()
            .find_map(|a| a.as_socket_addr().copied())
            .ok_or_else(|| EmulatorError::Bind {
                addr: bind,
                source: std::io::Error::other("no local address"),
            })?;
        let base_url = format!("http://{}", reachable(local_addr));
        let state = Arc::new(EmulatorState {
            config,
            base_url,
            keys: RwLock::new(KeyRing::new()?),
            codes: Mutex::new(Default::default()),
            refresh_tokens: Mutex::new(Default::default()),
            jwks_fetches: AtomicU64::new(0),
            metadata_fetches: AtomicU64::new(0),
            outage: AtomicBool::new(false),
            admin_token: crate::state::random_token(32),
        });
        let (tx, rx) = oneshot::channel::<()>();
        let app = crate::routes::app(Arc::clone(&state));
        let task = tokio::spawn(async move {
            let signal = async {
                let _ = rx.await;
            };
            if let Err(err) = Server::new_with_acceptor(acceptor)
                .run_with_graceful_shutdown(app, signal, None)
                .await
            {
                tracing::error!(%err, "emulator server stopped");
            }
        });
        tracing::info!(base_url = %state.base_url, "Entra emulator listening");
        Ok(RunningEmulator {
            state,
            local_addr,
            shutdown: Some(tx),
            task: Some(task),
        })
    }
}

/// A wildcard bind address is reachable on loopback; URLs must name a real host.
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port()),
        IpAddr::V6(ip) if ip.is_unspecified() => SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), addr.port()),
        _ => addr,
    }
}

/// What a token request asks for, to build tokens without HTTP (tests, benchmarks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequestSpec {
    /// Tenant id, domain, name, or `common`/`organizations`.
    pub tenant: String,
    /// The client app asking.
    pub client_id: String,
    /// User name or UPN; `None` = app-only (client credentials).
    pub user: Option<String>,
    /// Scopes as sent to `/token`.
    pub scopes: Vec<String>,
}

/// A running emulator. Dropping it stops the server.
#[derive(Debug)]
pub struct RunningEmulator {
    state: Arc<EmulatorState>,
    local_addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl RunningEmulator {
    /// The authority host, standing for `https://login.microsoftonline.com`.
    pub fn base_url(&self) -> String {
        self.state.base_url.clone()
    }

    /// The credential for the HTTP hooks that change state (`POST /_emulator/rotate-keys`):
    /// send it as `Authorization: Bearer {token}`. Random for each start (43 base64url
    /// characters, 256 bits); whoever started the emulator (a test, `toolgate emulator`,
    /// `toolgate dev`) holds it.
    pub fn admin_token(&self) -> &str {
        &self.state.admin_token
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn config(&self) -> &EmulatorConfig {
        &self.state.config
    }

    /// `{base}/{tid}/v2.0`.
    pub fn v2_issuer(&self, tenant_id: &str) -> String {
        self.state.v2_issuer(tenant_id)
    }

    /// `{base}/{tid}/`, standing for `https://sts.windows.net/{tid}/`.
    pub fn v1_issuer(&self, tenant_id: &str) -> String {
        self.state.v1_issuer(tenant_id)
    }

    /// Stops the server and waits for it.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// GETs of any keys endpoint since start (outage answers included).
    pub fn jwks_fetch_count(&self) -> u64 {
        self.state.jwks_fetches.load(Ordering::SeqCst)
    }

    /// GETs of any openid-configuration document since start.
    pub fn metadata_fetch_count(&self) -> u64 {
        self.state.metadata_fetches.load(Ordering::SeqCst)
    }

    /// While down, discovery and keys endpoints answer 503.
    pub fn set_outage(&self, down: bool) {
        self.state.outage.store(down, Ordering::SeqCst);
    }

    /// Makes a new key active and publishes it; old keys stay published unless `retire_old`.
    /// Returns the new `kid` (empty only if key generation failed, which is logged).
    pub fn rotate_keys(&self, retire_old: bool) -> String {
        match self.state.keys.write().rotate(retire_old) {
            Ok(kid) => kid,
            Err(err) => {
                tracing::error!(%err, "key rotation failed");
                String::new()
            }
        }
    }

    pub fn active_kid(&self) -> String {
        self.state
            .keys
            .read()
            .active()
            .map(|k| k.kid().to_owned())
            .unwrap_or_default()
    }

    /// Signs any claims with the active key (negative tests); `header_extra` adds header members.
    pub fn sign_with_active_key(&self, header_extra: Map<String, Value>, claims: Value) -> String {
        let signed = self
            .state
            .keys
            .read()
            .active()
            .map_err(EmulatorError::from)
            .and_then(|key| sign(&key, header_extra, &claims, false).map_err(EmulatorError::from));
        signed.unwrap_or_else(|err| {
            tracing::error!(%err, "test signing failed");
            String::new()
        })
    }

    /// Signs with a key that is not in the JWKS but presents the active `kid`.
    pub fn sign_with_unpublished_key(&self, header_extra: Map<String, Value>, claims: Value) -> String {
        let signed = self
            .state
            .keys
            .read()
            .unpublished_with_active_kid()
            .map_err(EmulatorError::from)
            .and_then(|key| sign(&key, header_extra, &claims, false).map_err(EmulatorError::from));
        signed.unwrap_or_else(|err| {
            tracing::error!(%err, "test signing failed");
            String::new()
        })
    }

    /// The claims `/token` would put in an access token for this request.
    pub fn access_token_claims(&self, req: &TokenRequestSpec) -> Result<Value, EmulatorError> {
        Ok(crate::spec::claims_for(&self.state, req)?.0)
    }

    /// The same, signed as `/token` would sign it (no HTTP).
    pub fn issue_access_token(&self, req: &TokenRequestSpec) -> Result<String, EmulatorError> {
        let (claims, shape): (Value, Shape) = crate::spec::claims_for(&self.state, req)?;
        Ok(crate::tokens::sign_token(&self.state, &claims, shape)?)
    }
}

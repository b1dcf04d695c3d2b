//! Shared server state: config, keys, issued codes and refresh tokens, test-hook counters.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64};

use parking_lot::{Mutex, RwLock};

use crate::config::{EmulatorConfig, RedirectPlatform};
use crate::keys::KeyRing;
use crate::scopes::ResolvedScopes;

/// Who signed in, to which client, for what: what a code or refresh token stands for.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub tenant_id: String,
    pub client_id: String,
    pub user_oid: String,
    pub scopes: ResolvedScopes,
    pub platform: RedirectPlatform,
    /// `azpacr`/`appidacr`: "1" when the client authenticated with a secret, else "0".
    pub azpacr: &'static str,
    /// The B2C user flow signed in through (`tfp`), `None` for Entra sign-ins.
    pub policy: Option<String>,
}

/// An issued authorization code.
#[derive(Debug, Clone)]
pub(crate) struct AuthCode {
    pub grant: Grant,
    pub redirect_uri: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<(String, String)>,
    pub expires_at: i64,
    pub redeemed: bool,
}

/// An issued refresh token.
#[derive(Debug, Clone)]
pub(crate) struct RefreshGrant {
    pub grant: Grant,
    pub expires_at: i64,
}

#[derive(Debug)]
pub(crate) struct EmulatorState {
    pub config: EmulatorConfig,
    pub base_url: String,
    pub keys: RwLock<KeyRing>,
    pub codes: Mutex<HashMap<String, AuthCode>>,
    pub refresh_tokens: Mutex<HashMap<String, RefreshGrant>>,
    pub jwks_fetches: AtomicU64,
    pub metadata_fetches: AtomicU64,
    pub outage: AtomicBool,
    /// The credential `/_emulator/` hooks that change state require (`Authorization: Bearer …`);
    /// random per start, handed out by [`crate::RunningEmulator::admin_token`].
    pub admin_token: String,
}

impl EmulatorState {
    pub(crate) fn v2_issuer(&self, tenant_id: &str) -> String {
        format!("{}/{tenant_id}/v2.0", self.base_url)
    }

    /// Stands for B2C's default issuer `https://{name}.b2clogin.com/{tid}/v2.0/` (trailing slash
    /// included, as B2C writes it).
    pub(crate) fn b2c_issuer(&self, tenant_id: &str) -> String {
        format!("{}/{tenant_id}/v2.0/", self.base_url)
    }

    /// Stands for `https://sts.windows.net/{tid}/`.
    pub(crate) fn v1_issuer(&self, tenant_id: &str) -> String {
        format!("{}/{tenant_id}/", self.base_url)
    }
}

pub(crate) fn now() -> i64 {
    toolgate_core::Clock::now_unix(&toolgate_core::SystemClock)
}

/// An opaque random value (codes, refresh tokens, `aio`, `uti`).
pub(crate) fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::fill(buf.as_mut_slice());
    toolgate_jose::base64url_encode(buf)
}

//! Records kept in the state store. Each has a TTL there; none holds a secret in clear text
//! (Entra tokens are [`Sealed`], codes and refresh tokens are keyed by digest).

use serde::{Deserialize, Serialize};

use super::UserClaims;
use crate::client::ClientSource;
use crate::crypto::{PkceChallenge, PkceVerifier, Sealed};
use crate::web::refusal::ClientRedirect;

/// A client's validated authorization request, carried until the code is issued.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ClientRequest {
    pub client_id: String,
    pub client_name: String,
    /// How the client is known; the consent page says so.
    pub client_source: ClientSource,
    /// Exactly as presented (and matched) at `/authorize`; `/token` must present it again.
    pub redirect_uri: String,
    pub state: Option<String>,
    pub challenge: PkceChallenge,
    /// Short scope names granted.
    pub scopes: Vec<String>,
}

impl ClientRequest {
    /// Where the client's answer goes: the verified redirect URI and the client's `state`.
    pub fn redirect(&self) -> ClientRedirect {
        ClientRedirect {
            redirect_uri: self.redirect_uri.clone(),
            state: self.state.clone(),
        }
    }
}

/// Why a sign-in was started.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Purpose {
    /// An OAuth client's `/authorize`.
    Client(ClientRequest),
    /// `/auth/login`: a person wants a one-time code for a tool that cannot do OAuth.
    BrowserLogin,
}

/// `/authorize` → Entra → `/auth/callback`. Keyed by the random id sent to Entra as `state`.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Transaction {
    pub purpose: Purpose,
    /// The proxy's own PKCE verifier toward Entra.
    #[serde(with = "crate::crypto::pkce_sealed")]
    pub upstream_verifier: PkceVerifier,
    /// The random value in the browser-binding cookie set at `/authorize`: the browser that
    /// returns from Entra (and later consents) must be the one that started.
    pub binding: String,
    /// Whether a remembered consent may skip the page: only when `/authorize` was reached by the
    /// user or from this origin (`Sec-Fetch-Site: none` or `same-origin`). A link on another
    /// site, or a browser that sends no Fetch Metadata, gets the page even for a client approved
    /// before.
    #[serde(default)]
    pub may_skip_consent: bool,
}

/// After sign-in, before the user approves: keyed by a random id in the consent form.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PendingConsent {
    pub request: ClientRequest,
    pub user: UserClaims,
    /// Entra tokens, sealed with the pending id as associated data.
    pub upstream: Sealed,
    pub binding: String,
    /// Name of the browser-binding cookie (per transaction, so parallel sign-ins do not collide).
    pub binding_cookie: String,
    /// Digest of the CSRF token in the form and cookie.
    pub csrf_digest: String,
}

/// A grant: one user's authorization of one client, the family of every refresh token rotated
/// from it. Deleting it revokes them all. Keyed by a random id (`sid` in access tokens).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Grant {
    pub client_id: String,
    pub user: UserClaims,
    pub scopes: Vec<String>,
    /// Entra tokens, sealed with the grant id as associated data.
    pub upstream: Sealed,
    /// When the grant (and with it every refresh token) ends.
    pub expires_at: i64,
}

/// The proxy's authorization code, single-use. Keyed by the code's digest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct IssuedCode {
    pub grant_id: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub challenge: PkceChallenge,
}

/// Tokens Entra issued to the proxy for the user.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct EntraTokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_at: i64,
}

impl std::fmt::Debug for EntraTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntraTokens")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

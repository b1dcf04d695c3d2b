//! Entra as the proxy's upstream: its own confidential client, its own PKCE pair, short scopes
//! mapped to `api://…`, `resource` never sent (Entra v2 answers AADSTS9010010 to it),
//! `offline_access` always added (no refresh token otherwise).

use std::time::Duration;

use serde::Deserialize;
use thiserror::Error;
use toolgate_core::Clock;
use url::Url;

use crate::config::UpstreamConfig;
use crate::crypto::PkceVerifier;
use crate::flow::EntraTokens;
use crate::oauth_error::OAuthError;

/// OIDC scopes always requested: `openid profile` for the user's name on the consent page,
/// `offline_access` for a refresh token.
const OIDC_SCOPES: [&str; 3] = ["openid", "profile", "offline_access"];

/// Why Entra's token endpoint did not give the proxy tokens.
#[derive(Debug, Error)]
pub enum UpstreamError {
    #[error("Entra could not be reached: {0}")]
    Unreachable(String),
    /// Entra refused (the HTTP status, the `error` and the AADSTS code, never a token).
    #[error("Entra refused the request (HTTP {status}): {error} ({description})")]
    Refused {
        status: u16,
        error: String,
        description: String,
    },
    #[error("Entra's token response was not understood: {0}")]
    BadResponse(String),
}

impl UpstreamError {
    /// The grant is dead upstream (revoked, password changed, consent withdrawn).
    pub fn is_invalid_grant(&self) -> bool {
        matches!(self, Self::Refused { error, .. } if error == "invalid_grant")
    }

    /// Worth retrying later: Entra could not be reached, answered 5xx, or said
    /// `temporarily_unavailable` / `server_error`.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable(_) => true,
            Self::Refused { status, error, .. } => {
                *status >= 500 || matches!(error.as_str(), "temporarily_unavailable" | "server_error")
            }
            Self::BadResponse(_) => false,
        }
    }
}

/// Seconds a client should wait when Entra is unavailable.
const ENTRA_RETRY_AFTER_SECONDS: u32 = 5;

impl UpstreamError {
    /// The error the client gets when Entra refused to redeem the sign-in's code (RFC 6749
    /// §4.1.2.1 codes): `invalid_grant` (AADSTS70008 expired or unknown code, AADSTS54005 already
    /// redeemed, AADSTS70043 expired by policy) means the sign-in must start again —
    /// `access_denied`; Entra unreachable or busy — `temporarily_unavailable`; anything else is
    /// Entra refusing toolgate's own request (secret, configuration) — `server_error`.
    pub(crate) fn for_client(&self) -> OAuthError {
        if self.is_invalid_grant() {
            OAuthError::access_denied(
                "Entra ID did not accept the sign-in (it expired or was already used); start again",
            )
        } else if self.is_transient() {
            OAuthError::unavailable(
                "Entra ID could not complete the sign-in right now; try again",
                ENTRA_RETRY_AFTER_SECONDS,
            )
        } else {
            OAuthError::server_error("Entra ID refused to complete the sign-in for this server")
        }
    }
}

/// The error the client gets for Entra's `error` on the callback (RFC 6749 §4.1.2.1, OIDC Core
/// §3.1.2.6): the user cancelled or Entra needs an interaction — `access_denied`; Entra is down
/// — `temporarily_unavailable`; any other code is about toolgate's own request — `server_error`.
pub(crate) fn callback_error(code: &str) -> OAuthError {
    match code {
        "access_denied"
        | "consent_required"
        | "interaction_required"
        | "login_required"
        | "account_selection_required" => OAuthError::access_denied("the sign-in at Entra ID was cancelled or refused"),
        "temporarily_unavailable" | "server_error" => OAuthError::unavailable(
            "Entra ID is temporarily unavailable; try again",
            ENTRA_RETRY_AFTER_SECONDS,
        ),
        _ => OAuthError::server_error("Entra ID refused this server's sign-in request"),
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<i64>,
}

#[derive(Deserialize)]
struct ErrorResponse {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

/// Talks to Entra's v2.0 endpoints for one tenant.
pub(crate) struct Upstream {
    config: UpstreamConfig,
    http: reqwest::Client,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Upstream {
    pub fn new(config: UpstreamConfig) -> Result<Self, UpstreamError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| UpstreamError::Unreachable(e.to_string()))?;
        Ok(Self { config, http })
    }

    fn endpoint(&self, name: &str) -> String {
        format!(
            "{}/{}/oauth2/v2.0/{name}",
            self.config.authority_host.trim_end_matches('/'),
            self.config.tenant
        )
    }

    /// `access_as_user` → `api://{app}/access_as_user`, plus the OIDC scopes.
    pub fn entra_scopes(&self, short: &[String]) -> String {
        let prefix = self.config.scope_prefix.trim_end_matches('/');
        short
            .iter()
            .map(|s| format!("{prefix}/{s}"))
            .chain(OIDC_SCOPES.iter().map(|s| (*s).to_owned()))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Where the browser goes to sign in: `state` is the transaction id.
    pub fn authorize_url(
        &self,
        redirect_uri: &str,
        short_scopes: &[String],
        state: &str,
        verifier: &PkceVerifier,
        login_hint: Option<&str>,
    ) -> Result<Url, url::ParseError> {
        let mut url = Url::parse(&self.endpoint("authorize"))?;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("client_id", &self.config.client_id)
                .append_pair("response_type", "code")
                .append_pair("response_mode", "query")
                .append_pair("redirect_uri", redirect_uri)
                .append_pair("scope", &self.entra_scopes(short_scopes))
                .append_pair("state", state)
                .append_pair("code_challenge", verifier.challenge().as_str())
                .append_pair("code_challenge_method", "S256");
            if let Some(hint) = login_hint {
                query.append_pair("login_hint", hint);
            }
        }
        Ok(url)
    }

    /// Redeems Entra's code with the proxy's secret and verifier.
    pub async fn redeem_code(
        &self,
        code: &str,
        redirect_uri: &str,
        short_scopes: &[String],
        verifier: &PkceVerifier,
        clock: &dyn Clock,
    ) -> Result<EntraTokens, UpstreamError> {
        let scope = self.entra_scopes(short_scopes);
        let form = [
            ("grant_type", "authorization_code"),
            ("client_id", self.config.client_id.as_str()),
            ("client_secret", self.config.client_secret.as_str()),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier.expose()),
            ("scope", scope.as_str()),
        ];
        self.token_request(&form, clock).await
    }

    /// Refreshes the proxy's Entra tokens (to keep roles current and to hand tools a fresh
    /// token for On-Behalf-Of).
    pub async fn refresh(
        &self,
        refresh_token: &str,
        short_scopes: &[String],
        clock: &dyn Clock,
    ) -> Result<EntraTokens, UpstreamError> {
        let scope = self.entra_scopes(short_scopes);
        let form = [
            ("grant_type", "refresh_token"),
            ("client_id", self.config.client_id.as_str()),
            ("client_secret", self.config.client_secret.as_str()),
            ("refresh_token", refresh_token),
            ("scope", scope.as_str()),
        ];
        let mut tokens = self.token_request(&form, clock).await?;
        // Entra may omit a new refresh token; the old one then stays valid.
        tokens.refresh_token.get_or_insert_with(|| refresh_token.to_owned());
        Ok(tokens)
    }

    async fn token_request(&self, form: &[(&str, &str)], clock: &dyn Clock) -> Result<EntraTokens, UpstreamError> {
        let response = self
            .http
            .post(self.endpoint("token"))
            .form(form)
            .send()
            .await
            .map_err(|e| UpstreamError::Unreachable(e.without_url().to_string()))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| UpstreamError::Unreachable(e.without_url().to_string()))?;
        if !status.is_success() {
            let error: ErrorResponse = serde_json::from_slice(&body).unwrap_or(ErrorResponse {
                error: format!("http_{}", status.as_u16()),
                error_description: String::new(),
            });
            // Entra's descriptions carry the AADSTS code and trace ids, never tokens.
            let description: String = error
                .error_description
                .lines()
                .next()
                .unwrap_or_default()
                .chars()
                .take(300)
                .collect();
            return Err(UpstreamError::Refused {
                status: status.as_u16(),
                error: error.error,
                description,
            });
        }
        let parsed: TokenResponse =
            serde_json::from_slice(&body).map_err(|e| UpstreamError::BadResponse(e.to_string()))?;
        Ok(EntraTokens {
            access_token: parsed.access_token,
            refresh_token: parsed.refresh_token,
            expires_at: clock.now_unix().saturating_add(parsed.expires_in.unwrap_or(3600)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(status: u16, error: &str) -> UpstreamError {
        UpstreamError::Refused {
            status,
            error: error.to_owned(),
            description: "AADSTS70008: …".to_owned(),
        }
    }

    #[test]
    fn entra_failures_at_redemption_map_to_rfc_6749_codes() {
        for (error, code) in [
            (refused(400, "invalid_grant"), "access_denied"),
            (
                UpstreamError::Unreachable("connection refused".into()),
                "temporarily_unavailable",
            ),
            (refused(503, "http_503"), "temporarily_unavailable"),
            (refused(500, "server_error"), "temporarily_unavailable"),
            (refused(400, "temporarily_unavailable"), "temporarily_unavailable"),
            (refused(401, "invalid_client"), "server_error"),
            (refused(400, "unauthorized_client"), "server_error"),
            (UpstreamError::BadResponse("not JSON".into()), "server_error"),
        ] {
            assert_eq!(error.for_client().code(), code, "{error}");
        }
    }

    #[test]
    fn entra_callback_errors_map_to_rfc_6749_codes() {
        for (entra, code) in [
            ("access_denied", "access_denied"),
            ("consent_required", "access_denied"),
            ("interaction_required", "access_denied"),
            ("login_required", "access_denied"),
            ("temporarily_unavailable", "temporarily_unavailable"),
            ("server_error", "temporarily_unavailable"),
            ("invalid_request", "server_error"),
            ("unauthorized_client", "server_error"),
            ("invalid_scope", "server_error"),
            ("anything\nelse", "server_error"),
        ] {
            assert_eq!(callback_error(entra).code(), code, "{entra}");
        }
    }
}

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

/// OIDC scopes always requested: `openid profile` for the user's name on the consent page,
/// `offline_access` for a refresh token.
const OIDC_SCOPES: [&str; 3] = ["openid", "profile", "offline_access"];

/// Why Entra's token endpoint did not give the proxy tokens.
#[derive(Debug, Error)]
pub enum UpstreamError {
    #[error("Entra could not be reached: {0}")]
    Unreachable(String),
    /// Entra refused (the `error` and the AADSTS code, never a token).
    #[error("Entra refused the request: {error} ({description})")]
    Refused { error: String, description: String },
    #[error("Entra's token response was not understood: {0}")]
    BadResponse(String),
}

impl UpstreamError {
    /// The grant is dead upstream (revoked, password changed, consent withdrawn).
    pub fn is_invalid_grant(&self) -> bool {
        matches!(self, Self::Refused { error, .. } if error == "invalid_grant")
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

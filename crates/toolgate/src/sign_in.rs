//! Signing a user in through an authority's real endpoints — authorization code + PKCE S256 —
//! without a browser, using the emulator's non-interactive path (`prompt=none` + `login_hint`).
//! Used by `toolgate token` and by tests, so both run the flow a real client runs.

use rand::RngCore as _;
use serde::Deserialize;

/// One sign-in: who, through which client, for which scopes.
#[derive(Debug, Clone)]
pub struct SignIn {
    /// Authority host (the emulator's base URL).
    pub authority: String,
    /// Tenant id or domain.
    pub tenant: String,
    pub client_id: String,
    pub redirect_uri: String,
    /// User name (`alice`) or UPN.
    pub user: String,
    pub scopes: Vec<String>,
}

/// What the token endpoint answered.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub id_token: Option<String>,
    /// The whole JSON response.
    pub raw: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("cannot reach {url}: {source}")]
    Http { url: String, source: reqwest::Error },
    #[error("sign-in failed: {0}")]
    Authorize(String),
    #[error("the token endpoint refused: {0}")]
    Token(String),
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    id_token: Option<String>,
}

fn random_b64(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buffer);
    toolgate_jose::base64url_encode(buffer)
}

impl SignIn {
    /// Runs authorize → redirect → token exchange.
    pub async fn run(&self) -> Result<SignedIn, SignInError> {
        let authority = format!("{}/{}", self.authority.trim_end_matches('/'), self.tenant);
        let scope = self.scopes.join(" ");
        let verifier = random_b64(32);
        let challenge = toolgate_jose::base64url_encode(aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA256,
            verifier.as_bytes(),
        ));
        let state = random_b64(16);
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|source| SignInError::Http {
                url: authority.clone(),
                source,
            })?;

        let authorize_url = format!("{authority}/oauth2/v2.0/authorize");
        let response = http
            .get(&authorize_url)
            .query(&[
                ("client_id", self.client_id.as_str()),
                ("response_type", "code"),
                ("redirect_uri", self.redirect_uri.as_str()),
                ("scope", scope.as_str()),
                ("state", state.as_str()),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
                ("prompt", "none"),
                ("login_hint", self.user.as_str()),
            ])
            .send()
            .await
            .map_err(|source| SignInError::Http {
                url: authorize_url.clone(),
                source,
            })?;
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                SignInError::Authorize(format!(
                    "the authorize endpoint answered {} without a redirect",
                    response.status()
                ))
            })?;
        let redirect = url::Url::parse(location).map_err(|e| SignInError::Authorize(format!("bad redirect: {e}")))?;
        let param = |name: &str| {
            redirect
                .query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        if let Some(error) = param("error") {
            return Err(SignInError::Authorize(format!(
                "{error}: {}",
                param("error_description").unwrap_or_default()
            )));
        }
        if param("state").as_deref() != Some(state.as_str()) {
            return Err(SignInError::Authorize("state mismatch in the redirect".into()));
        }
        let code = param("code").ok_or_else(|| SignInError::Authorize("no code in the redirect".into()))?;

        let token_url = format!("{authority}/oauth2/v2.0/token");
        let response = http
            .post(&token_url)
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", self.client_id.as_str()),
                ("code", code.as_str()),
                ("redirect_uri", self.redirect_uri.as_str()),
                ("code_verifier", verifier.as_str()),
                ("scope", scope.as_str()),
            ])
            .send()
            .await
            .map_err(|source| SignInError::Http {
                url: token_url.clone(),
                source,
            })?;
        let status = response.status();
        let raw = response.text().await.map_err(|source| SignInError::Http {
            url: token_url.clone(),
            source,
        })?;
        if !status.is_success() {
            return Err(SignInError::Token(raw));
        }
        let parsed: TokenResponse = serde_json::from_str(&raw).map_err(|e| SignInError::Token(e.to_string()))?;
        Ok(SignedIn {
            access_token: parsed.access_token,
            refresh_token: parsed.refresh_token,
            id_token: parsed.id_token,
            raw,
        })
    }
}

//! The one place where an [`OAuthError`] becomes an HTTP answer. A handler decides *where* the
//! error goes ([`Delivery`]); this module decides *how*:
//!
//! - [`Delivery::Json`]: `{error, error_description}` with the code's status (RFC 6749 §5.2),
//!   `WWW-Authenticate: Basic` for `invalid_client` after Basic, `Retry-After` when busy;
//! - [`Delivery::Page`]: toolgate's own error page — the browser stays here and nothing reaches
//!   any redirect URI (used until the client and its redirect URI are vouched for, see
//!   `docs/entra-proxy.md` "Where errors go");
//! - [`Delivery::Redirect`]: 302 to the client's verified redirect URI with `error`,
//!   `error_description`, the client's `state` (only if it sent one) and RFC 9207 `iss`
//!   (RFC 6749 §4.1.2.1).

use http::{HeaderName, HeaderValue, StatusCode, header};
use serde::{Deserialize, Serialize};
use toolgate_core::HttpResponse;
use url::Url;

use crate::oauth_error::OAuthError;
use crate::web::{pages, responses};

/// A client's verified redirect URI and the `state` it sent: where its answer goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ClientRedirect {
    /// Exactly as presented (and matched against the registration) at `/authorize`.
    pub redirect_uri: String,
    pub state: Option<String>,
}

impl ClientRedirect {
    /// 302 to the redirect URI with `params`, then `state` (if the client sent one) and `iss`.
    pub fn redirect(&self, issuer: &str, params: &[(&str, &str)], cookies: &[String]) -> HttpResponse {
        let Ok(mut url) = Url::parse(&self.redirect_uri) else {
            // Unreachable for a redirect URI that passed `RedirectUri::parse`; fail closed on a page.
            let error = OAuthError::invalid_request("the redirect URI is not a URL");
            return page(&error, "Invalid redirect URI", cookies, None);
        };
        {
            let mut query = url.query_pairs_mut();
            for (name, value) in params {
                query.append_pair(name, value);
            }
            if let Some(state) = &self.state {
                query.append_pair("state", state);
            }
            query.append_pair("iss", issuer);
        }
        responses::redirect(url.as_str(), cookies)
    }
}

/// Where a refused request's answer goes.
#[derive(Debug, Clone)]
pub(crate) enum Delivery {
    /// A JSON body: the token, revocation, registration and exchange endpoints.
    Json,
    /// toolgate's own page, titled; nothing is sent to any client.
    Page { title: &'static str },
    /// Back to the client (its redirect URI is verified and vouched for).
    Redirect(ClientRedirect),
}

/// An [`OAuthError`] on its way to the client or the user.
#[derive(Debug)]
pub(crate) struct Refusal(Box<Parts>);

#[derive(Debug)]
struct Parts {
    error: OAuthError,
    delivery: Delivery,
    cookies: Vec<String>,
    status: Option<StatusCode>,
    headers: Vec<(HeaderName, &'static str)>,
}

impl Refusal {
    pub fn new(error: OAuthError, delivery: Delivery) -> Self {
        Self(Box::new(Parts {
            error,
            delivery,
            cookies: Vec::new(),
            status: None,
            headers: Vec::new(),
        }))
    }

    /// A header to add (`Allow` on a 405).
    pub fn with_header(mut self, name: HeaderName, value: &'static str) -> Self {
        self.0.headers.push((name, value));
        self
    }

    /// Cookies to set (or clear) with the answer.
    pub fn with_cookies(mut self, cookies: impl IntoIterator<Item = String>) -> Self {
        self.0.cookies.extend(cookies);
        self
    }

    /// Overrides the status of a JSON or page answer (405 for a wrong method, 404 for a disabled endpoint).
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.0.status = Some(status);
        self
    }

    /// The HTTP answer. `issuer` is the proxy's issuer (RFC 9207 `iss` on redirects).
    pub fn into_response(self, issuer: &str) -> HttpResponse {
        let Parts {
            error,
            delivery,
            cookies,
            status,
            headers,
        } = *self.0;
        let mut response = match delivery {
            Delivery::Json => {
                let body = serde_json::json!({
                    "error": error.code(),
                    "error_description": error.description().as_str(),
                });
                let mut response = responses::json(status.unwrap_or_else(|| error.status()), &body);
                if let OAuthError::InvalidClient {
                    basic_challenge: true, ..
                } = error
                {
                    response.headers_mut().insert(
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static("Basic realm=\"toolgate\""),
                    );
                }
                for cookie in &cookies {
                    if let Ok(value) = HeaderValue::from_str(cookie) {
                        response.headers_mut().append(header::SET_COOKIE, value);
                    }
                }
                response
            }
            Delivery::Page { title } => page(&error, title, &cookies, status),
            Delivery::Redirect(to) => to.redirect(
                issuer,
                &[
                    ("error", error.code()),
                    ("error_description", error.description().as_str()),
                ],
                &cookies,
            ),
        };
        for (name, value) in headers {
            response.headers_mut().insert(name, HeaderValue::from_static(value));
        }
        if let Some(seconds) = error.retry_after() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

fn page(error: &OAuthError, title: &str, cookies: &[String], status: Option<StatusCode>) -> HttpResponse {
    responses::page(
        status.unwrap_or_else(|| error.page_status()),
        pages::error(title, error.code(), error.description().as_str()),
        cookies,
    )
}

impl From<OAuthError> for Refusal {
    fn from(error: OAuthError) -> Self {
        Self::new(error, Delivery::Json)
    }
}

/// Choosing where an error goes, on a `Result`.
pub(crate) trait Deliver<T> {
    /// Shown on toolgate's page titled `title`.
    fn on_page(self, title: &'static str) -> Result<T, Refusal>;
    /// Sent to the client's redirect URI.
    fn to_client(self, to: &ClientRedirect) -> Result<T, Refusal>;
}

impl<T, E: Into<OAuthError>> Deliver<T> for Result<T, E> {
    fn on_page(self, title: &'static str) -> Result<T, Refusal> {
        self.map_err(|e| Refusal::new(e.into(), Delivery::Page { title }))
    }

    fn to_client(self, to: &ClientRedirect) -> Result<T, Refusal> {
        self.map_err(|e| Refusal::new(e.into(), Delivery::Redirect(to.clone())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(response: &HttpResponse, name: header::HeaderName) -> Option<&str> {
        response.headers().get(name).and_then(|v| v.to_str().ok())
    }

    #[test]
    fn json_answers_carry_code_status_and_headers() -> Result<(), Box<dyn std::error::Error>> {
        let response = Refusal::from(OAuthError::invalid_client("wrong secret", true)).into_response("https://i");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            header(&response, header::WWW_AUTHENTICATE),
            Some("Basic realm=\"toolgate\"")
        );
        let body: serde_json::Value = serde_json::from_slice(response.body())?;
        assert_eq!(body["error"], "invalid_client");
        assert_eq!(body["error_description"], "wrong secret");
        assert_eq!(header(&response, header::CACHE_CONTROL), Some("no-store"));

        let busy = Refusal::from(OAuthError::limited("slow down", 60)).into_response("https://i");
        assert_eq!(busy.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(header(&busy, header::RETRY_AFTER), Some("60"));
        let overridden = Refusal::from(OAuthError::invalid_request("no"))
            .with_status(StatusCode::NOT_FOUND)
            .into_response("https://i");
        assert_eq!(overridden.status(), StatusCode::NOT_FOUND);
        Ok(())
    }

    #[test]
    fn redirects_carry_error_state_only_if_sent_and_iss() -> Result<(), Box<dyn std::error::Error>> {
        let with_state = ClientRedirect {
            redirect_uri: "http://127.0.0.1:9/cb?keep=1".into(),
            state: Some("s1".into()),
        };
        let response = Refusal::new(OAuthError::access_denied("no"), Delivery::Redirect(with_state))
            .into_response("https://issuer.example");
        assert_eq!(response.status(), StatusCode::FOUND);
        let location = Url::parse(header(&response, header::LOCATION).ok_or("no location")?)?;
        let pairs: Vec<(String, String)> = location.query_pairs().into_owned().collect();
        let names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["keep", "error", "error_description", "state", "iss"]);
        assert!(pairs.contains(&("iss".into(), "https://issuer.example".into())));

        let without_state = ClientRedirect {
            redirect_uri: "cursor://anysphere.cursor-mcp/oauth/callback".into(),
            state: None,
        };
        let response = Refusal::new(OAuthError::server_error("x"), Delivery::Redirect(without_state))
            .into_response("https://issuer.example");
        let location = header(&response, header::LOCATION).ok_or("no location")?;
        assert!(location.starts_with("cursor://anysphere.cursor-mcp/oauth/callback?error=server_error"));
        assert!(!location.contains("state="), "{location}");
        Ok(())
    }

    #[test]
    fn pages_stay_and_show_the_error() {
        let response = Refusal::new(
            OAuthError::access_denied("started in another browser"),
            Delivery::Page {
                title: "Sign-in started elsewhere",
            },
        )
        .with_cookies(["a=; Max-Age=0".to_owned()])
        .into_response("https://i");
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert!(response.headers().get(header::LOCATION).is_none());
        assert_eq!(header(&response, header::SET_COOKIE), Some("a=; Max-Age=0"));
        let body = String::from_utf8_lossy(response.body());
        assert!(body.contains("Sign-in started elsewhere") && body.contains("access_denied"));
    }
}

//! The client id of a CIMD client: an https URL with a path, validated once.

use std::fmt;

use thiserror::Error;
use url::Url;

/// Longest accepted client id URL, in bytes.
const MAX_CIMD_URL_LEN: usize = 2048;

/// Why a client id is not a usable metadata document URL.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CimdUrlError {
    #[error("client id URL is {len} bytes long; at most {MAX_CIMD_URL_LEN} are accepted")]
    TooLong { len: usize },
    #[error("client id URL contains whitespace, a control character or a backslash")]
    BadCharacter,
    #[error("client id URL is not a URL: {0}")]
    Malformed(String),
    #[error("client id URL must use https")]
    NotHttps,
    #[error("client id URL must not contain a fragment")]
    Fragment,
    #[error("client id URL must not contain user information")]
    UserInfo,
    #[error("client id URL must have a host")]
    EmptyHost,
    #[error("client id URL must have a path (a bare origin is not a document)")]
    NoPath,
    #[error("client id URL must not contain dot-segments")]
    DotSegment,
}

/// A client id that is a Client ID Metadata Document URL. The original string is kept: the
/// document's `client_id` must equal it exactly.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CimdUrl {
    raw: String,
    url: Url,
}

impl CimdUrl {
    /// Accepts `https://host/path…` without fragment, user information or dot-segments.
    pub fn parse(raw: &str) -> Result<Self, CimdUrlError> {
        Self::parse_inner(raw, false)
    }

    /// Whether a client id looks like a CIMD URL (as opposed to a DCR or configured id).
    pub fn looks_like_cimd(client_id: &str) -> bool {
        client_id.starts_with("https://")
    }

    /// `allow_http` exists only for the fetcher's `danger_allow_http_for_tests`.
    pub(crate) fn parse_inner(raw: &str, allow_http: bool) -> Result<Self, CimdUrlError> {
        if raw.len() > MAX_CIMD_URL_LEN {
            return Err(CimdUrlError::TooLong { len: raw.len() });
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control() || c == '\\') {
            return Err(CimdUrlError::BadCharacter);
        }
        if raw.contains('#') {
            return Err(CimdUrlError::Fragment);
        }
        let url = Url::parse(raw).map_err(|e| CimdUrlError::Malformed(e.to_string()))?;
        let scheme_ok = url.scheme() == "https" || (allow_http && url.scheme() == "http");
        if !scheme_ok || !(raw.starts_with("https://") || (allow_http && raw.starts_with("http://"))) {
            return Err(CimdUrlError::NotHttps);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(CimdUrlError::UserInfo);
        }
        let after_scheme = raw.split_once("://").map(|(_, rest)| rest).unwrap_or_default();
        let (authority, path_and_query) =
            after_scheme.split_at(after_scheme.find(['/', '?']).unwrap_or(after_scheme.len()));
        if authority.is_empty() || url.host_str().is_none_or(str::is_empty) {
            return Err(CimdUrlError::EmptyHost);
        }
        let path = path_and_query.split('?').next().unwrap_or_default();
        if path.is_empty() || path == "/" {
            return Err(CimdUrlError::NoPath);
        }
        let lowered = path.to_ascii_lowercase().replace("%2e", ".");
        if lowered.split('/').any(|segment| segment == "." || segment == "..") {
            return Err(CimdUrlError::DotSegment);
        }
        Ok(Self {
            raw: raw.to_owned(),
            url,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The host, for the consent page.
    pub fn host(&self) -> &str {
        self.url.host_str().unwrap_or_default()
    }
}

impl fmt::Debug for CimdUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CimdUrl").field(&self.raw).finish()
    }
}

impl fmt::Display for CimdUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_https_document_urls() -> Result<(), CimdUrlError> {
        for raw in [
            "https://app.example.com/oauth/client-metadata.json",
            "https://vscode.dev/oauth/client",
            "https://example.com:8443/c?v=1",
        ] {
            assert_eq!(CimdUrl::parse(raw)?.as_str(), raw);
        }
        Ok(())
    }

    #[test]
    fn refuses_everything_else() {
        for (raw, expected) in [
            ("http://app.example.com/client.json", CimdUrlError::NotHttps),
            ("HTTPS://app.example.com/client.json", CimdUrlError::NotHttps),
            ("https://app.example.com/client.json#x", CimdUrlError::Fragment),
            ("https://u:p@app.example.com/client.json", CimdUrlError::UserInfo),
            ("https://u@app.example.com/client.json", CimdUrlError::UserInfo),
            ("https://app.example.com", CimdUrlError::NoPath),
            ("https://app.example.com/", CimdUrlError::NoPath),
            ("https://app.example.com?x=1", CimdUrlError::NoPath),
            ("https://app.example.com/a/../client.json", CimdUrlError::DotSegment),
            ("https://app.example.com/a/%2E%2E/client.json", CimdUrlError::DotSegment),
            ("https://app.example.com/./client.json", CimdUrlError::DotSegment),
            ("https:///client.json", CimdUrlError::EmptyHost),
            ("https://app.example.com/a b", CimdUrlError::BadCharacter),
            ("https://app.example.com\\@evil/x", CimdUrlError::BadCharacter),
        ] {
            assert_eq!(CimdUrl::parse(raw), Err(expected), "{raw}");
        }
        assert!(matches!(CimdUrl::parse("client-123"), Err(CimdUrlError::Malformed(_))));
        let long = format!("https://app.example.com/{}", "a".repeat(MAX_CIMD_URL_LEN));
        assert!(matches!(CimdUrl::parse(&long), Err(CimdUrlError::TooLong { .. })));
    }

    #[test]
    fn http_only_through_the_test_flag() {
        assert!(CimdUrl::parse_inner("http://127.0.0.1:8080/client.json", true).is_ok());
        assert_eq!(
            CimdUrl::parse_inner("http://127.0.0.1:8080/client.json", false),
            Err(CimdUrlError::NotHttps)
        );
        assert_eq!(
            CimdUrl::parse_inner("ftp://127.0.0.1/client.json", true),
            Err(CimdUrlError::NotHttps)
        );
    }

    #[test]
    fn recognises_cimd_client_ids() {
        assert!(CimdUrl::looks_like_cimd("https://app.example.com/client.json"));
        assert!(!CimdUrl::looks_like_cimd("3f9a_random"));
    }
}

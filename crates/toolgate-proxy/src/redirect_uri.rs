//! Redirect URIs, validated once at registration and matched exactly at authorization time.
//!
//! Accepted forms:
//! - `https://host/...` (any non-empty host);
//! - loopback `http://127.0.0.1[:port]/...`, `http://[::1][:port]/...`, `http://localhost[:port]/...`
//!   (RFC 8252 §7.3, §8.3; `localhost` is accepted because Claude Code and others use it, although
//!   RFC 8252 §8.3 prefers the IP literal);
//! - private-use schemes (RFC 8252 §7.1): reverse-DNS ones (`com.example.app:/callback`) and, as
//!   real clients use them, single-label ones (`cursor://anysphere.cursor-mcp/oauth/callback`,
//!   `vscode://…`, `myapp:/cb`) — any syntactically valid scheme of two or more characters that is
//!   not on the unsafe list ([`UNSAFE_SCHEMES`]).
//!
//! Decision: [`RedirectUri::parse`] accepts all three syntactically and records the
//! [`RedirectUriKind`]. A private-use scheme can be claimed by any app on the device, so it is safe
//! only with PKCE (always required here) and only for public clients: registration refuses it for
//! confidential clients ([`crate::RegistrationRequest::validate`]).
//!
//! The original string is kept: matching is an exact string comparison (RFC 6749 §3.1.2.3, OAuth 2.1
//! §2.3.1), except that a loopback redirect may use any port (RFC 8252 §7.3) because native clients
//! such as VS Code bind a random port when their preferred one is taken.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;
use url::{Host, Url};

/// The longest redirect URI accepted, in bytes.
pub const MAX_REDIRECT_URI_LEN: usize = 2048;

/// Schemes that are never a redirect target, although syntactically they could be private-use ones:
///
/// - the browser runs or shows content itself (script execution, local files, source views):
///   `javascript`, `vbscript`, `livescript`, `data`, `blob`, `filesystem`, `file`, `about`,
///   `view-source`, `jar`, `wyciwyg`, `resource`;
/// - browser internals and extensions: `chrome`, `chrome-extension`, `chrome-untrusted`,
///   `chrome-search`, `chrome-devtools`, `devtools`, `edge`, `brave`, `opera`, `vivaldi`,
///   `moz-extension`, `ms-browser-extension`, `safari-extension`, `safari-web-extension`;
/// - network protocols, whose "host" is a server anyone may run, not an app of the client (a code
///   would leave the device): `ws`, `wss`, `ftp`, `ftps`, `sftp`, `gopher`, `telnet`, `ssh`,
///   `ldap`, `ldaps`, `smb`, `nfs`, `irc`, `ircs`, `news`, `nntp`, `sip`, `sips`, `xmpp`,
///   `rtsp`, and the messaging ones that hand the URL to someone else: `mailto`, `tel`, `sms`, `mms`;
/// - operating-system launchers: `intent` (Android Chrome starts any app with it), `shell`,
///   `ms-msdt`, `search-ms`, `search`, `ms-officecmd`, `ms-appinstaller`.
///
/// `http` and `https` are not private-use schemes: https is its own kind, http is loopback-only.
pub const UNSAFE_SCHEMES: &[&str] = &[
    "javascript",
    "vbscript",
    "livescript",
    "data",
    "blob",
    "filesystem",
    "file",
    "about",
    "view-source",
    "jar",
    "wyciwyg",
    "resource",
    "chrome",
    "chrome-extension",
    "chrome-untrusted",
    "chrome-search",
    "chrome-devtools",
    "devtools",
    "edge",
    "brave",
    "opera",
    "vivaldi",
    "moz-extension",
    "ms-browser-extension",
    "safari-extension",
    "safari-web-extension",
    "ws",
    "wss",
    "ftp",
    "ftps",
    "sftp",
    "gopher",
    "telnet",
    "ssh",
    "ldap",
    "ldaps",
    "smb",
    "nfs",
    "irc",
    "ircs",
    "news",
    "nntp",
    "sip",
    "sips",
    "xmpp",
    "rtsp",
    "mailto",
    "tel",
    "sms",
    "mms",
    "intent",
    "shell",
    "ms-msdt",
    "search-ms",
    "search",
    "ms-officecmd",
    "ms-appinstaller",
];

/// Which of the accepted forms a redirect URI has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RedirectUriKind {
    /// `https://…`
    Https,
    /// `http://127.0.0.1`, `http://[::1]` or `http://localhost`, any port (RFC 8252 §7.3).
    Loopback,
    /// A private-use scheme such as `com.example.app:/cb` or `cursor://anysphere.cursor-mcp/cb`
    /// (RFC 8252 §7.1).
    PrivateUse,
}

/// Why a string is not an acceptable redirect URI.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RedirectUriError {
    #[error("redirect URI is empty")]
    Empty,
    #[error("redirect URI is {len} bytes long; at most {MAX_REDIRECT_URI_LEN} are accepted")]
    TooLong { len: usize },
    #[error("redirect URI contains whitespace or a control character")]
    ControlCharacter,
    #[error("redirect URI contains an invisible or text-direction character (U+{0:04X})")]
    InvisibleCharacter(u32),
    #[error("redirect URI is not an absolute URI: {0}")]
    Malformed(String),
    #[error("redirect URI must not contain a fragment (RFC 6749 §3.1.2)")]
    Fragment,
    #[error("redirect URI must not contain user information")]
    UserInfo,
    #[error("redirect URI must not contain dot-segments (`.`, `..`, or their percent-encoded forms)")]
    DotSegment,
    #[error("redirect URI must not contain a backslash or a percent-encoded slash or backslash")]
    EncodedSeparator,
    #[error("redirect URI must not contain a wildcard (`*`)")]
    Wildcard,
    #[error("redirect URI has an empty host")]
    EmptyHost,
    #[error("redirect URI scheme `{0}` is not allowed")]
    UnsafeScheme(String),
    #[error("plain http is only allowed for loopback hosts 127.0.0.1, [::1] and localhost (RFC 8252 §7.3)")]
    InsecureHttp,
    #[error(
        "redirect URI scheme `{0}` is neither https, loopback http, nor a private-use scheme (RFC 3986 scheme syntax, two characters or more)"
    )]
    UnsupportedScheme(String),
    #[error("a private-use redirect URI needs something after the scheme")]
    EmptyPrivateUse,
}

/// A redirect URI that passed [`RedirectUri::parse`]; inner code takes this, never a `&str`.
#[derive(Clone)]
pub struct RedirectUri {
    raw: String,
    url: Url,
    kind: RedirectUriKind,
    /// For loopback URIs: the original string with the port removed, used for any-port matching.
    loopback_key: Option<String>,
}

impl RedirectUri {
    /// Validates `raw` and keeps it verbatim.
    pub fn parse(raw: &str) -> Result<Self, RedirectUriError> {
        if raw.is_empty() {
            return Err(RedirectUriError::Empty);
        }
        if raw.len() > MAX_REDIRECT_URI_LEN {
            return Err(RedirectUriError::TooLong { len: raw.len() });
        }
        // The URL parser silently strips tabs and newlines; refuse them so the kept string is what was parsed.
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(RedirectUriError::ControlCharacter);
        }
        // A redirect URI is shown on the consent page: nothing in it may hide or reorder text.
        if let Some(c) = raw.chars().find(|c| crate::untrusted::is_invisible(*c)) {
            return Err(RedirectUriError::InvisibleCharacter(u32::from(c)));
        }
        if raw.contains('#') {
            return Err(RedirectUriError::Fragment);
        }
        if raw.contains('*') {
            return Err(RedirectUriError::Wildcard);
        }
        // WHATWG parsers treat `\` as `/` in special schemes, so `https://a.example\b.example/` would be
        // read differently by different parsers.
        if raw.contains('\\') {
            return Err(RedirectUriError::EncodedSeparator);
        }
        let (scheme_raw, rest) = raw
            .split_once(':')
            .ok_or_else(|| RedirectUriError::Malformed("no scheme".to_owned()))?;
        let scheme = scheme_raw.to_ascii_lowercase();
        if UNSAFE_SCHEMES.contains(&scheme.as_str()) {
            return Err(RedirectUriError::UnsafeScheme(scheme));
        }
        let raw_parts = RawParts::split(rest);
        check_path(raw_parts.path)?;

        let url = Url::parse(raw).map_err(|e| RedirectUriError::Malformed(e.to_string()))?;
        if url.fragment().is_some() {
            return Err(RedirectUriError::Fragment);
        }
        if !url.username().is_empty()
            || url.password().is_some()
            || raw_parts.authority.is_some_and(|a| a.contains('@'))
        {
            return Err(RedirectUriError::UserInfo);
        }

        let (kind, loopback_key) = match scheme.as_str() {
            "https" => {
                // `https:///x` is parsed by WHATWG rules as host `x`; the raw authority must be non-empty.
                if raw_parts.authority.is_none_or(str::is_empty) || url.host_str().is_none_or(str::is_empty) {
                    return Err(RedirectUriError::EmptyHost);
                }
                (RedirectUriKind::Https, None)
            }
            "http" => {
                let authority = raw_parts.authority.ok_or(RedirectUriError::EmptyHost)?;
                let host = loopback_host(authority).ok_or(RedirectUriError::InsecureHttp)?;
                if !is_loopback_host(url.host()) {
                    return Err(RedirectUriError::InsecureHttp);
                }
                let key = format!("http://{host}{}", raw_parts.after_authority);
                (RedirectUriKind::Loopback, Some(key))
            }
            other if is_private_use_scheme(other) => {
                if rest.is_empty() || rest == "//" {
                    return Err(RedirectUriError::EmptyPrivateUse);
                }
                (RedirectUriKind::PrivateUse, None)
            }
            other => return Err(RedirectUriError::UnsupportedScheme(other.to_owned())),
        };
        Ok(Self {
            raw: raw.to_owned(),
            url,
            kind,
            loopback_key,
        })
    }

    /// The URI exactly as registered or presented.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    pub fn kind(&self) -> RedirectUriKind {
        self.kind
    }

    pub fn is_loopback(&self) -> bool {
        self.kind == RedirectUriKind::Loopback
    }

    /// The host, for display on the consent page (absent for most private-use URIs).
    pub fn host(&self) -> Option<&str> {
        self.url.host_str()
    }

    /// Where a redirect to this URI sends the user, for the consent page.
    pub fn destination(&self) -> Destination {
        match self.kind {
            RedirectUriKind::Https => Destination::Website {
                host: self.url.host_str().unwrap_or_default().to_owned(),
            },
            RedirectUriKind::Loopback => Destination::ThisComputer {
                host: self.url.host_str().unwrap_or_default().to_owned(),
                port: self.url.port_or_known_default().unwrap_or(80),
            },
            RedirectUriKind::PrivateUse => Destination::App {
                scheme: self.url.scheme().to_owned(),
                host: self.url.host_str().filter(|h| !h.is_empty()).map(str::to_owned),
            },
        }
    }

    /// The parsed form (normalised by the URL parser; use [`Self::as_str`] for comparisons).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Whether `self`, presented in an authorization request, matches `registered`.
    ///
    /// Exact string comparison (RFC 6749 §3.1.2.3), except that for loopback http URIs the port is
    /// ignored (RFC 8252 §7.3). Host, path and query must still be identical: `localhost` and
    /// `127.0.0.1` are different hosts here.
    pub fn matches_registered(&self, registered: &RedirectUri) -> bool {
        if self.raw == registered.raw {
            return true;
        }
        match (&self.loopback_key, &registered.loopback_key) {
            (Some(presented), Some(registered)) => presented == registered,
            _ => false,
        }
    }
}

/// Where a redirect sends the user, as the consent page names it. The user must recognise it, so
/// it names what is really reached: a website by its host (IDN hosts in their `xn--` form, so a
/// look-alike domain shows as one), a loopback redirect as an app on this computer with its port,
/// a private-use redirect by its full scheme and host (any app on the device may claim a scheme).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Destination {
    /// `https://{host}/…`
    Website { host: String },
    /// `http://127.0.0.1:{port}/…`, `http://[::1]…`, `http://localhost…`
    ThisComputer { host: String, port: u16 },
    /// `{scheme}://{host}/…` or `{scheme}:/…`
    App { scheme: String, host: Option<String> },
}

impl Destination {
    /// The short name to recognise (`claude.ai`, `cursor://anysphere.cursor-mcp`, `localhost port 8787`).
    pub fn short(&self) -> String {
        match self {
            Self::Website { host } => host.clone(),
            Self::ThisComputer { host, port } => format!("{host} port {port}"),
            Self::App {
                scheme,
                host: Some(host),
            } => format!("{scheme}://{host}"),
            Self::App { scheme, host: None } => format!("{scheme}:"),
        }
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Website { host } => write!(f, "the website {host}"),
            Self::ThisComputer { host, port } => write!(f, "an app on this computer ({host} port {port})"),
            Self::App { .. } => write!(f, "the app on this device that opens {} links", self.short()),
        }
    }
}

/// The raw pieces of the text after `scheme:`, before any normalisation by the URL parser.
struct RawParts<'a> {
    /// `Some` when the URI has `//authority` (may be empty).
    authority: Option<&'a str>,
    /// The path, without query.
    path: &'a str,
    /// Everything after the authority: path and query.
    after_authority: &'a str,
}

impl<'a> RawParts<'a> {
    fn split(rest: &'a str) -> Self {
        let (authority, after_authority) = match rest.strip_prefix("//") {
            Some(hier) => {
                let end = hier.find(['/', '?']).unwrap_or(hier.len());
                let (authority, after) = hier.split_at_checked(end).unwrap_or((hier, ""));
                (Some(authority), after)
            }
            None => (None, rest),
        };
        let path = after_authority.split('?').next().unwrap_or_default();
        Self {
            authority,
            path,
            after_authority,
        }
    }
}

/// Refuses dot-segments, also percent-encoded (`%2e`), and separators that parsers disagree on.
fn check_path(path: &str) -> Result<(), RedirectUriError> {
    let lowered = path.to_ascii_lowercase();
    if lowered.contains('\\') || lowered.contains("%2f") || lowered.contains("%5c") {
        return Err(RedirectUriError::EncodedSeparator);
    }
    let decoded_dots = lowered.replace("%2e", ".");
    if decoded_dots.split('/').any(|segment| segment == "." || segment == "..") {
        return Err(RedirectUriError::DotSegment);
    }
    Ok(())
}

/// The loopback host literal of a raw authority (`host[:port]`), lowercased, if it is one of the three.
fn loopback_host(authority: &str) -> Option<String> {
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (inside, after) = v6.split_once(']')?;
        (format!("[{inside}]"), after.strip_prefix(':'))
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host.to_owned(), Some(port)),
            None => (authority.to_owned(), None),
        }
    };
    if let Some(port) = port
        && (port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) || port.parse::<u16>().is_err())
    {
        return None;
    }
    let host = host.to_ascii_lowercase();
    matches!(host.as_str(), "127.0.0.1" | "[::1]" | "localhost").then_some(host)
}

fn is_loopback_host(host: Option<Host<&str>>) -> bool {
    match host {
        Some(Host::Ipv4(ip)) => ip == std::net::Ipv4Addr::LOCALHOST,
        Some(Host::Ipv6(ip)) => ip == std::net::Ipv6Addr::LOCALHOST,
        Some(Host::Domain(domain)) => domain == "localhost",
        None => false,
    }
}

/// A private-use scheme (RFC 8252 §7.1): RFC 3986 §3.1 syntax (`ALPHA *( ALPHA / DIGIT / "+" /
/// "-" / "." )`), at least two characters (a single letter reads as a Windows drive), no empty
/// dot-separated labels, not `http`/`https` and not on [`UNSAFE_SCHEMES`] (checked before).
fn is_private_use_scheme(scheme: &str) -> bool {
    scheme.chars().count() >= 2
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'))
        && scheme.split('.').all(|label| !label.is_empty())
        && !matches!(scheme, "http" | "https")
}

impl fmt::Debug for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RedirectUri").field(&self.raw).finish()
    }
}

impl fmt::Display for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl PartialEq for RedirectUri {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}

impl Eq for RedirectUri {}

impl std::hash::Hash for RedirectUri {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.raw.hash(state);
    }
}

impl Serialize for RedirectUri {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.raw)
    }
}

impl<'de> Deserialize<'de> for RedirectUri {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        RedirectUri::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str) -> RedirectUri {
        match RedirectUri::parse(raw) {
            Ok(uri) => uri,
            Err(e) => panic!("{raw} should be accepted: {e}"),
        }
    }

    fn err(raw: &str) -> RedirectUriError {
        match RedirectUri::parse(raw) {
            Ok(_) => panic!("{raw} should be refused"),
            Err(e) => e,
        }
    }

    #[test]
    fn real_client_uris_are_accepted_and_kept_verbatim() {
        for (raw, kind) in [
            ("http://127.0.0.1:33418/", RedirectUriKind::Loopback),
            ("https://vscode.dev/redirect", RedirectUriKind::Https),
            ("https://claude.ai/api/mcp/auth_callback", RedirectUriKind::Https),
            ("http://localhost:54321/callback", RedirectUriKind::Loopback),
            ("https://chatgpt.com/connector/oauth/abc123", RedirectUriKind::Https),
            (
                "https://global.consent.azure-apim.net/redirect/xyz",
                RedirectUriKind::Https,
            ),
            ("http://[::1]:8080/cb", RedirectUriKind::Loopback),
            ("http://127.0.0.1/cb", RedirectUriKind::Loopback),
            ("https://example.com", RedirectUriKind::Https),
            ("https://example.com/cb?tenant=a", RedirectUriKind::Https),
            ("com.example.app:/callback", RedirectUriKind::PrivateUse),
            ("com.example.app://callback", RedirectUriKind::PrivateUse),
        ] {
            let uri = ok(raw);
            assert_eq!(uri.as_str(), raw);
            assert_eq!(uri.to_string(), raw);
            assert_eq!(uri.kind(), kind, "{raw}");
        }
    }

    #[test]
    fn fragments_are_refused() {
        assert_eq!(
            err("https://claude.ai/api/mcp/auth_callback#x"),
            RedirectUriError::Fragment
        );
        assert_eq!(err("https://claude.ai/cb#"), RedirectUriError::Fragment);
        assert_eq!(err("http://127.0.0.1:1/#a"), RedirectUriError::Fragment);
    }

    #[test]
    fn userinfo_is_refused() {
        assert_eq!(err("https://user@claude.ai/cb"), RedirectUriError::UserInfo);
        assert_eq!(err("https://user:pw@claude.ai/cb"), RedirectUriError::UserInfo);
        assert_eq!(err("https://claude.ai@evil.example/cb"), RedirectUriError::UserInfo);
        assert_eq!(err("http://127.0.0.1@evil.example/cb"), RedirectUriError::UserInfo);
    }

    #[test]
    fn dot_segments_are_refused_plain_and_encoded() {
        for raw in [
            "https://claude.ai/api/../evil",
            "https://claude.ai/api/./cb",
            "https://claude.ai/api/..",
            "https://claude.ai/api/.",
            "https://claude.ai/%2e%2e/evil",
            "https://claude.ai/%2E%2E/evil",
            "https://claude.ai/.%2e/evil",
            "https://claude.ai/%2e/cb",
            "http://127.0.0.1:1/a/../b",
            "com.example.app:/a/../b",
        ] {
            assert_eq!(err(raw), RedirectUriError::DotSegment, "{raw}");
        }
        // Dots inside a segment are ordinary characters.
        ok("https://claude.ai/a..b/.well-known/x.y");
    }

    #[test]
    fn encoded_separators_and_backslashes_are_refused() {
        for raw in [
            "https://claude.ai/a%2fb",
            "https://claude.ai/a%5Cb",
            "https://claude.ai\\evil.example/",
            "https://claude.ai/a\\b",
        ] {
            assert!(
                matches!(
                    err(raw),
                    RedirectUriError::EncodedSeparator | RedirectUriError::Malformed(_) | RedirectUriError::EmptyHost
                ),
                "{raw}"
            );
        }
    }

    #[test]
    fn unsafe_schemes_are_refused() {
        for raw in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "file:///etc/passwd",
            "vbscript:msgbox(1)",
            "blob:https://claude.ai/uuid",
            "about:blank",
            "filesystem:https://claude.ai/temporary/x",
            "view-source:https://claude.ai/",
            "chrome://settings",
            "chrome-extension://abcdef/cb.html",
            "moz-extension://abcdef/cb.html",
            "ftp://example.com/cb",
            "ws://127.0.0.1/cb",
            "wss://example.com/cb",
            "mailto:attacker@evil.example",
            "tel:+15550100",
            "intent://cb#Intent;scheme=x;end",
            "ms-msdt:/id",
            "search-ms:query=x",
        ] {
            assert!(
                matches!(err(raw), RedirectUriError::UnsafeScheme(_) | RedirectUriError::Fragment),
                "{raw}"
            );
        }
        for scheme in UNSAFE_SCHEMES {
            assert!(
                matches!(err(&format!("{scheme}:/cb")), RedirectUriError::UnsafeScheme(_)),
                "{scheme}"
            );
        }
    }

    #[test]
    fn private_use_schemes_single_label_ones_included_are_accepted() {
        for raw in [
            "cursor://anysphere.cursor-mcp/oauth/callback",
            "myapp:/cb",
            "myapp://callback",
            "vscode://vscode.github-authentication/did-authenticate",
            "com.example.app:/callback",
            "x-:/a",
            "my+app.v2:/cb",
        ] {
            assert_eq!(ok(raw).kind(), RedirectUriKind::PrivateUse, "{raw}");
        }
    }

    #[test]
    fn malformed_schemes_are_refused() {
        for raw in [
            ".a.b:/c",
            "a..b:/c",
            "c:/windows",
            "1app:/cb",
            "my_app:/cb",
            "myapp:",
            "cursor://",
        ] {
            let e = err(raw);
            assert!(
                matches!(
                    e,
                    RedirectUriError::UnsupportedScheme(_)
                        | RedirectUriError::Malformed(_)
                        | RedirectUriError::EmptyPrivateUse
                ),
                "{raw}: {e:?}"
            );
        }
    }

    #[test]
    fn destinations_name_what_the_user_reaches() {
        for (raw, short, shown) in [
            (
                "https://claude.ai/api/mcp/auth_callback",
                "claude.ai",
                "the website claude.ai",
            ),
            (
                "http://localhost:8787/callback",
                "localhost port 8787",
                "an app on this computer (localhost port 8787)",
            ),
            (
                "http://127.0.0.1/cb",
                "127.0.0.1 port 80",
                "an app on this computer (127.0.0.1 port 80)",
            ),
            (
                "cursor://anysphere.cursor-mcp/oauth/callback",
                "cursor://anysphere.cursor-mcp",
                "the app on this device that opens cursor://anysphere.cursor-mcp links",
            ),
            ("myapp:/cb", "myapp:", "the app on this device that opens myapp: links"),
        ] {
            let destination = ok(raw).destination();
            assert_eq!(destination.short(), short, "{raw}");
            assert_eq!(destination.to_string(), shown, "{raw}");
        }
        // An internationalised look-alike host is shown in its ASCII (punycode) form: a Cyrillic
        // `с` in "сlaude.ai" does not pass for claude.ai.
        assert_eq!(ok("https://сlaude.ai/cb").destination().short(), "xn--laude-0ye.ai");
        assert_eq!(ok("https://cläude.ai/cb").destination().short(), "xn--clude-hra.ai");
    }

    #[test]
    fn wildcards_are_refused() {
        assert_eq!(err("https://*.claude.ai/cb"), RedirectUriError::Wildcard);
        assert_eq!(err("https://claude.ai/*"), RedirectUriError::Wildcard);
        assert_eq!(err("http://127.0.0.1:*/cb"), RedirectUriError::Wildcard);
    }

    #[test]
    fn empty_hosts_are_refused() {
        assert_eq!(err("https:///cb"), RedirectUriError::EmptyHost);
        assert!(matches!(
            err("https://"),
            RedirectUriError::EmptyHost | RedirectUriError::Malformed(_)
        ));
        assert!(matches!(
            err("https:cb"),
            RedirectUriError::EmptyHost | RedirectUriError::Malformed(_)
        ));
        assert!(matches!(
            err("http:///cb"),
            RedirectUriError::InsecureHttp | RedirectUriError::EmptyHost
        ));
    }

    #[test]
    fn non_loopback_http_is_refused() {
        for raw in [
            "http://claude.ai/cb",
            "http://127.0.0.2/cb",
            "http://0.0.0.0/cb",
            "http://127.1/cb",
            "http://2130706433/cb",
            "http://localhost.evil.example/cb",
            "http://[::2]/cb",
            "http://127.0.0.1:/cb",
        ] {
            assert_eq!(err(raw), RedirectUriError::InsecureHttp, "{raw}");
        }
        assert!(matches!(
            err("http://127.0.0.1:99999/cb"),
            RedirectUriError::Malformed(_)
        ));
    }

    #[test]
    fn overlong_and_control_characters_are_refused() {
        let long = format!("https://claude.ai/{}", "a".repeat(MAX_REDIRECT_URI_LEN));
        assert!(matches!(err(&long), RedirectUriError::TooLong { .. }));
        let just_fits = format!(
            "https://claude.ai/{}",
            "a".repeat(MAX_REDIRECT_URI_LEN - "https://claude.ai/".len())
        );
        ok(&just_fits);
        assert_eq!(err("https://claude.ai/c b"), RedirectUriError::ControlCharacter);
        assert_eq!(err("https://cla\tude.ai/cb"), RedirectUriError::ControlCharacter);
        assert_eq!(err("https://claude.ai/cb\n"), RedirectUriError::ControlCharacter);
        assert_eq!(
            err("https://claude.ai/\u{202E}bc"),
            RedirectUriError::InvisibleCharacter(0x202E)
        );
        assert_eq!(
            err("https://clau\u{200B}de.ai/cb"),
            RedirectUriError::InvisibleCharacter(0x200B)
        );
        assert_eq!(err(""), RedirectUriError::Empty);
        assert!(matches!(err("not a uri"), RedirectUriError::ControlCharacter));
        assert!(matches!(err("/relative/cb"), RedirectUriError::Malformed(_)));
    }

    #[test]
    fn https_matching_is_exact() {
        let registered = ok("https://claude.ai/api/mcp/auth_callback");
        assert!(ok("https://claude.ai/api/mcp/auth_callback").matches_registered(&registered));
        for presented in [
            "https://evil.example/api/mcp/auth_callback",
            "https://claude.ai.evil.example/api/mcp/auth_callback",
            "https://claude.ai/api/mcp/auth_callback2",
            "https://claude.ai/api/mcp/other",
            "https://claude.ai/api/mcp/auth_callback/",
            "https://claude.ai/api/mcp/auth_callback?x=1",
            "https://claude.ai:443/api/mcp/auth_callback",
            "https://CLAUDE.ai/api/mcp/auth_callback",
            "https://claude.ai:8443/api/mcp/auth_callback",
        ] {
            assert!(!ok(presented).matches_registered(&registered), "{presented}");
        }
    }

    #[test]
    fn loopback_matches_any_port_but_nothing_else() {
        let registered = ok("http://127.0.0.1:33418/");
        for presented in [
            "http://127.0.0.1:33418/",
            "http://127.0.0.1:50123/",
            "http://127.0.0.1/",
        ] {
            assert!(ok(presented).matches_registered(&registered), "{presented}");
        }
        for presented in [
            "http://localhost:33418/",
            "http://[::1]:33418/",
            "http://127.0.0.1:33418/cb",
            "http://127.0.0.1:33418/?x=1",
            "http://127.0.0.1:33418",
            "https://127.0.0.1:33418/",
        ] {
            assert!(!ok(presented).matches_registered(&registered), "{presented}");
        }

        let registered = ok("http://localhost:54321/callback");
        assert!(ok("http://localhost:1/callback").matches_registered(&registered));
        assert!(!ok("http://127.0.0.1:54321/callback").matches_registered(&registered));
        assert!(!ok("http://localhost:54321/callback?next=x").matches_registered(&registered));
        assert!(!ok("http://localhost:54321/Callback").matches_registered(&registered));

        let registered = ok("http://[::1]/cb");
        assert!(ok("http://[::1]:9/cb").matches_registered(&registered));
    }

    #[test]
    fn private_use_and_https_never_match_across_ports() {
        let registered = ok("com.example.app:/callback");
        assert!(ok("com.example.app:/callback").matches_registered(&registered));
        assert!(!ok("com.example.app:/callback2").matches_registered(&registered));
        assert!(!ok("com.example.evil:/callback").matches_registered(&registered));
    }

    #[test]
    fn serde_round_trip_validates() -> Result<(), serde_json::Error> {
        let uri: RedirectUri = serde_json::from_str("\"https://vscode.dev/redirect\"")?;
        assert_eq!(serde_json::to_string(&uri)?, "\"https://vscode.dev/redirect\"");
        assert!(serde_json::from_str::<RedirectUri>("\"javascript:alert(1)\"").is_err());
        Ok(())
    }
}

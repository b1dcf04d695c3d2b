//! DNS-rebinding protection for the MCP endpoint: `Host` and `Origin` validation (MCP
//! transports spec, "Security Warning"; RFC 6454 origins).
//!
//! A page on `http://evil.example` whose name an attacker re-points at 127.0.0.1 makes the
//! victim's browser send `Host: evil.example` — so `Host` must name this server
//! ([`HostOriginPolicy::allowed_hosts`], plus the host of `server.public_url`). A browser's
//! `Origin` is accepted when it is:
//! - listed in `allowed_origins` (`https://app.example.com:443`, `http://localhost:*`, `null`);
//! - the server's own origin (its `public_url`), or the origin the request itself names in an
//!   allowed `Host` (same-origin requests are not cross-site);
//! - a loopback origin (`localhost`, `127.0.0.1`, `[::1]`, any port) while the server listens on
//!   a loopback address only: nothing but this machine can reach it then.
//!
//! Requests without `Origin` (every non-browser client) pass the `Origin` check.

use std::net::IpAddr;

use http::HeaderMap;
use http::uri::Authority;

/// A host, lowercased, IPv6 without brackets, with an optional port.
#[derive(Debug, Clone, PartialEq, Eq)]
struct HostPort {
    host: String,
    port: Option<u16>,
}

impl HostPort {
    fn parse(authority: &str) -> Option<Self> {
        let authority = authority.trim();
        // A bare IPv6 address (`::1`, as configuration lists it) is not an authority.
        if let Ok(IpAddr::V6(ip)) = authority.parse::<IpAddr>() {
            return Some(Self {
                host: ip.to_string(),
                port: None,
            });
        }
        let authority: Authority = authority.parse().ok()?;
        if authority.as_str().contains('@') {
            return None;
        }
        Some(Self {
            host: authority
                .host()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_ascii_lowercase(),
            port: authority.port_u16(),
        })
    }

    fn is_loopback(&self) -> bool {
        self.host == "localhost" || self.host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }
}

/// An origin (`scheme://host:port`), with the scheme's default port filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    }
}

impl Origin {
    fn parse(value: &str) -> Option<Self> {
        let (scheme, rest) = value.split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        if rest.contains('/') || rest.contains('?') || rest.contains('#') {
            return None;
        }
        let host = HostPort::parse(rest)?;
        let port = host.port.or_else(|| default_port(&scheme))?;
        Some(Self {
            scheme,
            host: host.host,
            port,
        })
    }
}

/// One `allowed_origins` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
enum OriginPattern {
    /// `null`: sandboxed frames and `file:` pages.
    Null,
    /// An explicit port, or none (the scheme's default port).
    Exact(Origin),
    /// `scheme://host:*`.
    AnyPort { scheme: String, host: String },
}

impl OriginPattern {
    fn parse(entry: &str) -> Option<Self> {
        let entry = entry.trim();
        if entry.eq_ignore_ascii_case("null") {
            return Some(Self::Null);
        }
        if let Some(base) = entry.strip_suffix(":*") {
            let origin = Origin::parse(base)?;
            return Some(Self::AnyPort {
                scheme: origin.scheme,
                host: origin.host,
            });
        }
        Origin::parse(entry).map(Self::Exact)
    }

    fn matches(&self, origin: &Origin) -> bool {
        match self {
            Self::Null => false,
            Self::Exact(allowed) => allowed == origin,
            Self::AnyPort { scheme, host } => *scheme == origin.scheme && *host == origin.host,
        }
    }
}

/// What was wrong with a request's `Host` or `Origin`. The text is for logs (bounded there).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostOriginRefusal {
    #[error("Host header missing or malformed")]
    BadHost,
    #[error("Host `{0}` is not in [mcp] allowed_hosts")]
    HostNotAllowed(String),
    #[error("Origin header is not a valid origin")]
    BadOrigin,
    #[error("Origin `{0}` is not allowed")]
    OriginNotAllowed(String),
}

impl HostOriginRefusal {
    /// The machine-readable reason for the audit trail.
    pub fn reason_code(&self) -> &'static str {
        match self {
            Self::BadHost | Self::HostNotAllowed(_) => "host_not_allowed",
            Self::BadOrigin | Self::OriginNotAllowed(_) => "origin_not_allowed",
        }
    }
}

/// The `Host`/`Origin` rules of one server.
#[derive(Debug, Clone)]
pub struct HostOriginPolicy {
    allowed_hosts: Vec<HostPort>,
    allowed_origins: Vec<OriginPattern>,
    own_origin: Option<Origin>,
    loopback_bound: bool,
}

/// A configured entry that is not a host or an origin (config validation names the key).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a valid entry")]
pub struct InvalidEntry(pub String);

impl HostOriginPolicy {
    /// `allowed_hosts`: `name` (any port) or `name:port`; `allowed_origins`: `scheme://host`
    /// (default port), `scheme://host:port`, `scheme://host:*` or `null`; `public_url`: the
    /// server's own URL (its host is always allowed, its origin is same-origin);
    /// `loopback_bound`: the server listens on loopback addresses only.
    pub fn new(
        allowed_hosts: &[String],
        allowed_origins: &[String],
        public_url: &str,
        loopback_bound: bool,
    ) -> Result<Self, InvalidEntry> {
        let mut hosts = allowed_hosts
            .iter()
            .map(|h| HostPort::parse(h).ok_or_else(|| InvalidEntry(h.clone())))
            .collect::<Result<Vec<_>, _>>()?;
        let own_origin = Origin::parse(public_url.trim_end_matches('/'));
        if let Some(own) = &own_origin {
            // The name is what DNS rebinding forges; a port on it proves nothing more.
            hosts.push(HostPort {
                host: own.host.clone(),
                port: None,
            });
        }
        let origins = allowed_origins
            .iter()
            .map(|o| OriginPattern::parse(o).ok_or_else(|| InvalidEntry(o.clone())))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            allowed_hosts: hosts,
            allowed_origins: origins,
            own_origin,
            loopback_bound,
        })
    }

    /// Checks `Host` (the `:authority` of HTTP/2 arrives as `Host` in poem) and `Origin`.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), HostOriginRefusal> {
        let host_value = headers
            .get(http::header::HOST)
            .and_then(|v| v.to_str().ok())
            .ok_or(HostOriginRefusal::BadHost)?;
        let host = HostPort::parse(host_value).ok_or(HostOriginRefusal::BadHost)?;
        if !self.host_allowed(&host) {
            return Err(HostOriginRefusal::HostNotAllowed(host_value.to_owned()));
        }
        let mut origins = headers.get_all(http::header::ORIGIN).iter();
        let Some(origin_value) = origins.next() else {
            return Ok(());
        };
        if origins.next().is_some() {
            return Err(HostOriginRefusal::BadOrigin);
        }
        let origin_text = origin_value.to_str().map_err(|_| HostOriginRefusal::BadOrigin)?;
        if origin_text.eq_ignore_ascii_case("null") {
            return if self.allowed_origins.contains(&OriginPattern::Null) {
                Ok(())
            } else {
                Err(HostOriginRefusal::OriginNotAllowed("null".into()))
            };
        }
        let origin = Origin::parse(origin_text).ok_or(HostOriginRefusal::BadOrigin)?;
        let same_origin_as_request = host.host == origin.host && host.port.unwrap_or(origin.port) == origin.port;
        let allowed = self.allowed_origins.iter().any(|p| p.matches(&origin))
            || self.own_origin.as_ref() == Some(&origin)
            || same_origin_as_request
            || (self.loopback_bound
                && HostPort {
                    host: origin.host.clone(),
                    port: None,
                }
                .is_loopback());
        if allowed {
            Ok(())
        } else {
            Err(HostOriginRefusal::OriginNotAllowed(origin_text.to_owned()))
        }
    }

    fn host_allowed(&self, host: &HostPort) -> bool {
        self.allowed_hosts
            .iter()
            .any(|allowed| allowed.host == host.host && (allowed.port.is_none() || allowed.port == host.port))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn headers(host: &str, origin: Option<&str>) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(http::header::HOST, host.parse().unwrap());
        if let Some(origin) = origin {
            map.insert(http::header::ORIGIN, origin.parse().unwrap());
        }
        map
    }

    fn loopback() -> HostOriginPolicy {
        let hosts = ["localhost", "127.0.0.1", "::1"].map(String::from);
        HostOriginPolicy::new(&hosts, &[], "http://127.0.0.1:8080", true).unwrap()
    }

    #[test]
    fn same_origin_and_loopback_origins_pass_on_a_loopback_server() {
        let policy = loopback();
        for (host, origin) in [
            ("localhost:8080", None),
            ("127.0.0.1:8080", Some("http://127.0.0.1:8080")),
            ("localhost:8080", Some("http://localhost:8080")),
            ("[::1]:8080", Some("http://[::1]:8080")),
            // The MCP Inspector on its own port.
            ("localhost:8080", Some("http://localhost:6274")),
        ] {
            assert_eq!(policy.check(&headers(host, origin)), Ok(()), "{host} {origin:?}");
        }
    }

    #[test]
    fn rebinding_and_foreign_origins_are_refused() {
        let policy = loopback();
        assert_eq!(
            policy
                .check(&headers("evil.example:8080", None))
                .unwrap_err()
                .reason_code(),
            "host_not_allowed"
        );
        assert_eq!(
            policy
                .check(&headers("localhost:8080", Some("http://evil.example")))
                .unwrap_err()
                .reason_code(),
            "origin_not_allowed"
        );
        assert!(policy.check(&headers("localhost:8080", Some("null"))).is_err());
        assert!(policy.check(&headers("localhost:8080", Some("not an origin"))).is_err());
    }

    #[test]
    fn a_public_server_accepts_only_its_own_and_listed_origins() {
        let policy = HostOriginPolicy::new(
            &[],
            &["https://app.example.com".into(), "http://localhost:*".into()],
            "https://tools.example.com",
            false,
        )
        .unwrap();
        assert!(policy.check(&headers("tools.example.com", None)).is_ok());
        assert!(
            policy
                .check(&headers("tools.example.com", Some("https://tools.example.com")))
                .is_ok()
        );
        assert!(
            policy
                .check(&headers("tools.example.com", Some("https://app.example.com:443")))
                .is_ok()
        );
        assert!(
            policy
                .check(&headers("tools.example.com", Some("https://app.example.com:8443")))
                .is_err()
        );
        assert!(
            policy
                .check(&headers("tools.example.com", Some("http://localhost:3000")))
                .is_ok()
        );
        assert!(
            policy
                .check(&headers("tools.example.com", Some("http://127.0.0.1:3000")))
                .is_err()
        );
        assert!(policy.check(&headers("localhost", None)).is_err());
    }
}

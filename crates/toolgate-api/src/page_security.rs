//! Security headers of the Swagger UI pages (`/docs` and `/docs/oauth-receiver.html`).
//!
//! Both pages are built once at start-up and everything they run is inline (poem-openapi inlines
//! Swagger UI's bundle and stylesheet; our page adds the spec and `initOAuth`). So the
//! Content-Security-Policy allows exactly those elements by their SHA-256 (CSP Level 3 hash
//! sources), and nothing else: no `'unsafe-inline'`, no `'unsafe-eval'`, no other script origin.
//! The page may fetch only its own origin, the API's public origin and the token endpoint's
//! origin (Swagger UI redeems the code there with PKCE). Framing is refused twice
//! (`frame-ancestors 'none'`, `X-Frame-Options: DENY`), no referrer leaves the page (the OAuth
//! `code` is in the receiver's URL), and responses are not sniffed.

use aws_lc_rs::digest;
use base64::Engine as _;
use poem::http::header::{self, HeaderValue};
use poem::http::{StatusCode, Uri};
use poem::{IntoResponse, Response};

/// The headers one page is served with.
#[derive(Debug, Clone)]
pub struct PageHeaders {
    content_security_policy: String,
    cache_control: &'static str,
}

impl PageHeaders {
    /// The Swagger UI page: its inline scripts and styles by hash, `connect-src` for the given
    /// URLs' origins (besides `'self'`), `img-src` for Swagger UI's `data:` icons. Revalidated
    /// on every load (`no-cache`): it carries this deployment's settings.
    pub fn swagger_ui(html: &str, connect_to: &[&str]) -> Self {
        let mut connect = vec!["'self'".to_owned()];
        for origin in connect_to.iter().filter_map(|url| origin_of(url)) {
            if !connect.contains(&origin) {
                connect.push(origin);
            }
        }
        let content_security_policy = format!(
            "default-src 'none'; script-src {}; style-src {}; img-src 'self' data:; connect-src {}; \
             base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            sources(&inline_hashes(html, "script")),
            sources(&inline_hashes(html, "style")),
            connect.join(" "),
        );
        Self {
            content_security_policy,
            cache_control: "no-cache",
        }
    }

    /// The OAuth redirect page: its one inline script, nothing else. Never stored (its URL holds
    /// the authorization code).
    pub fn oauth_receiver(html: &str) -> Self {
        let content_security_policy = format!(
            "default-src 'none'; script-src {}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            sources(&inline_hashes(html, "script")),
        );
        Self {
            content_security_policy,
            cache_control: "no-store",
        }
    }

    pub fn content_security_policy(&self) -> &str {
        &self.content_security_policy
    }

    /// `html` as a 200 with these headers.
    pub fn respond(&self, html: String) -> Response {
        let mut response = Response::builder()
            .status(StatusCode::OK)
            .content_type("text/html; charset=utf-8")
            .body(html);
        let headers = response.headers_mut();
        if let Ok(csp) = HeaderValue::from_str(&self.content_security_policy) {
            headers.insert(header::CONTENT_SECURITY_POLICY, csp);
        }
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(self.cache_control));
        response.into_response()
    }
}

/// A source list; `'none'` when empty (CSP forbids an empty list meaning anything).
fn sources(items: &[String]) -> String {
    if items.is_empty() {
        "'none'".into()
    } else {
        items.join(" ")
    }
}

/// `'sha256-…'` of the text of every inline `<tag …>…</tag>` element of `html` (elements with a
/// `src` attribute are not inline and are not allowed by this).
fn inline_hashes(html: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let mut hashes = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find(&open) {
        let Some(after_open) = rest.get(start + open.len()..) else {
            break;
        };
        // `<scripts>` or `<style-x>` are other tags.
        if !after_open.starts_with(['>', ' ', '\t', '\n', '\r']) {
            rest = after_open;
            continue;
        }
        let Some((attributes, body)) = after_open.split_once('>') else {
            break;
        };
        let Some((text, after)) = body.split_once(close.as_str()) else {
            break;
        };
        if !attributes.contains("src=") {
            let sha = digest::digest(&digest::SHA256, text.as_bytes());
            hashes.push(format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(sha.as_ref())
            ));
        }
        rest = after;
    }
    hashes.dedup();
    hashes
}

/// `scheme://host[:port]` of an http(s) URL, when it is plainly one (nothing that could end a
/// CSP directive or source).
fn origin_of(url: &str) -> Option<String> {
    let uri: Uri = url.parse().ok()?;
    let scheme = uri.scheme_str().filter(|s| *s == "http" || *s == "https")?;
    let authority = uri.authority()?.as_str();
    let plain = authority
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    plain.then(|| format!("{scheme}://{authority}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn sha(text: &str) -> String {
        let sha = digest::digest(&digest::SHA256, text.as_bytes());
        format!(
            "'sha256-{}'",
            base64::engine::general_purpose::STANDARD.encode(sha.as_ref())
        )
    }

    #[test]
    fn every_inline_element_is_hashed_and_nothing_else() {
        let html = "<html><head><style charset=\"UTF-8\">a{}</style><script charset=\"UTF-8\">one()</script>\
                    <script src=\"/x.js\"></script><scripts>no</scripts></head>\
                    <body><script>\n  two();\n</script></body></html>";
        assert_eq!(inline_hashes(html, "script"), [sha("one()"), sha("\n  two();\n")]);
        assert_eq!(inline_hashes(html, "style"), [sha("a{}")]);
        let headers = PageHeaders::swagger_ui(html, &["http://127.0.0.1:8400/t/oauth2/v2.0/token"]);
        let csp = headers.content_security_policy();
        assert!(
            csp.contains(&format!("script-src {} {};", sha("one()"), sha("\n  two();\n"))),
            "{csp}"
        );
        assert!(csp.contains("connect-src 'self' http://127.0.0.1:8400;"), "{csp}");
        assert!(
            csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe"),
            "{csp}"
        );
    }

    #[test]
    fn only_plain_http_origins_reach_the_policy() {
        assert_eq!(
            origin_of("https://login.microsoftonline.com/t/oauth2/v2.0/token").as_deref(),
            Some("https://login.microsoftonline.com")
        );
        assert_eq!(
            origin_of("http://[::1]:8080/token").as_deref(),
            Some("http://[::1]:8080")
        );
        assert_eq!(origin_of("javascript:alert(1)"), None);
        assert_eq!(origin_of("https://a;script-src */token"), None);
        assert_eq!(origin_of("https://user@host/token"), None);
        let headers = PageHeaders::oauth_receiver("<p>no script</p>");
        assert!(headers.content_security_policy().contains("script-src 'none';"));
    }
}

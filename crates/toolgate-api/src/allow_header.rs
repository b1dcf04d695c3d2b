//! RFC 9110 §15.5.6: a 405 must say which methods the resource supports (`Allow`).
//!
//! The methods come from the generated OpenAPI document itself, so a new operation can never be
//! advertised with the wrong `Allow` (schemathesis check ST205 compares the two).

use std::sync::Arc;

use poem::http::{HeaderValue, StatusCode, header};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};

/// One `paths` entry of the document: its template split on `/` (`{name}` matches any one
/// segment) and the `Allow` value listing its operations' methods.
#[derive(Debug)]
struct PathMethods {
    segments: Vec<String>,
    allow: HeaderValue,
}

impl PathMethods {
    fn matches(&self, path: &str) -> bool {
        let mut given = path.trim_matches('/').split('/');
        let mut template = self.segments.iter();
        loop {
            match (template.next(), given.next()) {
                (None, None) => return true,
                (Some(expected), Some(actual)) => {
                    let variable = expected.starts_with('{') && expected.ends_with('}');
                    if !variable && expected != actual {
                        return false;
                    }
                }
                _ => return false,
            }
        }
    }
}

/// Adds `Allow` to every 405 answered under the API prefix.
#[derive(Debug, Clone, Default)]
pub struct AllowOn405 {
    paths: Arc<[PathMethods]>,
}

impl AllowOn405 {
    /// Reads `paths` of an OpenAPI 3 document (JSON, paths relative to the API prefix). A document
    /// that cannot be read yields no entries: 405s then go out without `Allow`, never with a
    /// wrong one.
    pub fn from_spec(spec_json: &str) -> Self {
        const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
        let document: serde_json::Value = serde_json::from_str(spec_json).unwrap_or_default();
        let Some(paths) = document.get("paths").and_then(serde_json::Value::as_object) else {
            return Self::default();
        };
        let paths = paths
            .iter()
            .filter_map(|(template, item)| {
                let methods: Vec<String> = METHODS
                    .iter()
                    .filter(|method| item.get(**method).is_some())
                    .map(|method| method.to_ascii_uppercase())
                    .collect();
                let allow = HeaderValue::from_str(&methods.join(", ")).ok()?;
                let segments = template.trim_matches('/').split('/').map(str::to_owned).collect();
                Some(PathMethods { segments, allow })
            })
            .collect();
        Self { paths }
    }

    fn allow(&self, path: &str) -> Option<HeaderValue> {
        self.paths
            .iter()
            .find(|entry| entry.matches(path))
            .map(|entry| entry.allow.clone())
    }
}

impl<E: Endpoint> Middleware<E> for AllowOn405 {
    type Output = AllowOn405Endpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        AllowOn405Endpoint {
            inner: ep,
            paths: self.clone(),
        }
    }
}

pub struct AllowOn405Endpoint<E> {
    inner: E,
    paths: AllowOn405,
}

impl<E: Endpoint> Endpoint for AllowOn405Endpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        // `Uri` clones share their bytes: no copy of the path unless a 405 needs it.
        let uri = req.uri().clone();
        let mut response = match self.inner.call(req).await {
            Ok(output) => output.into_response(),
            Err(error) => error.into_response(),
        };
        if response.status() == StatusCode::METHOD_NOT_ALLOWED
            && let Some(allow) = self.paths.allow(uri.path())
        {
            response.headers_mut().insert(header::ALLOW, allow);
        }
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::AllowOn405;

    const SPEC: &str = r#"{"paths":{
        "/health":{"get":{}},
        "/policy/reload":{"post":{}},
        "/tools/{name}":{"post":{}},
        "/audit":{"get":{},"delete":{}}
    }}"#;

    fn allow(path: &str) -> Option<String> {
        AllowOn405::from_spec(SPEC)
            .allow(path)
            .map(|value| value.to_str().unwrap_or_default().to_owned())
    }

    #[test]
    fn each_path_lists_the_methods_of_its_operations() {
        assert_eq!(allow("/health").as_deref(), Some("GET"));
        assert_eq!(allow("/policy/reload").as_deref(), Some("POST"));
        assert_eq!(allow("/tools/tasks__create").as_deref(), Some("POST"));
        assert_eq!(allow("/audit").as_deref(), Some("GET, DELETE"));
    }

    #[test]
    fn unknown_paths_and_unreadable_documents_add_nothing() {
        assert_eq!(allow("/tools"), None);
        assert_eq!(allow("/tools/a/b"), None);
        assert_eq!(allow("/nope"), None);
        assert!(AllowOn405::from_spec("not json").allow("/health").is_none());
    }
}

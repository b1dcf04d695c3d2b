//! Query strings and form bodies. A parameter given twice is an error (RFC 6749 §3.1): the two
//! copies could be read differently by two components.

use std::collections::HashMap;

use toolgate_core::HttpRequest;

/// Decoded parameters, each present at most once.
#[derive(Debug, Default)]
pub(crate) struct Params(HashMap<String, String>);

/// A parameter appeared more than once, or the encoding was unreadable.
#[derive(Debug)]
pub(crate) struct BadParams(pub String);

impl Params {
    pub fn from_query(request: &HttpRequest) -> Result<Self, BadParams> {
        Self::parse(request.uri().query().unwrap_or_default().as_bytes())
    }

    /// A form body; the content type must be `application/x-www-form-urlencoded`.
    pub fn from_form(request: &HttpRequest) -> Result<Self, BadParams> {
        let content_type = request
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        if !essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            return Err(BadParams("the body must be application/x-www-form-urlencoded".into()));
        }
        Self::parse(request.body())
    }

    fn parse(bytes: &[u8]) -> Result<Self, BadParams> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_bytes(bytes).map_err(|_| BadParams("parameters are not URL-encoded".into()))?;
        let mut map = HashMap::with_capacity(pairs.len());
        for (name, value) in pairs {
            if map.contains_key(&name) {
                return Err(BadParams(format!("parameter `{}` is repeated", truncate(&name))));
            }
            map.insert(name, value);
        }
        Ok(Self(map))
    }

    /// A parameter's value; an empty value counts as absent (RFC 6749 §3.1).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }
}

fn truncate(name: &str) -> String {
    name.chars().take(40).collect()
}

//! The MCP standard headers (`Mcp-Method`, `Mcp-Name`; SEP-2243, protocol 2026-07-28) must say
//! what the body says.
//!
//! Balancers, WAFs and rate limiters route and count on these headers without parsing the body,
//! while toolgate decides on the body. A request whose headers name another method or item than
//! its body would be counted as one thing and run as another, so any supplied header must agree
//! with the body **whatever protocol version the request names**. (rmcp checks 2026-07-28
//! requests as well, including that the headers are present and the `Mcp-Param-*` ones; this
//! check adds the older versions, which do not define the headers but may still carry them.)
//! A mismatch is HTTP 400 with JSON-RPC error `-32020` (header mismatch), as SEP-2243 specifies.

use poem::http::HeaderMap;

use super::json_rpc::JsonRpcHead;

pub const MCP_METHOD: &str = "mcp-method";
pub const MCP_NAME: &str = "mcp-name";
/// SEP-2243's JSON-RPC error code for headers that contradict the body.
pub const HEADER_MISMATCH: i32 = -32020;

/// A header that does not agree with the body; the message names both values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct HeaderMismatch(String);

/// Checks the supplied `Mcp-Method` and `Mcp-Name` against the body's method and item
/// (`params.name`, or `params.uri` for resources). Absent headers pass (rmcp requires them for
/// 2026-07-28); each may appear once; `Mcp-Name` may be Base64-wrapped (`=?base64?…?=`).
pub fn check(headers: &HeaderMap, head: &JsonRpcHead) -> Result<(), HeaderMismatch> {
    if let Some(method) = single(headers, MCP_METHOD, "Mcp-Method")? {
        let body = head.method.as_deref().unwrap_or("");
        if method != body {
            return Err(HeaderMismatch(format!(
                "Mcp-Method header `{}` does not match body method `{body}`",
                printable(&method)
            )));
        }
    }
    if let Some(raw) = single(headers, MCP_NAME, "Mcp-Name")?
        && let Some(item) = head.item.as_deref()
    {
        let name = decode(&raw).ok_or_else(|| HeaderMismatch("Mcp-Name header is not valid Base64".into()))?;
        if name != item {
            return Err(HeaderMismatch(format!(
                "Mcp-Name header `{}` does not match body value `{}`",
                printable(&name),
                printable(item)
            )));
        }
    }
    Ok(())
}

/// The one value of header `name`, if any; repeated or non-text values are refused.
fn single(headers: &HeaderMap, name: &str, display: &str) -> Result<Option<String>, HeaderMismatch> {
    let mut values = headers.get_all(name).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(HeaderMismatch(format!("the {display} header appears more than once")));
    }
    first
        .to_str()
        .map(|v| Some(v.to_owned()))
        .map_err(|_| HeaderMismatch(format!("the {display} header is not text")))
}

/// Reverses SEP-2243's `=?base64?{value}?=` wrapping of values that cannot travel bare.
fn decode(raw: &str) -> Option<String> {
    use base64::Engine as _;
    match raw.strip_prefix("=?base64?").and_then(|v| v.strip_suffix("?=")) {
        Some(inner) => {
            let bytes = base64::engine::general_purpose::STANDARD.decode(inner).ok()?;
            String::from_utf8(bytes).ok()
        }
        None => Some(raw.to_owned()),
    }
}

/// At most 64 characters of a value, for an error message.
fn printable(value: &str) -> String {
    value.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use poem::http::HeaderValue;

    use super::*;
    use crate::edge::json_rpc::MessageKind;

    fn head(method: &str, item: Option<&str>) -> JsonRpcHead {
        JsonRpcHead {
            kind: MessageKind::Request,
            method: Some(method.into()),
            id: Some("1".into()),
            item: item.map(str::to_owned),
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn supplied_headers_must_agree_with_the_body() {
        let call = head("tools/call", Some("ref__transfer"));
        assert!(check(&headers(&[]), &call).is_ok());
        assert!(
            check(
                &headers(&[(MCP_METHOD, "tools/call"), (MCP_NAME, "ref__transfer")]),
                &call
            )
            .is_ok()
        );
        // `ref__transfer` Base64-wrapped.
        assert!(check(&headers(&[(MCP_NAME, "=?base64?cmVmX190cmFuc2Zlcg==?=")]), &call).is_ok());
        for bad in [
            headers(&[(MCP_METHOD, "tools/list")]),
            headers(&[(MCP_NAME, "ref__echo")]),
            headers(&[(MCP_METHOD, "tools/call"), (MCP_METHOD, "tools/call")]),
            headers(&[(MCP_NAME, "=?base64?not base64?=")]),
            headers(&[(MCP_NAME, "=?base64?cmVmX19lY2hv?=")]), // ref__echo
        ] {
            assert!(check(&bad, &call).is_err(), "{bad:?}");
        }
        let list = head("tools/list", None);
        assert!(check(&headers(&[(MCP_METHOD, "tools/list")]), &list).is_ok());
        assert!(check(&headers(&[(MCP_METHOD, "tools/call")]), &list).is_err());
    }
}

//! A bounded first look at a JSON-RPC body, before anything builds a tree from it.
//!
//! A 3 MB `ping` whose `params._meta` holds 200,000 small keys is a valid message, and parsing it
//! into `serde_json::Value` costs ~40× its size in memory. [`scan`] walks the body once without
//! building anything (a counting serde visitor), refuses what is too deep or has too many values,
//! refuses batches (removed from MCP in 2025-06-18) and over-long names, and returns the parts
//! later layers need — method, id, and the item the request is about — each bounded.
//!
//! Errors follow JSON-RPC 2.0 §5.1: `-32700` (not JSON), `-32600` (not a request object),
//! `-32602` (a name or URI over MCP's limits).

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Bounds on one JSON-RPC message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonRpcLimits {
    /// Every JSON value counts one (object members and array elements included).
    pub max_values: usize,
    /// Nesting of objects and arrays.
    pub max_depth: usize,
    /// `method`.
    pub max_method_chars: usize,
    /// A string `id`.
    pub max_id_chars: usize,
    /// `params.name` (a tool or prompt name: MCP allows at most 128 characters).
    pub max_name_chars: usize,
    /// `params.uri` (resources).
    pub max_uri_chars: usize,
}

impl Default for JsonRpcLimits {
    fn default() -> Self {
        Self {
            max_values: 50_000,
            max_depth: 64,
            max_method_chars: 128,
            max_id_chars: 128,
            max_name_chars: 128,
            max_uri_chars: 2048,
        }
    }
}

/// What kind of JSON-RPC message a body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    Request,
    Notification,
    /// A response (`result` or `error`) to a request the server sent.
    Response,
}

/// The parts of a message later layers need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonRpcHead {
    pub kind: MessageKind,
    pub method: Option<String>,
    /// The `id` as JSON text (`7`, `"abc"`), usable as a key.
    pub id: Option<String>,
    /// `params.name` or `params.uri`: what the request is about.
    pub item: Option<String>,
}

/// Why a body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonRpcRefusal {
    #[error("parse error: {0}")]
    Parse(String),
    #[error("batches are not supported (MCP 2025-06-18 removed JSON-RPC batching)")]
    Batch,
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("invalid params: {field} is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
}

impl JsonRpcRefusal {
    /// The JSON-RPC error code (JSON-RPC 2.0 §5.1).
    pub fn code(&self) -> i32 {
        match self {
            Self::Parse(_) => -32700,
            Self::Batch | Self::InvalidRequest(_) => -32600,
            Self::TooLong { .. } => -32602,
        }
    }

    /// The audit reason code.
    pub fn reason_code(&self) -> &'static str {
        match self {
            Self::Parse(_) => "parse_error",
            Self::Batch => "batch_refused",
            Self::InvalidRequest(_) => "invalid_request",
            Self::TooLong { .. } => "name_too_long",
        }
    }
}

struct Ctx {
    limits: JsonRpcLimits,
    values: std::cell::Cell<usize>,
    refusal: RefCell<Option<JsonRpcRefusal>>,
}

impl Ctx {
    fn refuse<E: de::Error>(&self, refusal: JsonRpcRefusal) -> E {
        let message = refusal.to_string();
        self.refusal.borrow_mut().get_or_insert(refusal);
        E::custom(message)
    }

    fn count<E: de::Error>(&self, depth: usize) -> Result<(), E> {
        let values = self.values.get() + 1;
        self.values.set(values);
        if values > self.limits.max_values {
            return Err(self.refuse(JsonRpcRefusal::InvalidRequest(format!(
                "more than {} JSON values",
                self.limits.max_values
            ))));
        }
        if depth > self.limits.max_depth {
            return Err(self.refuse(JsonRpcRefusal::InvalidRequest(format!(
                "nested deeper than {}",
                self.limits.max_depth
            ))));
        }
        Ok(())
    }
}

/// Scans `body`: see the module documentation.
pub fn scan(body: &[u8], limits: &JsonRpcLimits) -> Result<JsonRpcHead, JsonRpcRefusal> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    match first {
        None => return Err(JsonRpcRefusal::Parse("empty body".into())),
        Some(b'[') => return Err(JsonRpcRefusal::Batch),
        Some(b'{') => {}
        Some(_) => {
            // Not an object: still tell malformed JSON (-32700) from a wrong shape (-32600).
            return match serde_json::from_slice::<IgnoredAny>(body) {
                Ok(_) => Err(JsonRpcRefusal::InvalidRequest("a message must be a JSON object".into())),
                Err(error) => Err(JsonRpcRefusal::Parse(error.to_string())),
            };
        }
    }
    let ctx = Ctx {
        limits: *limits,
        values: std::cell::Cell::new(0),
        refusal: RefCell::new(None),
    };
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let fields = Top { ctx: &ctx }.deserialize(&mut deserializer).and_then(|fields| {
        deserializer.end()?;
        Ok(fields)
    });
    let fields = match fields {
        Ok(fields) => fields,
        Err(error) => {
            return Err(ctx
                .refusal
                .into_inner()
                .unwrap_or_else(|| JsonRpcRefusal::Parse(error.to_string())));
        }
    };
    fields.head()
}

#[derive(Default)]
struct TopFields {
    jsonrpc: Option<bool>,
    method: Option<String>,
    id: Option<String>,
    has_id: bool,
    has_result_or_error: bool,
    item: Option<String>,
}

impl TopFields {
    fn head(self) -> Result<JsonRpcHead, JsonRpcRefusal> {
        if self.jsonrpc != Some(true) {
            return Err(JsonRpcRefusal::InvalidRequest("`jsonrpc` must be \"2.0\"".into()));
        }
        let kind = match (&self.method, self.has_id, self.has_result_or_error) {
            (Some(_), true, false) => MessageKind::Request,
            (Some(_), false, false) => MessageKind::Notification,
            (None, true, true) => MessageKind::Response,
            _ => {
                return Err(JsonRpcRefusal::InvalidRequest(
                    "not a request, notification or response".into(),
                ));
            }
        };
        Ok(JsonRpcHead {
            kind,
            method: self.method,
            id: self.id,
            item: self.item,
        })
    }
}

struct Top<'a> {
    ctx: &'a Ctx,
}

impl<'de> DeserializeSeed<'de> for Top<'_> {
    type Value = TopFields;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Top<'_> {
    type Value = TopFields;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON-RPC message object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let ctx = self.ctx;
        ctx.count(1)?;
        let mut fields = TopFields::default();
        let mut seen: Vec<String> = Vec::new();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if seen.iter().any(|k| *k == *key) {
                return Err(ctx.refuse(JsonRpcRefusal::InvalidRequest(
                    "a member appears twice in the message".into(),
                )));
            }
            if seen.len() < 16 {
                seen.push(key.to_string());
            }
            match &*key {
                "jsonrpc" => {
                    let version = map.next_value_seed(Text {
                        ctx,
                        depth: 2,
                        max: 16,
                        field: "jsonrpc",
                    })?;
                    fields.jsonrpc = Some(version.as_deref() == Some("2.0"));
                }
                "method" => {
                    fields.method = map.next_value_seed(Text {
                        ctx,
                        depth: 2,
                        max: ctx.limits.max_method_chars,
                        field: "method",
                    })?;
                    if fields.method.is_none() {
                        return Err(ctx.refuse(JsonRpcRefusal::InvalidRequest("`method` must be a string".into())));
                    }
                }
                "id" => {
                    fields.has_id = true;
                    fields.id = map.next_value_seed(Id { ctx })?;
                }
                "params" => {
                    fields.item = map.next_value_seed(Params { ctx })?;
                }
                "result" | "error" => {
                    fields.has_result_or_error = true;
                    map.next_value_seed(Count { ctx, depth: 2 })?;
                }
                _ => map.next_value_seed(Count { ctx, depth: 2 })?,
            }
        }
        Ok(fields)
    }
}

/// A string of at most `max` characters (`None` for a non-string, which callers judge).
struct Text<'a> {
    ctx: &'a Ctx,
    depth: usize,
    max: usize,
    field: &'static str,
}

impl<'de> DeserializeSeed<'de> for Text<'_> {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Text<'_> {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        self.ctx.count(self.depth)?;
        if value.chars().count() > self.max {
            return Err(self.ctx.refuse(JsonRpcRefusal::TooLong {
                field: self.field,
                max: self.max,
            }));
        }
        Ok(Some(value.to_owned()))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        self.ctx.count(self.depth).map(|()| None)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        self.ctx.count(self.depth).map(|()| None)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        self.ctx.count(self.depth).map(|()| None)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        self.ctx.count(self.depth).map(|()| None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.ctx.count(self.depth).map(|()| None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Count {
            ctx: self.ctx,
            depth: self.depth,
        }
        .visit_seq(seq)
        .map(|()| None)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Count {
            ctx: self.ctx,
            depth: self.depth,
        }
        .visit_map(map)
        .map(|()| None)
    }
}

/// The `id`: a number or a bounded string, kept as JSON text; `null` is no id.
struct Id<'a> {
    ctx: &'a Ctx,
}

impl<'de> DeserializeSeed<'de> for Id<'_> {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Id<'_> {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON-RPC id (string, integer or null)")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        self.ctx.count(2)?;
        if value.chars().count() > self.ctx.limits.max_id_chars {
            return Err(self.ctx.refuse(JsonRpcRefusal::InvalidRequest(format!(
                "a string id is longer than {} characters",
                self.ctx.limits.max_id_chars
            ))));
        }
        Ok(Some(serde_json::Value::String(value.to_owned()).to_string()))
    }
    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
        self.ctx.count(2).map(|()| Some(value.to_string()))
    }
    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        self.ctx.count(2).map(|()| Some(value.to_string()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.ctx.count(2).map(|()| None)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Err(self.ctx.refuse(JsonRpcRefusal::InvalidRequest(
            "an id must be a string or an integer".into(),
        )))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Err(self.ctx.refuse(JsonRpcRefusal::InvalidRequest(
            "an id must be a string or an integer".into(),
        )))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(self.ctx.refuse(JsonRpcRefusal::InvalidRequest(
            "an id must be a string or an integer".into(),
        )))
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(self.ctx.refuse(JsonRpcRefusal::InvalidRequest(
            "an id must be a string or an integer".into(),
        )))
    }
}

/// `params`: counted, with `name` and `uri` bounded and kept.
struct Params<'a> {
    ctx: &'a Ctx,
}

impl<'de> DeserializeSeed<'de> for Params<'_> {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Params<'_> {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("params")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let ctx = self.ctx;
        ctx.count(2)?;
        let mut item = None;
        let mut seen_name = false;
        let mut seen_uri = false;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let (max, field, seen) = match &*key {
                "name" => (ctx.limits.max_name_chars, "params.name", &mut seen_name),
                "uri" => (ctx.limits.max_uri_chars, "params.uri", &mut seen_uri),
                _ => {
                    map.next_value_seed(Count { ctx, depth: 3 })?;
                    continue;
                }
            };
            if std::mem::replace(seen, true) {
                return Err(ctx.refuse(JsonRpcRefusal::InvalidRequest(format!("{field} appears twice"))));
            }
            let value = map.next_value_seed(Text {
                ctx,
                depth: 3,
                max,
                field,
            })?;
            item = item.or(value);
        }
        Ok(item)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Count {
            ctx: self.ctx,
            depth: 2,
        }
        .visit_seq(seq)
        .map(|()| None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.ctx.count(2).map(|()| None)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Err(self.ctx.refuse(JsonRpcRefusal::InvalidRequest(
            "params must be an object or an array".into(),
        )))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Err(self.ctx.refuse(JsonRpcRefusal::InvalidRequest(
            "params must be an object or an array".into(),
        )))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Err(self.ctx.refuse(JsonRpcRefusal::InvalidRequest(
            "params must be an object or an array".into(),
        )))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Err(self.ctx.refuse(JsonRpcRefusal::InvalidRequest(
            "params must be an object or an array".into(),
        )))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Err(self.ctx.refuse(JsonRpcRefusal::InvalidRequest(
            "params must be an object or an array".into(),
        )))
    }
}

/// Any value, counted and discarded.
struct Count<'a> {
    ctx: &'a Ctx,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Count<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Count<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.ctx.count(self.depth)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.ctx.count(self.depth)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.ctx.count(self.depth)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.ctx.count(self.depth)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.ctx.count(self.depth)
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.ctx.count(self.depth)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.ctx.count(self.depth)?;
        while seq
            .next_element_seed(Count {
                ctx: self.ctx,
                depth: self.depth + 1,
            })?
            .is_some()
        {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.ctx.count(self.depth)?;
        while map.next_key::<IgnoredAny>()?.is_some() {
            map.next_value_seed(Count {
                ctx: self.ctx,
                depth: self.depth + 1,
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn scan_str(body: &str) -> Result<JsonRpcHead, JsonRpcRefusal> {
        scan(body.as_bytes(), &JsonRpcLimits::default())
    }

    #[test]
    fn requests_notifications_and_responses_are_told_apart() {
        let head = scan_str(
            r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"a":[1,2]}}}"#,
        )
        .unwrap();
        assert_eq!(head.kind, MessageKind::Request);
        assert_eq!(head.method.as_deref(), Some("tools/call"));
        assert_eq!(head.id.as_deref(), Some("7"));
        assert_eq!(head.item.as_deref(), Some("echo"));
        let head = scan_str(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).unwrap();
        assert_eq!(head.kind, MessageKind::Notification);
        let head = scan_str(r#"{"jsonrpc":"2.0","id":"a","result":{}}"#).unwrap();
        assert_eq!((head.kind, head.id.as_deref()), (MessageKind::Response, Some("\"a\"")));
    }

    #[test]
    fn malformed_bodies_get_the_right_json_rpc_code() {
        for (body, code) in [
            ("{", -32700),
            ("", -32700),
            ("nonsense", -32700),
            ("[]", -32600),
            (r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#, -32600),
            ("42", -32600),
            (r#"{"id":1,"method":"ping"}"#, -32600),
            (r#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#, -32600),
            (r#"{"jsonrpc":"2.0","id":1}"#, -32600),
            (r#"{"jsonrpc":"2.0","id":1,"method":5}"#, -32600),
            (r#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#, -32600),
            (
                r#"{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/call"}"#,
                -32600,
            ),
            (r#"{"jsonrpc":"2.0","id":1,"method":"ping"} trailing"#, -32700),
        ] {
            assert_eq!(scan_str(body).map_err(|e| e.code()), Err(code), "{body}");
        }
    }

    #[test]
    fn amplification_and_long_names_are_refused() {
        let keys: String = (0..60_000).map(|i| format!("\"k{i}\":0,")).collect();
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"_meta":{{{}"z":0}}}}}}"#,
            keys
        );
        assert!(matches!(scan_str(&body), Err(JsonRpcRefusal::InvalidRequest(_))));
        let deep = format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{}{}}}"#,
            "[".repeat(100),
            "]".repeat(100)
        );
        assert!(matches!(scan_str(&deep), Err(JsonRpcRefusal::InvalidRequest(_))));
        let name = "x".repeat(1_000_000);
        let body = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"{name}"}}}}"#);
        assert_eq!(scan_str(&body).unwrap_err().code(), -32602);
        let body = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"{name}"}}"#);
        assert!(scan_str(&body).is_err());
        let body = format!(r#"{{"jsonrpc":"2.0","id":"{name}","method":"ping"}}"#);
        assert_eq!(scan_str(&body).unwrap_err().code(), -32600);
        let uri = format!("file:///{}", "a".repeat(3000));
        let body = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{{"uri":"{uri}"}}}}"#);
        assert_eq!(scan_str(&body).unwrap_err().code(), -32602);
    }
}

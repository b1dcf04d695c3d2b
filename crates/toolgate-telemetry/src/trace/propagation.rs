//! W3C Trace Context (<https://www.w3.org/TR/trace-context/>): the `traceparent` (and
//! `tracestate`) a caller sends, in the HTTP header (§3.2) or in MCP's `params._meta`
//! (SEP-414: the same two keys, for transports and relays where headers do not reach), and the
//! one toolgate sends its upstreams.

use opentelemetry::Context;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator as _};
use opentelemetry::trace::TraceContextExt as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// The W3C header (and `_meta` key) carrying the parent span.
pub const TRACEPARENT: &str = "traceparent";
/// The W3C header (and `_meta` key) carrying vendor state.
pub const TRACESTATE: &str = "tracestate";

/// The longest `traceparent`/`tracestate` accepted (W3C: `tracestate` at most 512 characters
/// is what implementations must propagate; `traceparent` version 00 is 55).
const MAX_VALUE_CHARS: usize = 512;

struct Pair<'a> {
    traceparent: &'a str,
    tracestate: Option<&'a str>,
}

impl Extractor for Pair<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        match key {
            TRACEPARENT => Some(self.traceparent),
            TRACESTATE => self.tracestate,
            _ => None,
        }
    }

    fn keys(&self) -> Vec<&str> {
        vec![TRACEPARENT, TRACESTATE]
    }
}

/// The remote parent a `traceparent` (and optional `tracestate`) names; `None` when absent,
/// over-long or invalid (W3C §3.2.2: an invalid `traceparent` is ignored, a new trace starts).
pub fn remote_parent(traceparent: &str, tracestate: Option<&str>) -> Option<Context> {
    if traceparent.len() > MAX_VALUE_CHARS {
        return None;
    }
    let tracestate = tracestate.filter(|s| s.len() <= MAX_VALUE_CHARS);
    let cx = TraceContextPropagator::new().extract(&Pair {
        traceparent,
        tracestate,
    });
    cx.span().span_context().is_valid().then_some(cx)
}

/// The remote parent in HTTP `headers`, if any.
pub fn from_headers(headers: &http::HeaderMap) -> Option<Context> {
    let traceparent = headers.get(TRACEPARENT)?.to_str().ok()?;
    let tracestate = headers.get(TRACESTATE).and_then(|v| v.to_str().ok());
    remote_parent(traceparent, tracestate)
}

struct Collect(Option<String>);

impl Injector for Collect {
    fn set(&mut self, key: &str, value: String) {
        if key == TRACEPARENT {
            self.0 = Some(value);
        }
    }
}

/// The `traceparent` naming `span` as the parent, for a request toolgate sends on; `None` when
/// the span is not recorded by OpenTelemetry (traces off, or not sampled and not propagated).
pub fn traceparent_of(span: &tracing::Span) -> Option<String> {
    let cx = span.context();
    if !cx.span().span_context().is_valid() {
        return None;
    }
    let mut collect = Collect(None);
    TraceContextPropagator::new().inject_context(&cx, &mut collect);
    collect.0
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    #[test]
    fn valid_parents_are_taken_and_invalid_ones_ignored() {
        let cx = remote_parent(VALID, None);
        assert_eq!(
            cx.map(|cx| cx.span().span_context().trace_id().to_string()),
            Some("0af7651916cd43dd8448eb211c80319c".to_owned())
        );
        assert!(remote_parent("00-00000000000000000000000000000000-b7ad6b7169203331-01", None).is_none());
        assert!(remote_parent("garbage", None).is_none());
        assert!(remote_parent(&"0".repeat(10_000), None).is_none());
    }

    #[test]
    fn headers_carry_the_parent() {
        let mut headers = http::HeaderMap::new();
        assert!(from_headers(&headers).is_none());
        headers.insert(TRACEPARENT, http::HeaderValue::from_static(VALID));
        assert!(from_headers(&headers).is_some());
    }

    #[test]
    fn a_span_without_opentelemetry_has_no_traceparent() {
        assert_eq!(traceparent_of(&tracing::Span::none()), None);
    }
}

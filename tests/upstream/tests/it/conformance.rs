//! The conformance suite's active server scenarios against the reference upstream, directly and
//! through the token-injecting proxy in front of an upstream that requires a bearer token.
//!
//! The suite's output is captured; on failure it is shown sanitized (no `Total: N passed, M failed`
//! line reaches the test output — CI would take it for the test totals).

use toolgate_test_upstream::external::run_conformance;
use toolgate_test_upstream::{UpstreamOptions, inject_token, serve_http};

use crate::support::local;

/// Checks in the active suite of @modelcontextprotocol/conformance 0.1.16 (30 scenarios).
const ACTIVE_SUITE_CHECKS: u32 = 40;

#[tokio::test(flavor = "multi_thread")]
async fn conformance_active_suite_passes_directly() {
    let upstream = serve_http(local(), UpstreamOptions::default()).await;
    let run = run_conformance(upstream.url().as_str()).await;
    assert!(
        run.failed == 0 && run.passed >= ACTIVE_SUITE_CHECKS && run.exit_code == Some(0),
        "conformance total = {} passed / {} failed (exit {:?}):\n{}",
        run.passed,
        run.failed,
        run.exit_code,
        run.report
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn conformance_passes_through_the_token_proxy_with_the_same_count() {
    let token = "conformance-token";
    let options = UpstreamOptions {
        require_static_header: Some(("authorization".into(), format!("Bearer {token}"))),
        ..UpstreamOptions::default()
    };
    let upstream = serve_http(local(), options).await;

    // Without the proxy the suite cannot talk to this upstream at all.
    let refused = run_conformance(upstream.url().as_str()).await;
    assert!(
        refused.failed > 0,
        "the upstream accepted requests without its token:\n{}",
        refused.report
    );

    let open = serve_http(local(), UpstreamOptions::default()).await;
    let direct = run_conformance(open.url().as_str()).await;
    let proxy = inject_token(local(), upstream.url().clone(), token.into()).await;
    let proxied = run_conformance(&proxy.url("/mcp")).await;
    assert!(
        proxied.failed == 0 && proxied.passed == direct.passed && proxied.passed >= ACTIVE_SUITE_CHECKS,
        "through the proxy: conformance total = {} passed / {} failed; directly {} passed:\n{}",
        proxied.passed,
        proxied.failed,
        direct.passed,
        proxied.report
    );
}

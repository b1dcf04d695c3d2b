//! The proxy's own tokens: what every MCP request pays to authenticate (`AuthProvider::authenticate`
//! on a proxy JWT), and what `/token` pays to mint one.
//!
//! Run: `cargo bench -p toolgate-proxy --bench tokens`. No network: the signing key is created in an
//! in-memory store; the Entra validator is never used.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use http::{HeaderMap, HeaderValue, Method, Uri};
use toolgate_core::{AuthProvider, RequestHead, SystemClock};
use toolgate_entra::providers::AccessRequirements;
use toolgate_entra::{EntraSettings, EntraValidator};
use toolgate_proxy::{EntraProxy, Lifetimes, ProxyConfig, ProxySecret, UpstreamConfig, UserClaims};
use toolgate_store::MemoryStore;

fn tokens(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let tenant = "3c9a8b1e-5d2f-4e7a-9b0c-1d2e3f4a5b6c";
    let client = "a9e2d5f0-3b1c-4d8e-9f7a-6c5b4a3d2e1f";
    let settings = EntraSettings::single_tenant("https://login.microsoftonline.com", tenant, client).unwrap();
    let validator = EntraValidator::new(settings, Arc::new(SystemClock));
    let mut config = ProxyConfig::new(
        "https://tools.example.com",
        "https://tools.example.com/mcp",
        UpstreamConfig {
            authority_host: "https://login.microsoftonline.com".into(),
            tenant: tenant.into(),
            client_id: client.into(),
            client_secret: "unused".into(),
            scope_prefix: format!("api://{client}"),
        },
        vec!["access_as_user".into()],
        ProxySecret::generate(),
    );
    config.requirements = AccessRequirements {
        required_scopes: vec!["access_as_user".into()],
        ..AccessRequirements::default()
    };
    config.lifetimes = Lifetimes {
        access_token: Duration::from_secs(3600),
        ..Lifetimes::default()
    };
    config.cimd = None;
    let proxy = runtime
        .block_on(EntraProxy::new(
            config,
            validator,
            Arc::new(MemoryStore::new()),
            Arc::new(SystemClock),
        ))
        .unwrap();
    let user = UserClaims {
        sub: format!("user:{tenant}/a11ce000-0000-4000-8000-000000000001"),
        tid: tenant.into(),
        oid: Some("a11ce000-0000-4000-8000-000000000001".into()),
        name: Some("Alice".into()),
        preferred_username: Some("alice@contoso.example".into()),
        roles: vec!["Task.Read".into(), "Task.Write".into()],
        groups: Some(vec!["0c4c6b1e-0000-4000-8000-00000000000a".into()]),
        guest: false,
        extra: serde_json::Map::new(),
    };
    let scopes = vec!["access_as_user".to_owned()];
    let token = proxy.signer().mint(&user, "client-1", &scopes, "grant-1").unwrap();
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    );
    let uri = Uri::from_static("/mcp");
    let method = Method::POST;
    let head = RequestHead {
        method: &method,
        uri: &uri,
        headers: &headers,
    };
    runtime
        .block_on(proxy.authenticate(head))
        .expect("the benchmark token authenticates");

    let mut group = c.benchmark_group("entra_proxy_tokens");
    group.bench_function("authenticate_proxy_jwt", |b| {
        b.iter(|| runtime.block_on(proxy.authenticate(head)).unwrap());
    });
    group.bench_function("mint_proxy_jwt", |b| {
        b.iter(|| proxy.signer().mint(&user, "client-1", &scopes, "grant-1").unwrap());
    });
    group.finish();
}

criterion_group!(benches, tokens);
criterion_main!(benches);

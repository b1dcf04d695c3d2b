//! RS256 Entra token validation with cached keys: the cost every authenticated request pays.
//!
//! Run: `cargo bench -p toolgate-entra --bench validate`. The emulator serves discovery and
//! keys once; the measured loop never touches the network.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use toolgate_core::SystemClock;
use toolgate_emulator::{Emulator, EmulatorConfig, TokenRequestSpec, demo};
use toolgate_entra::{EntraSettings, EntraValidator};
use toolgate_jose::CompactJws;

fn validation(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let emulator = runtime
        .block_on(Emulator::start(EmulatorConfig::demo(), "127.0.0.1:0".parse().unwrap()))
        .unwrap();
    let settings = EntraSettings::single_tenant(&emulator.base_url(), demo::TENANT_ID, demo::API_CLIENT_ID).unwrap();
    let validator = EntraValidator::new(settings, Arc::new(SystemClock));
    runtime.block_on(validator.start()).unwrap();
    let token = emulator
        .issue_access_token(&TokenRequestSpec {
            tenant: demo::TENANT_ID.into(),
            client_id: demo::CLI_CLIENT_ID.into(),
            user: Some("alice".into()),
            scopes: vec![demo::API_SCOPE_ACCESS_AS_USER.into()],
        })
        .unwrap();
    runtime
        .block_on(validator.validate(&token))
        .expect("the benchmark token validates");

    let mut group = c.benchmark_group("entra_validation");
    group.bench_function("validate_rs256_cached_keys", |b| {
        b.iter(|| {
            runtime
                .block_on(validator.validate(std::hint::black_box(&token)))
                .unwrap()
        })
    });
    group.bench_function("validate_and_build_principal", |b| {
        b.iter(|| {
            let verified = runtime
                .block_on(validator.validate(std::hint::black_box(&token)))
                .unwrap();
            verified.principal("entra-jwt").unwrap()
        })
    });
    let jws = CompactJws::parse(&token).unwrap();
    let snapshot = validator.key_cache().snapshot();
    let key = snapshot.keys.get(jws.header_str("kid").unwrap()).unwrap().key.clone();
    group.bench_function("rsa_verify_only", |b| {
        b.iter(|| {
            key.verify_rs256(jws.signing_input.as_bytes(), std::hint::black_box(&jws.signature))
                .unwrap()
        })
    });
    group.bench_function("parse_only", |b| {
        b.iter(|| CompactJws::parse(std::hint::black_box(&token)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, validation);
criterion_main!(benches);

//! Shared helpers for the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use serde_json::{Map, Value, json};
use toolgate_core::{Groups, Principal, PrincipalKind, ToolDescriptor};
use toolgate_policy::{ClaimMapping, PolicyEngine, PolicyError, PolicySource, load_catalog};

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn demo_catalog() -> Vec<ToolDescriptor> {
    load_catalog(repo_root().join("policies/catalog.demo.json")).unwrap()
}

pub fn src(name: &str, text: &str) -> PolicySource {
    PolicySource {
        name: name.into(),
        text: text.into(),
    }
}

pub fn engine(text: &str) -> PolicyEngine {
    try_engine(text).unwrap_or_else(|e| panic!("{e}"))
}

pub fn try_engine(text: &str) -> Result<PolicyEngine, PolicyError> {
    PolicyEngine::from_sources(
        &[src("test.cedar", text)],
        &demo_catalog(),
        false,
        ClaimMapping::default(),
    )
}

pub fn user(name: &str, roles: &[&str]) -> Principal {
    Principal {
        id: format!("user:t/{name}"),
        kind: PrincipalKind::User,
        tenant_id: "t".into(),
        object_id: Some(name.into()),
        display_name: None,
        username: None,
        roles: roles.iter().map(|s| s.to_string()).collect(),
        scopes: vec!["access_as_user".into()],
        groups: Groups::Listed { ids: vec![] },
        client_app_id: Some("client".into()),
        guest: false,
        provider: "test".into(),
        expires_at: 0,
        claims: Map::new(),
    }
}

pub fn app(name: &str, roles: &[&str]) -> Principal {
    Principal {
        id: format!("app:t/{name}"),
        kind: PrincipalKind::App,
        scopes: vec![],
        ..user(name, roles)
    }
}

pub fn no_args() -> Value {
    json!({})
}

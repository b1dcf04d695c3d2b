//! Shared set-up: an emulator with the demo set, validators trusting it, real sign-ins.

use std::sync::Arc;

use serde_json::{Map, Value};
use toolgate::sign_in::SignIn;
use toolgate_core::{AuthRejection, RejectReason, SystemClock};
use toolgate_emulator::{Emulator, EmulatorConfig, RunningEmulator, TokenRequestSpec, demo};
use toolgate_entra::{EntraSettings, EntraValidator, KeyCache, VerifiedToken};

pub async fn emulator() -> RunningEmulator {
    Emulator::start(EmulatorConfig::demo(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

/// Single-tenant settings for the demo API (v2 tokens) in contoso.
pub fn api_settings(emulator: &RunningEmulator) -> EntraSettings {
    EntraSettings::single_tenant(&emulator.base_url(), demo::TENANT_ID, demo::API_CLIENT_ID).unwrap()
}

/// A validator with its own key cache, so tests can count its fetches.
pub fn validator(settings: EntraSettings) -> EntraValidator {
    let keys = KeyCache::new(settings.key_source(), settings.unknown_kid_refresh_interval);
    EntraValidator::with_key_cache(settings, keys, Arc::new(SystemClock))
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Signs `user` in through the emulator's real authorize + token endpoints.
pub async fn sign_in(emulator: &RunningEmulator, user: &str, scopes: &[&str]) -> String {
    sign_in_at(emulator, demo::TENANT_ID, user, scopes).await
}

pub async fn sign_in_at(emulator: &RunningEmulator, tenant: &str, user: &str, scopes: &[&str]) -> String {
    SignIn {
        authority: emulator.base_url(),
        tenant: tenant.to_owned(),
        client_id: demo::CLI_CLIENT_ID.to_owned(),
        redirect_uri: demo::CLI_REDIRECT_URI.to_owned(),
        user: user.to_owned(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
    }
    .run()
    .await
    .unwrap_or_else(|e| panic!("sign-in of {user} failed: {e}"))
    .access_token
}

/// A client-credentials token for the nightly job (app-only), over HTTP.
pub async fn app_token(emulator: &RunningEmulator) -> String {
    let response: Value = reqwest::Client::new()
        .post(format!("{}/{}/oauth2/v2.0/token", emulator.base_url(), demo::TENANT_ID))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", demo::NIGHTLY_JOB_CLIENT_ID),
            ("client_secret", demo::NIGHTLY_JOB_CLIENT_SECRET),
            ("scope", demo::API_SCOPE_DEFAULT),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    response["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token: {response}"))
        .to_owned()
}

/// The claims the emulator would issue to `user` for the demo API, to tweak one at a time.
pub fn user_claims(emulator: &RunningEmulator, user: &str) -> Map<String, Value> {
    claims_for(
        emulator,
        demo::TENANT_ID,
        demo::CLI_CLIENT_ID,
        Some(user),
        demo::API_SCOPE_ACCESS_AS_USER,
    )
}

pub fn claims_for(
    emulator: &RunningEmulator,
    tenant: &str,
    client: &str,
    user: Option<&str>,
    scope: &str,
) -> Map<String, Value> {
    let spec = TokenRequestSpec {
        tenant: tenant.to_owned(),
        client_id: client.to_owned(),
        user: user.map(str::to_owned),
        scopes: vec![scope.to_owned()],
    };
    match emulator.access_token_claims(&spec).unwrap() {
        Value::Object(map) => map,
        other => panic!("claims are not an object: {other}"),
    }
}

pub fn sign(emulator: &RunningEmulator, claims: Map<String, Value>) -> String {
    emulator.sign_with_active_key(Map::new(), Value::Object(claims))
}

pub fn sign_with_header(emulator: &RunningEmulator, header: Value, claims: Map<String, Value>) -> String {
    let Value::Object(header) = header else {
        panic!("header must be an object")
    };
    emulator.sign_with_active_key(header, Value::Object(claims))
}

#[track_caller]
pub fn assert_rejected(result: Result<VerifiedToken, AuthRejection>, reason: RejectReason) {
    match result {
        Ok(token) => panic!("expected {reason}, but the token was accepted: {:?}", token.claims),
        Err(rejection) => assert_eq!(rejection.reason, reason, "detail: {}", rejection.detail),
    }
}

/// Runs `tests/clients/python/<script>` with the Python MCP SDK (installed by scripts/test.sh in
/// tests/clients/python/.venv) and `env`, within two minutes, and returns the JSON report it
/// prints last. Fails the test (never skips it) when the SDK is missing or the script fails.
pub async fn run_python_client(script: &str, env: &[(&str, &str)]) -> Value {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("clients/python");
    let python = dir.join(".venv/bin/python");
    assert!(
        python.exists(),
        "the Python MCP SDK is not installed: `python3 -m venv tests/clients/python/.venv && \
         tests/clients/python/.venv/bin/pip install -r tests/clients/python/requirements.txt` (scripts/test.sh does this)"
    );
    let child = tokio::process::Command::new(python)
        .arg(dir.join(script))
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let output = tokio::time::timeout(std::time::Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("the client finishes within two minutes")
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{script}\nstdout: {stdout}\nstderr: {stderr}");
    serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("bad report from {script} ({e}): {stdout}"))
}

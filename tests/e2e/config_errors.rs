//! Configuration errors name the key and the file; good configuration builds a gateway.

use std::io::Write as _;

use toolgate::{build, config};

fn write(contents: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    let policies = concat!(env!("CARGO_MANIFEST_DIR"), "/../policies");
    file.write_all(contents.replace("POLICIES", policies).as_bytes())
        .unwrap();
    file
}

const GOOD: &str = r#"
[policy]
dir = "POLICIES"

[auth]
provider = "entra-jwt"
[auth.entra]
tenant_id = "3c9a8b1e-5d2f-4e7a-9b0c-1d2e3f4a5b6c"
client_id = "a9e2d5f0-3b1c-4d8e-9f7a-6c5b4a3d2e1f"
"#;

#[tokio::test]
async fn a_good_file_builds_a_gateway() {
    let file = write(GOOD);
    let loaded = config::load(file.path()).unwrap();
    let gateway = build::gateway_with(&loaded, build::PolicyOrigin::Directory)
        .await
        .unwrap();
    assert_eq!(gateway.app.resource_url(), "http://127.0.0.1:8080/mcp");
    assert_eq!(gateway.provider.name(), "entra-jwt");
}

#[tokio::test]
async fn serving_nothing_is_a_config_error_naming_upstream() {
    let file = write(GOOD);
    let error = build::gateway(&config::load(file.path()).unwrap())
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.contains("`upstream`") && error.contains("nothing to serve"),
        "{error}"
    );
}

#[test]
fn wrong_types_and_unknown_keys_name_key_and_file() {
    let file = write(&GOOD.replace("[auth.entra]", "[auth.entra]\nleeway_seconds = \"soon\"\nteant = 1"));
    let error = config::load(file.path()).unwrap_err().to_string();
    let path = file.path().display().to_string();
    assert!(error.contains("auth.entra") && error.contains(&path), "{error}");
}

#[test]
fn a_missing_key_is_named() {
    let file = write(&GOOD.replace("client_id", "# client_id"));
    let error = config::load(file.path()).unwrap_err().to_string();
    assert!(error.contains("auth.entra.client_id"), "{error}");
}

#[test]
fn an_unknown_provider_is_named() {
    let file = write(&GOOD.replace("entra-jwt", "entra-magic"));
    let error = config::load(file.path()).unwrap_err().to_string();
    assert!(
        error.contains("auth.provider") && error.contains("entra-magic"),
        "{error}"
    );
}

#[tokio::test]
async fn semantic_errors_name_key_and_file() {
    let file = write(&GOOD.replace("3c9a8b1e-5d2f-4e7a-9b0c-1d2e3f4a5b6c", "contoso"));
    let loaded = config::load(file.path()).unwrap();
    let error = build::gateway(&loaded).await.err().unwrap().to_string();
    let path = file.path().display().to_string();
    assert!(
        error.contains("auth.entra.tenant_id") && error.contains(&path) && error.contains("GUID"),
        "{error}"
    );

    let file = write(&GOOD.replace("[auth.entra]", "[auth.entra]\ntenancy = \"multi\""));
    let error = build::gateway(&config::load(file.path()).unwrap())
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("auth.entra.allowed_tenants"), "{error}");
}

#[tokio::test]
async fn relative_policy_dirs_are_relative_to_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("rules")).unwrap();
    std::fs::write(
        dir.path().join("rules/deny.cedar"),
        "@id(\"nothing\") forbid (principal, action, resource);",
    )
    .unwrap();
    let path = dir.path().join("toolgate.toml");
    std::fs::write(&path, GOOD.replace("POLICIES", "rules")).unwrap();
    let gateway = build::gateway_with(&config::load(&path).unwrap(), build::PolicyOrigin::Directory)
        .await
        .unwrap();
    assert_eq!(gateway.policy.current().policy_ids(), ["nothing".to_owned()]);
}

#[tokio::test]
async fn an_invalid_policy_is_a_config_error_with_its_location() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("rules")).unwrap();
    std::fs::write(
        dir.path().join("rules/typo.cedar"),
        "permit (principal, action, resource)\nwhen { principal.nosuchattr };",
    )
    .unwrap();
    let path = dir.path().join("toolgate.toml");
    std::fs::write(&path, GOOD.replace("POLICIES", "rules")).unwrap();
    let error = build::gateway_with(&config::load(&path).unwrap(), build::PolicyOrigin::Directory)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("typo.cedar:2:"), "{error}");
}

#[test]
fn a_missing_file_is_reported() {
    let error = config::load(std::path::Path::new("/nonexistent/toolgate.toml"))
        .unwrap_err()
        .to_string();
    assert!(error.contains("/nonexistent/toolgate.toml"), "{error}");
}

#[tokio::test]
async fn entra_proxy_errors_name_the_key() {
    let proxy = GOOD.replace("entra-jwt", "entra-proxy");
    let secret = "\n[auth.proxy]\nsecret = \"0123456789abcdef0123456789abcdef-long-enough\"\n";
    let with_client_secret = proxy.replace("[auth.entra]", "[auth.entra]\nclient_secret = \"s\"");
    let cases = [
        (proxy.clone(), "auth.proxy"),
        (format!("{proxy}{secret}"), "auth.entra.client_secret"),
        (
            format!("{with_client_secret}\n[auth.proxy]\nsecret = \"short\"\n"),
            "auth.proxy.secret",
        ),
        (
            format!("{with_client_secret}{secret}registration = \"open\"\n"),
            "auth.proxy.registration",
        ),
        (
            format!("{with_client_secret}{secret}registration = \"static\"\n"),
            "auth.proxy.static_client",
        ),
        (
            format!(
                "{with_client_secret}{secret}[[auth.proxy.clients]]\nclient_id = \"c\"\nclient_name = \"C\"\nredirect_uris = [\"javascript:alert(1)\"]\n"
            ),
            "auth.proxy",
        ),
        (
            format!("{with_client_secret}{secret}\n[state]\nbackend = \"redis\"\n"),
            "state.url",
        ),
        (
            format!("[server]\npublic_url = \"http://tools.example.com\"\n{with_client_secret}{secret}"),
            "server.public_url",
        ),
        (
            format!("{with_client_secret}{secret}trusted_proxies = [\"10.0.0.0/8\", \"proxy.internal\"]\n"),
            "auth.proxy.trusted_proxies",
        ),
        (
            format!("{with_client_secret}{secret}registrations_per_minute_per_address = 0\n"),
            "auth.proxy.registrations_per_minute_per_address",
        ),
        (
            format!("{with_client_secret}{secret}sign_ins_per_minute = 0\n"),
            "auth.proxy.sign_ins_per_minute",
        ),
        (
            format!("{with_client_secret}{secret}max_unused_registrations = 0\n"),
            "auth.proxy.max_unused_registrations",
        ),
        (
            format!("{with_client_secret}{secret}unused_registration_minutes = 0\n"),
            "auth.proxy.unused_registration_minutes",
        ),
        (
            format!("{with_client_secret}{secret}registration_days = 400\n"),
            "auth.proxy.registration_days",
        ),
        (
            format!(
                "{}{secret}",
                with_client_secret.replace(
                    "[policy]",
                    "[policy]\nextra_claims = [{ claim = \"aud\", attribute = \"audience\", kind = \"string\" }]"
                )
            ),
            "policy.extra_claims",
        ),
    ];
    for (text, key) in cases {
        let file = write(&text);
        let path = file.path().display().to_string();
        let error = match config::load(file.path()) {
            Err(error) => error.to_string(),
            Ok(loaded) => build::gateway(&loaded)
                .await
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default(),
        };
        assert!(
            error.contains(key) && error.contains(&path),
            "expected {key}: {error}\n{text}"
        );
    }
}

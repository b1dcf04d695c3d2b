//! Swagger UI used as a person would, in headless Chromium (Debian's `chromium`, driven by
//! playwright-core from `tests/browser/`): Authorize → the emulator's sign-in page → back →
//! "Try it out" on GET /whoami (200, the demo user) → a tool the user may not call (refused).
//! A screenshot of the signed-in page is kept in `target/test-artifacts/`. `scripts/test.sh`
//! installs Chromium and the npm package; without them this test fails, never skips.

use std::process::Command;

use serde_json::Value;
use toolgate_emulator::demo;

use crate::gateway::stack;

/// Runs the browser script against `docs`; returns its JSON result and the screenshot path.
fn run_swagger(docs: String, user: &'static str, name: &str, consent: bool) -> (Value, String) {
    let browser_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/browser");
    let artifacts = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/test-artifacts");
    std::fs::create_dir_all(artifacts).unwrap();
    let screenshot = format!("{artifacts}/{name}.png");
    let mut args = vec![
        "swagger_login.mjs".to_owned(),
        docs,
        user.to_owned(),
        screenshot.clone(),
    ];
    if consent {
        args.push("consent".into());
    }
    let output = Command::new("node")
        .current_dir(browser_dir)
        .args(&args)
        .output()
        .unwrap_or_else(|e| panic!("node is needed for the browser test: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "browser script failed (run scripts/test.sh for its set-up):\n{stdout}\n{stderr}"
    );
    let result: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    assert!(result.get("error").is_none(), "{result}");
    // Swagger UI and its OAuth redirect page run under their Content-Security-Policy without
    // one refusal: everything they need is allowed, and only that.
    let refused_on_docs: Vec<&Value> = result["csp_violations"]
        .as_array()
        .expect("the script reports CSP refusals")
        .iter()
        .filter(|v| v["url"].as_str().unwrap_or_default().contains("/docs"))
        .collect();
    assert!(refused_on_docs.is_empty(), "{refused_on_docs:?}");
    (result, screenshot)
}

#[tokio::test]
async fn swagger_ui_signs_in_with_pkce_and_tries_the_api() {
    let stack = stack("").await;
    let docs = format!("{}/docs", stack.gateway.url());
    let (result, screenshot) =
        tokio::task::spawn_blocking(move || run_swagger(docs, "bob", "swagger-signed-in", false))
            .await
            .unwrap();
    assert_eq!(
        result["client_id_prefilled"],
        demo::API_CLIENT_ID,
        "the client id is prefilled"
    );
    let login = result["login_page"].as_str().unwrap();
    assert!(
        login.starts_with(&stack.emulator.base_url()),
        "signed in at the emulator: {login}"
    );
    assert!(login.contains("code_challenge_method=S256"), "PKCE S256: {login}");
    assert_eq!(result["whoami"]["status"], 200, "{result}");
    let whoami: Value = serde_json::from_str(result["whoami"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(whoami["id"], format!("user:{}/{}", demo::TENANT_ID, demo::BOB_OID));
    assert_eq!(result["forbidden"]["status"], 404, "bob may not purge: {result}");
    assert!(
        std::fs::metadata(&screenshot).unwrap().len() > 10_000,
        "screenshot kept at {screenshot}"
    );
}

#[tokio::test]
async fn swagger_ui_signs_in_through_the_entra_proxy_with_consent() {
    let stack = crate::entra_proxy::stack(crate::entra_proxy::Options::default()).await;
    let docs = format!("{}/docs", stack.base);
    let (result, _) = tokio::task::spawn_blocking(move || run_swagger(docs, "bob", "swagger-proxy-signed-in", true))
        .await
        .unwrap();
    assert_eq!(result["client_id_prefilled"], "toolgate-swagger-ui", "{result}");
    let login = result["login_page"].as_str().unwrap();
    assert!(login.starts_with(&stack.emulator.base_url()), "{login}");
    let consent = result["consent_page"].as_str().unwrap();
    assert!(
        consent.contains("toolgate API explorer") && consent.contains("Bob"),
        "{consent}"
    );
    assert_eq!(
        result["allow_disabled_at_first"], true,
        "Allow is not clickable the instant the consent page appears: {result}"
    );
    assert_eq!(result["allow_clicked"], true, "and is armed after a moment: {result}");
    assert_eq!(result["whoami"]["status"], 200, "{result}");
    let whoami: Value = serde_json::from_str(result["whoami"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(whoami["provider"], "entra-proxy");
    assert_eq!(whoami["id"], format!("user:{}/{}", demo::TENANT_ID, demo::BOB_OID));
    assert_eq!(result["forbidden"]["status"], 404, "bob may not purge: {result}");
}

//! The OpenAPI contract, checked by schemathesis (PyPI) against the running server with a real
//! admin token: every documented operation, generated valid and invalid inputs, all checks but
//! one (below). `scripts/test.sh` installs schemathesis; without it this test fails, never skips.

use std::process::Command;

use crate::gateway::stack;

#[tokio::test]
async fn the_rest_api_honours_its_openapi_contract() {
    let stack = stack("").await;
    let token = stack.token("carol").await;
    let spec = format!("{}/api/v1/openapi.json", stack.gateway.url());
    // A fresh working directory: schemathesis keeps a cache of earlier findings in `.schemathesis/`,
    // and every run must start from the same state (CI starts from a clean checkout).
    let workdir = tempfile::tempdir().unwrap();
    let cwd = workdir.path().to_path_buf();
    let run = tokio::task::spawn_blocking(move || {
        Command::new("schemathesis")
            .current_dir(cwd)
            .args([
                "run",
                &spec,
                "--checks",
                "all",
                "--max-examples",
                "30",
                "--phases",
                "examples,coverage,fuzzing",
            ])
            .args(["--header", &format!("Authorization: Bearer {token}")])
            // poem-openapi coerces JSON numbers and booleans into string fields (`"tool": false`
            // becomes "false", then fails as an unknown tool); everything else is checked.
            .args(["--exclude-checks", "negative_data_rejection"])
            .args(["--seed", "20261124"])
            .env("NO_COLOR", "1")
            .output()
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| panic!("schemathesis is not installed (run scripts/test.sh, which installs it): {e}"));
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        run.status.success(),
        "schemathesis found contract violations:\n{report}"
    );
    // Every operation of the document was exercised (the count follows the document).
    let operations: serde_json::Value = reqwest::get(format!("{}/api/v1/openapi.json", stack.gateway.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let count: usize = operations["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().map_or(0, serde_json::Map::len))
        .sum();
    assert!(count >= 8, "the document lists {count} operations");
    assert!(
        report.contains(&format!("Tested: {count}")),
        "every one of the {count} operations was exercised:\n{report}"
    );
}

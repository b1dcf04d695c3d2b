//! The protected endpoint over HTTP: the principal with a token, RFC 6750 answers without.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::Value;
use toolgate_emulator::demo;
use toolgate_entra::providers::{AccessRequirements, EntraJwtConfig, EntraJwtProvider};
use toolgate_server::{AppSettings, RunningServer, build_app, serve_on};

use crate::harness::*;

async fn gate(
    emulator: &toolgate_emulator::RunningEmulator,
    requirements: AccessRequirements,
) -> (RunningServer, AppSettings) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let settings = AppSettings {
        public_url: format!("http://{addr}"),
        mcp_path: "/mcp".into(),
    };
    let provider = EntraJwtProvider::new(
        validator(api_settings(emulator)),
        EntraJwtConfig {
            resource: settings.resource_url(),
            scopes: vec!["access_as_user".into()],
            requirements,
            resource_name: Some("toolgate test".into()),
        },
    );
    let server = serve_on(build_app(Arc::new(provider), &settings), listener).unwrap();
    (server, settings)
}

fn demo_requirements() -> AccessRequirements {
    AccessRequirements {
        required_scopes: vec!["access_as_user".into()],
        app_roles: vec!["Task.Read".into()],
        allow_guests: false,
    }
}

#[tokio::test]
async fn whoami_returns_the_principal_with_a_real_token() {
    let emulator = emulator().await;
    let (server, _) = gate(&emulator, demo_requirements()).await;
    let token = sign_in(&emulator, "alice", &[demo::API_SCOPE_ACCESS_AS_USER]).await;
    let response = reqwest::Client::new()
        .get(format!("{}/whoami", server.url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().contains_key("x-request-id"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["id"], format!("user:{}/{}", demo::TENANT_ID, demo::ALICE_OID));
    assert_eq!(body["kind"], "user");
    assert_eq!(body["provider"], "entra-jwt");
    assert!(
        body["display_name"].as_str().is_some_and(|name| name.contains("Alice")),
        "{body}"
    );
}

#[tokio::test]
async fn without_a_token_the_answer_is_a_401_challenge_naming_the_metadata() {
    let emulator = emulator().await;
    let (server, settings) = gate(&emulator, demo_requirements()).await;
    let response = reqwest::get(format!("{}/whoami", server.url())).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(
        !challenge.contains("error="),
        "no error code without credentials: {challenge}"
    );
    assert!(
        challenge.contains(&format!("resource_metadata=\"{}\"", settings.resource_metadata_url())),
        "{challenge}"
    );
    assert!(
        challenge.contains(&format!("scope=\"{}\"", demo::API_SCOPE_ACCESS_AS_USER)),
        "{challenge}"
    );

    // The named metadata document exists and points at the tenant's v2.0 authority.
    let metadata: Value = reqwest::get(settings.resource_metadata_url())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(metadata["resource"], settings.resource_url());
    assert_eq!(
        metadata["authorization_servers"][0],
        format!("{}/{}/v2.0", emulator.base_url(), demo::TENANT_ID)
    );
    assert_eq!(metadata["scopes_supported"][0], demo::API_SCOPE_ACCESS_AS_USER);
    let root: Value = reqwest::get(format!("{}/.well-known/oauth-protected-resource", server.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(root, metadata);
}

#[tokio::test]
async fn a_bad_token_is_invalid_token_and_the_body_stays_terse() {
    let emulator = emulator().await;
    let (server, _) = gate(&emulator, demo_requirements()).await;
    let mut claims = user_claims(&emulator, "alice");
    claims.insert("exp".into(), (now() - 3600).into());
    let expired = sign(&emulator, claims);
    let response = reqwest::Client::new()
        .get(format!("{}/whoami", server.url()))
        .bearer_auth(expired)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_token");
    assert!(
        !body.to_string().contains("expired"),
        "the precise reason stays in logs: {body}"
    );

    let response = reqwest::Client::new()
        .get(format!("{}/whoami", server.url()))
        .header("authorization", "Basic YTpi")
        .send()
        .await
        .unwrap();
    // Another scheme is no bearer credential: the discovery challenge, not a 400 (issue #10 A6).
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(!challenge.contains("error="), "{challenge}");
    assert!(challenge.contains("resource_metadata="), "{challenge}");
}

#[tokio::test]
async fn missing_scope_is_403_insufficient_scope() {
    let emulator = emulator().await;
    let (server, _) = gate(&emulator, demo_requirements()).await;
    let token = sign_in(&emulator, "alice", &[demo::API_SCOPE_TASKS_READ]).await;
    let response = reqwest::Client::new()
        .get(format!("{}/whoami", server.url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(challenge.contains("error=\"insufficient_scope\""), "{challenge}");
    assert!(
        challenge.contains(&format!("scope=\"{}\"", demo::API_SCOPE_ACCESS_AS_USER)),
        "{challenge}"
    );
}

#[tokio::test]
async fn guests_and_role_less_apps_are_refused_unless_allowed() {
    let emulator = emulator().await;
    let (server, _) = gate(&emulator, demo_requirements()).await;
    let client = reqwest::Client::new();
    let erin = sign_in(&emulator, "erin", &[demo::API_SCOPE_ACCESS_AS_USER]).await;
    let response = client
        .get(format!("{}/whoami", server.url()))
        .bearer_auth(&erin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    let app = app_token(&emulator).await;
    let response = client
        .get(format!("{}/whoami", server.url()))
        .bearer_auth(&app)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "the nightly job holds Task.Read");

    let (strict, _) = gate(
        &emulator,
        AccessRequirements {
            app_roles: vec![],
            ..demo_requirements()
        },
    )
    .await;
    let response = client
        .get(format!("{}/whoami", strict.url()))
        .bearer_auth(&app)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::FORBIDDEN,
        "no app roles configured: app-only refused"
    );

    let (guests_ok, _) = gate(
        &emulator,
        AccessRequirements {
            allow_guests: true,
            ..demo_requirements()
        },
    )
    .await;
    let response = client
        .get(format!("{}/whoami", guests_ok.url()))
        .bearer_auth(&erin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["guest"], true);
}

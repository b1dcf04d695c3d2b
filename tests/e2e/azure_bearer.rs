//! The `azure-bearer` provider over HTTP (`/whoami`), against the emulator: fastapi-azure-auth's
//! own negative cases with the status and error code toolgate answers, plus multi-tenant, B2C,
//! "scope or role", bearer-or-API-key and v1 tokens.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use reqwest::StatusCode;
use serde_json::{Value, json};
use toolgate::sign_in::SignIn;
use toolgate_core::AuthProvider;
use toolgate_emulator::{RunningEmulator, demo};
use toolgate_entra::providers::azure_bearer::{B2cConfig, RequirementConfig, Tenancy, TenantPredicate};
use toolgate_entra::providers::{ApiKeyConfig, ApiKeyProvider, AzureBearerConfig, Requirement, TenantValidator};
use toolgate_jose::base64url_encode;
use toolgate_server::{AppSettings, RunningServer, build_app, serve_on};

use crate::harness::*;

fn config(emulator: &RunningEmulator) -> AzureBearerConfig {
    AzureBearerConfig {
        tenancy: Tenancy::Single,
        tenant_id: demo::TENANT_ID.into(),
        client_id: demo::API_CLIENT_ID.into(),
        identifier_uris: Vec::new(),
        allowed_tenants: Vec::new(),
        b2c: None,
        allow_guests: false,
        scopes: vec!["access_as_user".into()],
        required: RequirementConfig {
            scopes: vec!["access_as_user".into()],
            app_roles: Vec::new(),
            mode: Requirement::ScopeOnly,
        },
        api_keys: Vec::new(),
        leeway: 60,
        authority_host: Some(emulator.base_url()),
        metadata_refresh_secs: 86_400,
        resource: None,
        resource_name: Some("azure-bearer test".into()),
    }
}

async fn serve(make: impl FnOnce(&AppSettings) -> Arc<dyn AuthProvider>) -> RunningServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let settings = AppSettings {
        public_url: format!("http://{}", listener.local_addr().unwrap()),
        mcp_path: "/mcp".into(),
    };
    let provider = make(&settings);
    serve_on(build_app(provider, &settings), listener).unwrap()
}

async fn gate(config: AzureBearerConfig) -> RunningServer {
    serve(|settings| {
        let mut config = config;
        config.resource = Some(settings.resource_url());
        config.build_composed().unwrap()
    })
    .await
}

struct Answer {
    status: StatusCode,
    challenge: String,
    body: Value,
}

async fn whoami(server: &RunningServer, headers: &[(&str, &str)]) -> Answer {
    let mut request = reqwest::Client::new().get(format!("{}/whoami", server.url()));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.json().await.unwrap_or(Value::Null);
    Answer {
        status,
        challenge,
        body,
    }
}

async fn with_token(server: &RunningServer, token: &str) -> Answer {
    whoami(server, &[("authorization", &format!("Bearer {token}"))]).await
}

#[track_caller]
fn assert_answer(answer: &Answer, status: StatusCode, error: Option<&str>, case: &str) {
    assert_eq!(answer.status, status, "{case}: {}", answer.body);
    match error {
        Some(code) => {
            assert_eq!(answer.body["error"], code, "{case}: {}", answer.body);
            assert!(
                answer.challenge.contains(&format!("error=\"{code}\"")),
                "{case}: {}",
                answer.challenge
            );
        }
        None => assert!(!answer.challenge.contains("error="), "{case}: {}", answer.challenge),
    }
    if status != StatusCode::OK {
        assert!(answer.challenge.starts_with("Bearer "), "{case}: {}", answer.challenge);
        assert!(answer.body["message"].is_string(), "{case}: {}", answer.body);
    }
}

/// Replaces the header's `kid`, keeping payload and signature (which then cannot verify).
fn with_kid(token: &str, kid: &str) -> String {
    let (_header, rest) = token.split_once('.').unwrap();
    let header = base64url_encode(json!({"alg": "RS256", "typ": "JWT", "kid": kid}).to_string());
    format!("{header}.{rest}")
}

#[tokio::test]
async fn fastapi_azure_auth_negative_cases_get_the_right_status_and_code() {
    let emulator = emulator().await;
    let server = gate(config(&emulator)).await;
    let unauthorized = StatusCode::UNAUTHORIZED;

    let ok = sign_in(&emulator, "alice", &[demo::API_SCOPE_ACCESS_AS_USER]).await;
    let answer = with_token(&server, &ok).await;
    assert_answer(&answer, StatusCode::OK, None, "valid token");
    assert_eq!(answer.body["provider"], "azure-bearer");

    let answer = whoami(&server, &[]).await;
    assert_answer(&answer, unauthorized, None, "no header");
    assert!(answer.challenge.contains("resource_metadata="), "{}", answer.challenge);
    assert_eq!(
        answer.body["error"], "invalid_request",
        "missing-token body: {}",
        answer.body
    );

    // No bearer credentials at all (another scheme, an empty bearer): a 401 challenge without
    // an error code and with the metadata URL, so MCP clients start discovery (issue #10 A6).
    for (header, case) in [
        ("Basic YWxpY2U6cHc=", "wrong scheme"),
        ("Bearer ", "empty bearer"),
        ("Bearer", "bearer without a token"),
    ] {
        let answer = whoami(&server, &[("authorization", header)]).await;
        assert_answer(&answer, unauthorized, None, case);
        assert!(
            answer.challenge.contains("resource_metadata="),
            "{case}: {}",
            answer.challenge
        );
    }
    let answer = whoami(&server, &[("authorization", "Bearer a"), ("authorization", "Bearer b")]).await;
    assert_answer(
        &answer,
        StatusCode::BAD_REQUEST,
        Some("invalid_request"),
        "two Authorization headers",
    );

    let answer = with_token(&server, "not-a-jwt").await;
    assert_answer(&answer, unauthorized, Some("invalid_token"), "malformed token");
    let answer = with_token(&server, &with_kid(&ok, "no-such-kid")).await;
    assert_answer(&answer, unauthorized, Some("invalid_token"), "unknown kid");

    let other_api = sign_in(&emulator, "alice", &[demo::DOWNSTREAM_SCOPE_DATA_READ]).await;
    assert_answer(
        &with_token(&server, &other_api).await,
        unauthorized,
        Some("invalid_token"),
        "wrong audience",
    );

    let mut expired = user_claims(&emulator, "alice");
    expired.insert("iat".into(), json!(now() - 7200));
    expired.insert("nbf".into(), json!(now() - 7200));
    expired.insert("exp".into(), json!(now() - 3600));
    assert_answer(
        &with_token(&server, &sign(&emulator, expired)).await,
        unauthorized,
        Some("invalid_token"),
        "expired",
    );

    let forged =
        emulator.sign_with_unpublished_key(serde_json::Map::new(), Value::Object(user_claims(&emulator, "alice")));
    assert_answer(
        &with_token(&server, &forged).await,
        unauthorized,
        Some("invalid_token"),
        "wrong signing key",
    );

    let tasks_only = sign_in(&emulator, "alice", &[demo::API_SCOPE_TASKS_READ]).await;
    let answer = with_token(&server, &tasks_only).await;
    assert_answer(
        &answer,
        StatusCode::FORBIDDEN,
        Some("insufficient_scope"),
        "missing scope",
    );
    assert!(
        answer
            .challenge
            .contains(&format!("scope=\"{}\"", demo::API_SCOPE_ACCESS_AS_USER)),
        "the full scope is named: {}",
        answer.challenge
    );

    // `"scp": null`: authentic, present but holding nothing. Not an app-only token (those have
    // no `scp` at all): a delegated token without the scope → 403.
    let mut null_scp = user_claims(&emulator, "alice");
    null_scp.insert("scp".into(), Value::Null);
    assert_answer(
        &with_token(&server, &sign(&emulator, null_scp.clone())).await,
        StatusCode::FORBIDDEN,
        Some("insufficient_scope"),
        "null scp",
    );

    let guest = sign_in(&emulator, "erin", &[demo::API_SCOPE_ACCESS_AS_USER]).await;
    assert_answer(
        &with_token(&server, &guest).await,
        StatusCode::FORBIDDEN,
        Some("insufficient_scope"),
        "guest",
    );

    // Forged tokens that would fail a later check (null scp, guest, no scope) are 401, never 403:
    // every check reads verified claims only. fastapi-azure-auth answers these with 403.
    for (case, claims) in [
        ("forged null scp", null_scp),
        ("forged guest", {
            let mut c = user_claims(&emulator, "alice");
            c.insert("acct".into(), json!(1));
            c
        }),
    ] {
        let forged = emulator.sign_with_unpublished_key(serde_json::Map::new(), Value::Object(claims.clone()));
        assert_answer(
            &with_token(&server, &forged).await,
            unauthorized,
            Some("invalid_token"),
            case,
        );
        let unsigned = format!(
            "{}.{}.",
            base64url_encode(json!({"alg": "none", "typ": "JWT"}).to_string()),
            base64url_encode(Value::Object(claims).to_string())
        );
        assert_answer(
            &with_token(&server, &unsigned).await,
            unauthorized,
            Some("invalid_token"),
            case,
        );
    }
}

#[tokio::test]
async fn an_empty_key_set_fails_closed_with_503() {
    #[poem::handler]
    fn empty_authority(req: &poem::Request) -> poem::web::Json<Value> {
        let host = req
            .headers()
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default();
        if req.uri().path().ends_with("openid-configuration") {
            poem::web::Json(json!({
                "issuer": format!("http://{host}/{}/v2.0", demo::TENANT_ID),
                "jwks_uri": format!("http://{host}/keys"),
            }))
        } else {
            poem::web::Json(json!({"keys": []}))
        }
    }
    let emulator = emulator().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let authority = serve_on(poem::Route::new().at("/*path", poem::get(empty_authority)), listener).unwrap();
    let mut config = config(&emulator);
    config.authority_host = Some(authority.url());
    let server = gate(config).await;
    let token = sign_in(&emulator, "alice", &[demo::API_SCOPE_ACCESS_AS_USER]).await;
    let answer = with_token(&server, &token).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{}", answer.body);
    assert!(!answer.challenge.contains("invalid_token"), "{}", answer.challenge);
}

#[tokio::test]
async fn multi_tenant_hook_sees_verified_tids_only() {
    let emulator = emulator().await;
    let frank = sign_in_at(
        &emulator,
        demo::FABRIKAM_TENANT_ID,
        "frank",
        &[demo::API_SCOPE_ACCESS_AS_USER],
    )
    .await;
    let alice = sign_in(&emulator, "alice", &[demo::API_SCOPE_ACCESS_AS_USER]).await;

    let mut multi = config(&emulator);
    multi.tenancy = Tenancy::Multi;
    multi.allowed_tenants = vec![demo::TENANT_ID.into(), demo::FABRIKAM_TENANT_ID.into()];
    let server = gate(multi.clone()).await;
    let answer = with_token(&server, &frank).await;
    assert_answer(&answer, StatusCode::OK, None, "allowed tenant");
    assert_eq!(answer.body["tenant_id"], demo::FABRIKAM_TENANT_ID);

    // Refused by the hook: 401 invalid_token (reason tenant_not_allowed), like an issuer check.
    multi.allowed_tenants = vec![demo::TENANT_ID.into()];
    let server = gate(multi.clone()).await;
    assert_answer(
        &with_token(&server, &frank).await,
        StatusCode::UNAUTHORIZED,
        Some("invalid_token"),
        "refused tenant",
    );
    assert_answer(&with_token(&server, &alice).await, StatusCode::OK, None, "home tenant");

    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let hook_for_build: Arc<dyn TenantValidator> = Arc::new(TenantPredicate(move |tid: &str| {
        counter.fetch_add(1, Ordering::SeqCst);
        tid == demo::FABRIKAM_TENANT_ID
    }));
    multi.allowed_tenants = Vec::new();
    let server = serve(move |settings| {
        multi.resource = Some(settings.resource_url());
        Arc::new(multi.build_with_tenant_validator(hook_for_build).unwrap())
    })
    .await;
    let forged = emulator.sign_with_unpublished_key(
        serde_json::Map::new(),
        Value::Object(claims_for(
            &emulator,
            demo::FABRIKAM_TENANT_ID,
            demo::CLI_CLIENT_ID,
            Some("frank"),
            demo::API_SCOPE_ACCESS_AS_USER,
        )),
    );
    assert_answer(
        &with_token(&server, &forged).await,
        StatusCode::UNAUTHORIZED,
        Some("invalid_token"),
        "forged",
    );
    assert_eq!(calls.load(Ordering::SeqCst), 0, "the hook never sees unverified claims");
    assert_answer(&with_token(&server, &frank).await, StatusCode::OK, None, "hook allows");
    assert_answer(
        &with_token(&server, &alice).await,
        StatusCode::UNAUTHORIZED,
        Some("invalid_token"),
        "hook refuses",
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

async fn b2c_sign_in(emulator: &RunningEmulator, policy: &str) -> String {
    SignIn {
        authority: emulator.base_url(),
        tenant: format!("{}/{policy}", demo::B2C_TENANT_DOMAIN),
        client_id: demo::B2C_CLIENT_ID.into(),
        redirect_uri: demo::B2C_REDIRECT_URI.into(),
        user: "bea".into(),
        scopes: vec![demo::B2C_API_SCOPE_TASKS_READ.into()],
    }
    .run()
    .await
    .unwrap()
    .access_token
}

#[tokio::test]
async fn b2c_user_flow_tokens_are_accepted_and_other_flows_refused() {
    let emulator = emulator().await;
    let mut b2c = config(&emulator);
    b2c.tenancy = Tenancy::B2c;
    b2c.tenant_id = demo::B2C_TENANT_ID.into();
    b2c.client_id = demo::B2C_API_CLIENT_ID.into();
    b2c.identifier_uris = vec![demo::B2C_API_IDENTIFIER_URI.into()];
    b2c.scopes = vec!["tasks.read".into()];
    b2c.required.scopes = vec!["tasks.read".into()];
    b2c.b2c = Some(B2cConfig {
        name: demo::B2C_TENANT_NAME.into(),
        policy: demo::B2C_POLICY_SIGNUP_SIGNIN.into(),
        domain: None,
    });
    let server = gate(b2c).await;

    let token = b2c_sign_in(&emulator, demo::B2C_POLICY_SIGNUP_SIGNIN).await;
    let answer = with_token(&server, &token).await;
    assert_answer(&answer, StatusCode::OK, None, "B2C sign-up/sign-in");
    assert_eq!(
        answer.body["id"],
        format!("user:{}/{}", demo::B2C_TENANT_ID, demo::BEA_OID)
    );

    let other_flow = b2c_sign_in(&emulator, demo::B2C_POLICY_PROFILE_EDIT).await;
    assert_answer(
        &with_token(&server, &other_flow).await,
        StatusCode::UNAUTHORIZED,
        Some("invalid_token"),
        "other user flow",
    );
    // An Entra token is not a B2C token (issuer).
    let entra = sign_in(&emulator, "alice", &[demo::API_SCOPE_ACCESS_AS_USER]).await;
    assert_answer(
        &with_token(&server, &entra).await,
        StatusCode::UNAUTHORIZED,
        Some("invalid_token"),
        "Entra token",
    );
}

#[tokio::test]
async fn app_only_tokens_pass_by_role_only_with_scope_or_role() {
    let emulator = emulator().await;
    let app = app_token(&emulator).await;
    let mut either = config(&emulator);
    either.required.app_roles = vec!["Task.Read".into()];
    either.required.mode = Requirement::ScopeOrRole;
    let server = gate(either.clone()).await;
    let answer = with_token(&server, &app).await;
    assert_answer(&answer, StatusCode::OK, None, "scope-or-role");
    assert_eq!(answer.body["kind"], "app");

    either.required.mode = Requirement::ScopeOnly;
    let server = gate(either).await;
    assert_answer(
        &with_token(&server, &app).await,
        StatusCode::FORBIDDEN,
        Some("insufficient_scope"),
        "scope-only",
    );
}

#[tokio::test]
async fn bearer_or_api_key() {
    let emulator = emulator().await;
    let mut composed = config(&emulator);
    composed.api_keys = vec![ApiKeyConfig {
        key_sha256: ApiKeyProvider::hash_key("k3y-for-nightly"),
        principal: "nightly".into(),
        roles: vec!["Task.Read".into()],
    }];
    let server = gate(composed).await;

    let answer = whoami(&server, &[("x-api-key", "k3y-for-nightly")]).await;
    assert_answer(&answer, StatusCode::OK, None, "valid key");
    assert_eq!(answer.body["id"], "apikey:nightly");
    assert_eq!(answer.body["provider"], "api-key");

    let answer = whoami(&server, &[("x-api-key", "wrong")]).await;
    assert_answer(&answer, StatusCode::UNAUTHORIZED, Some("invalid_token"), "wrong key");

    let token = sign_in(&emulator, "alice", &[demo::API_SCOPE_ACCESS_AS_USER]).await;
    let answer = with_token(&server, &token).await;
    assert_answer(&answer, StatusCode::OK, None, "bearer, no key");
    assert_eq!(answer.body["provider"], "azure-bearer");

    assert_answer(&whoami(&server, &[]).await, StatusCode::UNAUTHORIZED, None, "neither");
}

#[tokio::test]
async fn v1_tokens_are_accepted() {
    let emulator = emulator().await;
    let mut v1 = config(&emulator);
    v1.client_id = demo::API_V1_CLIENT_ID.into();
    v1.identifier_uris = vec![demo::API_V1_IDENTIFIER_URI.into()];
    let server = gate(v1).await;
    let token = sign_in(&emulator, "alice", &[demo::API_V1_SCOPE_ACCESS_AS_USER]).await;
    let answer = with_token(&server, &token).await;
    assert_answer(&answer, StatusCode::OK, None, "v1 token");
    assert_eq!(answer.body["claims"]["ver"], "1.0", "{}", answer.body);
}

/// The whole gateway on `azure-bearer` from configuration: Entra tokens on MCP and REST, and API
/// keys as a second scheme.
#[tokio::test]
async fn the_gateway_runs_on_azure_bearer_with_api_keys() {
    use toolgate::mcp_client::McpClient;
    let key = "s3cret-nightly-key";
    let auth = format!(
        r#"[auth]
provider = "azure-bearer"

[auth.azure_bearer]
authority_host = "{{authority}}"
tenant_id = "{tenant}"
client_id = "{client}"
scopes = ["access_as_user"]
required = {{ scopes = ["access_as_user"], app_roles = ["Task.Read"], mode = "scope-or-role" }}
api_keys = [{{ key_sha256 = "{hash}", principal = "nightly-report", roles = ["Task.Read"] }}]
"#,
        tenant = demo::TENANT_ID,
        client = demo::API_CLIENT_ID,
        hash = toolgate_entra::providers::ApiKeyProvider::hash_key(key),
    );
    let stack = crate::gateway::stack_with_auth(Some(&auth), "").await;
    let mut bob = McpClient::connect(&stack.mcp_url, &stack.token("bob").await)
        .await
        .unwrap();
    assert_eq!(
        bob.list_tools().await.unwrap(),
        vec!["get_task".to_owned(), "list_tasks".to_owned()]
    );

    let http = reqwest::Client::new();
    let me: serde_json::Value = http
        .get(format!("{}/api/v1/whoami", stack.gateway.url()))
        .header("x-api-key", key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["kind"], "app", "{me}");
    assert!(me["id"].as_str().unwrap().contains("nightly-report"), "{me}");
    let wrong = http
        .get(format!("{}/api/v1/whoami", stack.gateway.url()))
        .header("x-api-key", "guess")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
}

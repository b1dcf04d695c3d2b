//! Every rule of entra-token-rules.md, each with an accepted and a rejected case, against the
//! emulator over real HTTP (discovery + JWKS) with tokens from its real endpoints.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};
use toolgate_core::{Groups, PrincipalKind, RejectReason};
use toolgate_emulator::demo;
use toolgate_entra::{EntraSettings, TenantPolicy, TokenVersion};
use toolgate_jose::{base64url_encode, encode_compact};

use crate::harness::*;

// ── 1. Audience ──────────────────────────────────────────────────────────────────────────────

#[tokio::test]
async fn v2_token_for_this_api_is_accepted_and_one_for_another_api_is_not() {
    let emulator = emulator().await;
    let validator = validator(api_settings(&emulator));
    let token = sign_in(&emulator, "alice", &[demo::API_SCOPE_ACCESS_AS_USER]).await;
    let verified = validator.validate(&token).await.unwrap();
    assert_eq!(verified.version, TokenVersion::V2);
    assert_eq!(verified.claims["aud"], demo::API_CLIENT_ID);

    let other_api = sign_in(&emulator, "alice", &[demo::DOWNSTREAM_SCOPE_DATA_READ]).await;
    assert_rejected(validator.validate(&other_api).await, RejectReason::WrongAudience);
}

#[tokio::test]
async fn v1_token_audience_is_the_app_id_uri_with_or_without_trailing_slash() {
    let emulator = emulator().await;
    let mut settings =
        EntraSettings::single_tenant(&emulator.base_url(), demo::TENANT_ID, demo::API_V1_CLIENT_ID).unwrap();
    settings.identifier_uris = vec![demo::API_V1_IDENTIFIER_URI.to_owned()];
    let validator = validator(settings);
    let token = sign_in(&emulator, "alice", &[demo::API_V1_SCOPE_ACCESS_AS_USER]).await;
    let verified = validator.validate(&token).await.unwrap();
    assert_eq!(verified.version, TokenVersion::V1);
    assert_eq!(verified.claims["aud"], demo::API_V1_IDENTIFIER_URI);
    assert_eq!(verified.claims["iss"], Value::from(emulator.v1_issuer(demo::TENANT_ID)));

    let mut claims = claims_for(
        &emulator,
        demo::TENANT_ID,
        demo::CLI_CLIENT_ID,
        Some("alice"),
        demo::API_V1_SCOPE_ACCESS_AS_USER,
    );
    claims.insert("aud".into(), format!("{}/", demo::API_V1_IDENTIFIER_URI).into());
    validator.validate(&sign(&emulator, claims.clone())).await.unwrap();
    claims.insert("aud".into(), "api://toolgate-v1-other".into());
    assert_rejected(
        validator.validate(&sign(&emulator, claims)).await,
        RejectReason::WrongAudience,
    );
}

#[tokio::test]
async fn default_scope_is_never_an_audience() {
    let emulator = emulator().await;
    let validator = validator(api_settings(&emulator));
    let mut claims = user_claims(&emulator, "alice");
    claims.insert("aud".into(), demo::API_SCOPE_DEFAULT.into());
    assert_rejected(
        validator.validate(&sign(&emulator, claims)).await,
        RejectReason::AudienceIsScope,
    );
}

#[tokio::test]
async fn list_audience_is_strict_by_default_and_accepted_when_configured() {
    let emulator = emulator().await;
    let mut claims = user_claims(&emulator, "alice");
    claims.insert("aud".into(), json!(["api://somebody-else", demo::API_CLIENT_ID]));
    let token = sign(&emulator, claims);
    assert_rejected(
        validator(api_settings(&emulator)).validate(&token).await,
        RejectReason::AudienceList,
    );
    let mut settings = api_settings(&emulator);
    settings.accept_audience_list = true;
    validator(settings).validate(&token).await.unwrap();
}

#[tokio::test]
async fn extra_audience_only_when_configured() {
    let emulator = emulator().await;
    let mut claims = user_claims(&emulator, "alice");
    claims.insert("aud".into(), "https://tools.contoso.example".into());
    let token = sign(&emulator, claims);
    assert_rejected(
        validator(api_settings(&emulator)).validate(&token).await,
        RejectReason::WrongAudience,
    );
    let mut settings = api_settings(&emulator);
    settings.extra_audiences = vec!["https://tools.contoso.example".into()];
    validator(settings).validate(&token).await.unwrap();
}

// ── 2. Issuer and tenants ───────────────────────────────────────────────────────────────────

#[tokio::test]
async fn issuer_must_match_the_metadata_issuer_exactly() {
    let emulator = emulator().await;
    let validator = validator(api_settings(&emulator));
    let mut claims = user_claims(&emulator, "alice");
    claims.insert("iss".into(), format!("{}/", emulator.v2_issuer(demo::TENANT_ID)).into());
    assert_rejected(
        validator.validate(&sign(&emulator, claims.clone())).await,
        RejectReason::WrongIssuer,
    );
    // A v2 token must carry the v2 issuer, not the v1 one.
    claims.insert("iss".into(), emulator.v1_issuer(demo::TENANT_ID).into());
    assert_rejected(
        validator.validate(&sign(&emulator, claims)).await,
        RejectReason::WrongIssuer,
    );
}

#[tokio::test]
async fn single_tenant_refuses_other_tenants() {
    let emulator = emulator().await;
    let validator = validator(api_settings(&emulator));
    let frank = sign_in_at(
        &emulator,
        demo::FABRIKAM_TENANT_ID,
        "frank",
        &[demo::API_SCOPE_ACCESS_AS_USER],
    )
    .await;
    assert_rejected(validator.validate(&frank).await, RejectReason::TenantNotAllowed);
}

fn multi_tenant(
    emulator: &toolgate_emulator::RunningEmulator,
    tenants: TenantPolicy,
) -> toolgate_entra::EntraValidator {
    let mut settings = api_settings(emulator);
    settings.tenants = tenants;
    validator(settings)
}

#[tokio::test]
async fn multi_tenant_substitutes_tid_into_the_templated_issuer_and_applies_the_allow_list() {
    let emulator = emulator().await;
    let frank = sign_in_at(
        &emulator,
        demo::FABRIKAM_TENANT_ID,
        "frank",
        &[demo::API_SCOPE_ACCESS_AS_USER],
    )
    .await;
    let alice = sign_in(&emulator, "alice", &[demo::API_SCOPE_ACCESS_AS_USER]).await;

    let both = multi_tenant(
        &emulator,
        TenantPolicy::AllowList(BTreeSet::from([
            demo::TENANT_ID.into(),
            demo::FABRIKAM_TENANT_ID.into(),
        ])),
    );
    assert_eq!(both.validate(&frank).await.unwrap().tenant_id, demo::FABRIKAM_TENANT_ID);
    assert_eq!(both.validate(&alice).await.unwrap().tenant_id, demo::TENANT_ID);

    let contoso_only = multi_tenant(
        &emulator,
        TenantPolicy::AllowList(BTreeSet::from([demo::TENANT_ID.into()])),
    );
    contoso_only.validate(&alice).await.unwrap();
    assert_rejected(contoso_only.validate(&frank).await, RejectReason::TenantNotAllowed);

    // "Any tenant" accepts fabrikam only because it was chosen explicitly.
    multi_tenant(&emulator, TenantPolicy::AnyTenant)
        .validate(&frank)
        .await
        .unwrap();
}

#[tokio::test]
async fn multi_tenant_refuses_a_tid_that_is_not_the_issuers_tenant() {
    let emulator = emulator().await;
    let any = multi_tenant(&emulator, TenantPolicy::AnyTenant);
    // Signed by the authority, tid says fabrikam, iss says contoso: the issuer built from tid differs.
    let mut claims = user_claims(&emulator, "alice");
    claims.insert("tid".into(), demo::FABRIKAM_TENANT_ID.into());
    assert_rejected(
        any.validate(&sign(&emulator, claims.clone())).await,
        RejectReason::WrongIssuer,
    );
    claims.insert("tid".into(), "contoso.example".into());
    assert_rejected(any.validate(&sign(&emulator, claims)).await, RejectReason::BadTenantId);
}

#[tokio::test]
async fn the_keys_own_issuer_must_cover_the_token() {
    let emulator = emulator().await;
    let settings = api_settings(&emulator);
    let validator = validator(settings);
    let token = sign_in(&emulator, "alice", &[demo::API_SCOPE_ACCESS_AS_USER]).await;
    validator.validate(&token).await.unwrap();
    let snapshot = validator.key_cache().snapshot();
    let key = snapshot.keys.get(&emulator.active_kid()).unwrap();
    assert_eq!(
        key.issuer.as_deref(),
        Some(emulator.v2_issuer(demo::TENANT_ID).as_str()),
        "the tenant JWKS names its issuer"
    );
}

// ── 3. Signature and header ─────────────────────────────────────────────────────────────────

fn unsigned(header: Value, claims: &serde_json::Map<String, Value>, signature: &str) -> String {
    format!(
        "{}.{}.{}",
        base64url_encode(serde_json::to_vec(&header).unwrap()),
        base64url_encode(serde_json::to_vec(claims).unwrap()),
        signature
    )
}

#[tokio::test]
async fn only_rs256_is_accepted() {
    let emulator = emulator().await;
    let validator = validator(api_settings(&emulator));
    let claims = user_claims(&emulator, "alice");
    validator.validate(&sign(&emulator, claims.clone())).await.unwrap();
    let kid = emulator.active_kid();
    let none = unsigned(json!({"alg": "none", "typ": "JWT", "kid": kid}), &claims, "");
    assert_rejected(validator.validate(&none).await, RejectReason::UnsupportedAlgorithm);
    // HS256 "signed" with the public modulus: the classic key-confusion attack.
    let hs = unsigned(
        json!({"alg": "HS256", "typ": "JWT", "kid": kid}),
        &claims,
        "c2lnbmF0dXJl",
    );
    assert_rejected(validator.validate(&hs).await, RejectReason::UnsupportedAlgorithm);
    let ps = unsigned(
        json!({"alg": "PS256", "typ": "JWT", "kid": kid}),
        &claims,
        "c2lnbmF0dXJl",
    );
    assert_rejected(validator.validate(&ps).await, RejectReason::UnsupportedAlgorithm);
}

#[tokio::test]
async fn critical_headers_are_refused() {
    let emulator = emulator().await;
    let validator = validator(api_settings(&emulator));
    let token = sign_with_header(&emulator, json!({"crit": ["exp"]}), user_claims(&emulator, "alice"));
    assert_rejected(
        validator.validate(&token).await,
        RejectReason::UnsupportedCriticalHeader,
    );
}

#[tokio::test]
async fn wrong_signing_key_and_tampering_are_bad_signatures() {
    let emulator = emulator().await;
    let validator = validator(api_settings(&emulator));
    let claims = user_claims(&emulator, "alice");
    let forged = emulator.sign_with_unpublished_key(serde_json::Map::new(), Value::Object(claims.clone()));
    assert_rejected(validator.validate(&forged).await, RejectReason::BadSignature);

    let genuine = sign(&emulator, claims.clone());
    let mut elevated = claims;
    elevated.insert("roles".into(), json!(["MCPServer.Admin"]));
    let parts: Vec<&str> = genuine.split('.').collect();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        base64url_encode(serde_json::to_vec(&elevated).unwrap()),
        parts[2]
    );
    assert_rejected(validator.validate(&tampered).await, RejectReason::BadSignature);
}

#[tokio::test]
async fn malformed_tokens_and_missing_kid() {
    let emulator = emulator().await;
    let validator = validator(api_settings(&emulator));
    for garbage in [
        "",
        "abc",
        "a.b.c",
        "....",
        "eyJhbGciOiJSUzI1NiJ9.e30",
        "\u{0}.\u{0}.\u{0}",
    ] {
        assert_rejected(validator.validate(garbage).await, RejectReason::MalformedToken);
    }
    let no_kid = unsigned(
        json!({"alg": "RS256", "typ": "JWT"}),
        &user_claims(&emulator, "alice"),
        "c2ln",
    );
    assert_rejected(validator.validate(&no_kid).await, RejectReason::MissingKeyId);
}

#[tokio::test]
async fn a_key_unknown_after_refresh_is_refused() {
    let emulator = emulator().await;
    let validator = validator(api_settings(&emulator));
    let key = toolgate_jose::RsaSigningKey::generate("not-published").unwrap();
    let token = encode_compact(
        serde_json::Map::new(),
        &Value::Object(user_claims(&emulator, "alice")),
        &key,
    )
    .unwrap();
    assert_rejected(validator.validate(&token).await, RejectReason::UnknownSigningKey);
}

#[tokio::test]
async fn v1_x5t_must_match_the_key() {
    let emulator = emulator().await;
    let validator = validator(api_settings(&emulator));
    let token = sign_with_header(
        &emulator,
        json!({"x5t": "bm90LXRoaXMta2V5"}),
        user_claims(&emulator, "alice"),
    );
    assert_rejected(validator.validate(&token).await, RejectReason::UnknownSigningKey);
}

#[tokio::test]
async fn graph_tokens_are_refused_without_being_verified() {
    let emulator = emulator().await;
    let validator = validator(api_settings(&emulator));
    let graph = sign_in(&emulator, "alice", &["User.Read"]).await;
    let header = toolgate_jose::CompactJws::parse(&graph).unwrap().header;
    assert!(
        header.contains_key("nonce"),
        "the emulator's Graph tokens carry a header nonce"
    );
    let fetches_before = validator.key_cache().refresh_count();
    assert_rejected(validator.validate(&graph).await, RejectReason::GraphToken);
    assert_eq!(
        validator.key_cache().refresh_count(),
        fetches_before,
        "no key lookup for a Graph token"
    );
}

// ── 5. Time ─────────────────────────────────────────────────────────────────────────────────

#[tokio::test]
async fn exp_is_required_and_checked_with_leeway() {
    let emulator = emulator().await;
    let mut settings = api_settings(&emulator);
    settings.leeway = Duration::from_secs(60);
    let validator = validator(settings);
    let mut claims = user_claims(&emulator, "alice");

    claims.insert("exp".into(), (now() - 30).into());
    validator
        .validate(&sign(&emulator, claims.clone()))
        .await
        .expect("30 s past exp is within a 60 s leeway");
    claims.insert("exp".into(), (now() - 120).into());
    assert_rejected(
        validator.validate(&sign(&emulator, claims.clone())).await,
        RejectReason::Expired,
    );
    claims.remove("exp");
    assert_rejected(
        validator.validate(&sign(&emulator, claims.clone())).await,
        RejectReason::MissingExpiry,
    );
    claims.insert("exp".into(), "tomorrow".into());
    assert_rejected(
        validator.validate(&sign(&emulator, claims)).await,
        RejectReason::MalformedToken,
    );
}

#[tokio::test]
async fn nbf_and_iat_must_not_be_in_the_future() {
    let emulator = emulator().await;
    let validator = validator(api_settings(&emulator));
    let base = user_claims(&emulator, "alice");

    let mut claims = base.clone();
    claims.insert("nbf".into(), (now() + 30).into());
    validator
        .validate(&sign(&emulator, claims.clone()))
        .await
        .expect("nbf 30 s ahead is within leeway");
    claims.insert("nbf".into(), (now() + 600).into());
    assert_rejected(
        validator.validate(&sign(&emulator, claims)).await,
        RejectReason::NotYetValid,
    );

    let mut claims = base;
    claims.insert("iat".into(), (now() + 600).into());
    assert_rejected(
        validator.validate(&sign(&emulator, claims)).await,
        RejectReason::IssuedInFuture,
    );
}

#[tokio::test]
async fn zero_leeway_is_exact() {
    let emulator = emulator().await;
    let mut settings = api_settings(&emulator);
    settings.leeway = Duration::ZERO;
    let validator = validator(settings);
    let mut claims = user_claims(&emulator, "alice");
    claims.insert("exp".into(), (now() - 2).into());
    assert_rejected(
        validator.validate(&sign(&emulator, claims)).await,
        RejectReason::Expired,
    );
}

// ── 6. Who is calling ───────────────────────────────────────────────────────────────────────

#[tokio::test]
async fn delegated_tokens_become_user_principals_keyed_by_tid_and_oid() {
    let emulator = emulator().await;
    let validator = validator(api_settings(&emulator));
    let token = sign_in(&emulator, "alice", &[demo::API_SCOPE_ACCESS_AS_USER]).await;
    let principal = validator
        .validate(&token)
        .await
        .unwrap()
        .principal("entra-jwt")
        .unwrap();
    assert_eq!(principal.kind, PrincipalKind::User);
    assert_eq!(principal.id, format!("user:{}/{}", demo::TENANT_ID, demo::ALICE_OID));
    assert_eq!(principal.scopes, vec!["access_as_user".to_owned()]);
    assert!(principal.has_role("Task.Write"));
    assert_eq!(principal.client_app_id.as_deref(), Some(demo::CLI_CLIENT_ID));
    assert!(!principal.guest);
}

#[tokio::test]
async fn app_only_tokens_become_app_principals() {
    let emulator = emulator().await;
    let validator = validator(api_settings(&emulator));
    let token = app_token(&emulator).await;
    let verified = validator.validate(&token).await.unwrap();
    assert!(!verified.claims.contains_key("scp"));
    let principal = verified.principal("entra-jwt").unwrap();
    assert_eq!(principal.kind, PrincipalKind::App);
    assert_eq!(
        principal.id,
        format!("app:{}/{}", demo::TENANT_ID, demo::NIGHTLY_JOB_CLIENT_ID)
    );
    assert_eq!(principal.roles, vec!["Task.Read".to_owned()]);
    assert!(principal.scopes.is_empty());
}

#[tokio::test]
async fn guests_are_flagged() {
    let emulator = emulator().await;
    let validator = validator(api_settings(&emulator));
    let erin = sign_in(&emulator, "erin", &[demo::API_SCOPE_ACCESS_AS_USER]).await;
    assert!(
        validator
            .validate(&erin)
            .await
            .unwrap()
            .principal("entra-jwt")
            .unwrap()
            .guest
    );
    let alice = sign_in(&emulator, "alice", &[demo::API_SCOPE_ACCESS_AS_USER]).await;
    assert!(
        !validator
            .validate(&alice)
            .await
            .unwrap()
            .principal("entra-jwt")
            .unwrap()
            .guest
    );
    // idp naming another tenant, without acct: still a guest.
    let mut claims = user_claims(&emulator, "alice");
    claims.remove("acct");
    claims.insert("idp".into(), emulator.v1_issuer(demo::FABRIKAM_TENANT_ID).into());
    let verified = validator.validate(&sign(&emulator, claims)).await.unwrap();
    assert!(verified.principal("entra-jwt").unwrap().guest);
}

#[tokio::test]
async fn id_tokens_are_not_access_tokens() {
    let emulator = emulator().await;
    let validator = validator(api_settings(&emulator));
    let mut claims = user_claims(&emulator, "alice");
    claims.remove("azp");
    claims.remove("azpacr");
    claims.remove("scp");
    claims.insert("nonce".into(), "n-0S6_WzA2Mj".into());
    assert_rejected(
        validator.validate(&sign(&emulator, claims)).await,
        RejectReason::IdToken,
    );
}

#[tokio::test]
async fn unsupported_versions_are_refused() {
    let emulator = emulator().await;
    let mut claims = user_claims(&emulator, "alice");
    let token = sign(&emulator, claims.clone());
    let mut v1_only = api_settings(&emulator);
    v1_only.versions.v2 = false;
    assert_rejected(
        validator(v1_only).validate(&token).await,
        RejectReason::UnsupportedVersion,
    );
    claims.insert("ver".into(), "3.0".into());
    assert_rejected(
        validator(api_settings(&emulator))
            .validate(&sign(&emulator, claims))
            .await,
        RejectReason::UnsupportedVersion,
    );
}

// ── 7. Groups overage ───────────────────────────────────────────────────────────────────────

#[tokio::test]
async fn groups_overage_is_explicit_never_an_empty_list() {
    let emulator = emulator().await;
    let validator = validator(api_settings(&emulator));
    let olivia = sign_in(&emulator, "olivia", &[demo::API_SCOPE_ACCESS_AS_USER]).await;
    let principal = validator
        .validate(&olivia)
        .await
        .unwrap()
        .principal("entra-jwt")
        .unwrap();
    assert!(principal.groups.is_overage(), "{:?}", principal.groups);
    assert!(matches!(&principal.groups, Groups::Overage { source: Some(url) } if url.contains("getMemberObjects")));

    let alice = sign_in(&emulator, "alice", &[demo::API_SCOPE_ACCESS_AS_USER]).await;
    let principal = validator
        .validate(&alice)
        .await
        .unwrap()
        .principal("entra-jwt")
        .unwrap();
    assert!(!principal.groups.ids().is_empty());
}

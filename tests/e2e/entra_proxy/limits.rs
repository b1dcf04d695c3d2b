//! What an anonymous caller can make the proxy keep or do, bounded: registration field sizes and
//! counts, identical registrations sharing one client, unused registrations expiring, a ceiling on
//! unused registrations, and rate limits per client address with global ceilings that known
//! clients do not share. Time is a `ManualClock`: no test sleeps past a minute boundary.

use serde_json::{Value, json};

use super::browser::{self, Browser, Pkce, client_from, redeem, register_from, register_json};
use super::{ClockStack, Options, stack};

const REDIRECT: &str = "http://127.0.0.1:9/callback";

fn registration(name: &str) -> Value {
    json!({
        "client_name": name,
        "redirect_uris": [REDIRECT],
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "none",
    })
}

fn with(mut body: Value, field: &str, value: Value) -> Value {
    body[field] = value;
    body
}

#[tokio::test]
async fn every_registration_field_is_bounded() {
    let stack = stack(Options::default()).await;
    let base = &stack.base;
    let uri = |len: usize| {
        format!(
            "https://client.example/{}",
            "a".repeat(len - "https://client.example/".len())
        )
    };
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "11 redirect URIs",
            with(
                registration("c"),
                "redirect_uris",
                json!((0..11).map(|i| format!("https://c.example/{i}")).collect::<Vec<_>>()),
            ),
            "invalid_redirect_uri",
        ),
        (
            "a 513-byte redirect URI",
            with(registration("c"), "redirect_uris", json!([uri(513)])),
            "invalid_redirect_uri",
        ),
        (
            "a 201-character name",
            registration(&"é".repeat(201)),
            "invalid_client_metadata",
        ),
        (
            "a 513-byte client_uri",
            with(registration("c"), "client_uri", json!(uri(513))),
            "invalid_client_metadata",
        ),
        (
            "a 513-byte logo_uri",
            with(registration("c"), "logo_uri", json!(uri(513))),
            "invalid_client_metadata",
        ),
        (
            "a 513-byte scope",
            with(registration("c"), "scope", json!("s".repeat(513))),
            "invalid_client_metadata",
        ),
        (
            "33 scopes",
            with(registration("c"), "scope", json!(vec!["s"; 33].join(" "))),
            "invalid_client_metadata",
        ),
        (
            "a 257-byte software_id",
            with(registration("c"), "software_id", json!("x".repeat(257))),
            "invalid_client_metadata",
        ),
        (
            "a 257-byte software_version",
            with(registration("c"), "software_version", json!("x".repeat(257))),
            "invalid_client_metadata",
        ),
        (
            "5 grant_types entries",
            with(registration("c"), "grant_types", json!(vec!["authorization_code"; 5])),
            "invalid_client_metadata",
        ),
        (
            "5 response_types entries",
            with(registration("c"), "response_types", json!(vec!["code"; 5])),
            "invalid_client_metadata",
        ),
    ];
    for (why, body, error) in cases {
        let (status, answer) = register_json(base, &body).await;
        assert_eq!(
            (status, answer["error"].as_str()),
            (400, Some(error)),
            "{why}: {answer}"
        );
    }
    // At the bounds: accepted.
    let at_bounds = json!({
        "client_name": "é".repeat(200),
        "redirect_uris": (0..10).map(|i| format!("{}{i}", uri(511))).collect::<Vec<_>>(),
        "client_uri": uri(512),
        "logo_uri": uri(512),
        "scope": vec!["s"; 32].join(" "),
        "software_id": "x".repeat(256),
        "software_version": "x".repeat(256),
        "grant_types": ["authorization_code", "refresh_token", "authorization_code", "refresh_token"],
        "response_types": ["code", "code", "code", "code"],
    });
    let (status, answer) = register_json(base, &at_bounds).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(
        answer["grant_types"],
        json!(["authorization_code", "refresh_token"]),
        "duplicates collapsed"
    );
    // Fields the proxy does not use are neither stored nor echoed, whatever their size.
    let ignored = with(registration("c"), "contacts", json!(vec!["a@example.com"; 500]));
    let (status, answer) = register_json(base, &ignored).await;
    assert_eq!(status, 201, "{answer}");
    assert!(answer.get("contacts").is_none(), "{answer}");
    // A body over 16 KiB is refused before it is parsed.
    let huge = with(registration("c"), "padding", json!("x".repeat(17 * 1024)));
    let (status, answer) = register_json(base, &huge).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (413, Some("invalid_client_metadata")),
        "{answer}"
    );
}

#[tokio::test]
async fn identical_registrations_share_one_client() {
    let stack = stack(Options::default()).await;
    let base = &stack.base;
    let (status, first) = register_json(base, &registration("Claude Code")).await;
    assert_eq!(status, 201);
    // The same metadata, written in another order and with duplicates: the same client.
    let reordered = json!({
        "token_endpoint_auth_method": "none",
        "grant_types": ["refresh_token", "authorization_code", "authorization_code"],
        "redirect_uris": [REDIRECT, REDIRECT],
        "client_name": "Claude Code",
    });
    for body in [registration("Claude Code"), reordered] {
        let (status, again) = register_json(base, &body).await;
        assert_eq!(status, 201, "{again}");
        assert_eq!(again["client_id"], first["client_id"], "{again}");
        assert_eq!(again["client_id_issued_at"], first["client_id_issued_at"]);
    }
    let (_, other) = register_json(base, &registration("Claude Code 2")).await;
    assert_ne!(other["client_id"], first["client_id"], "other metadata, another client");
}

/// `/authorize` for `client_id`: 302 to Entra, or toolgate's page.
async fn authorize_status(base: &str, client_id: &str) -> u16 {
    Browser::new()
        .get(&Pkce::new().authorize_url(base, client_id, REDIRECT, &[]))
        .await
        .status
}

#[tokio::test]
async fn unused_registrations_expire_and_used_ones_stay() {
    let stack = ClockStack::start(crate::harness::emulator().await, |_| {}).await;
    let base = &stack.base;
    let (_, unused) = register_json(base, &registration("never used")).await;
    let unused = unused["client_id"].as_str().unwrap().to_owned();
    let (_, used) = register_json(base, &registration("used")).await;
    let used = used["client_id"].as_str().unwrap().to_owned();
    // `used` obtains tokens.
    let pkce = Pkce::new();
    let mut browser = Browser::new();
    let done = browser::authorize(
        &mut browser,
        base,
        &pkce.authorize_url(base, &used, REDIRECT, &[]),
        "alice",
    )
    .await;
    let tokens = redeem(
        base,
        &used,
        REDIRECT,
        &done.location_param("code").unwrap(),
        &pkce.verifier,
    )
    .await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);

    stack.clock.advance(59 * 60);
    assert_eq!(
        authorize_status(base, &unused).await,
        302,
        "still there after 59 minutes"
    );
    stack.clock.advance(2 * 60);
    assert_eq!(
        authorize_status(base, &unused).await,
        400,
        "an unused registration is gone after an hour"
    );
    assert_eq!(authorize_status(base, &used).await, 302, "a used one stays");
    stack.clock.advance(89 * 24 * 3600);
    assert_eq!(
        authorize_status(base, &used).await,
        302,
        "for 90 days from its first use"
    );
    stack.clock.advance(2 * 24 * 3600);
    assert_eq!(authorize_status(base, &used).await, 400, "then it is gone too");
}

#[tokio::test]
async fn unused_registrations_are_capped() {
    let stack = ClockStack::start(crate::harness::emulator().await, |config| {
        config.registration.max_unused = 3;
    })
    .await;
    let base = &stack.base;
    // Start on a 5-minute boundary (the counting bucket), so what follows does not depend on the second.
    let now = crate::harness::now();
    stack.clock.set(now - now.rem_euclid(300));
    for i in 0..3 {
        let (status, answer) = register_json(base, &registration(&format!("client {i}"))).await;
        assert_eq!(status, 201, "{answer}");
    }
    let (status, answer) = register_json(base, &registration("one too many")).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (503, Some("temporarily_unavailable")),
        "{answer}"
    );
    assert!(
        answer["error_description"]
            .as_str()
            .unwrap()
            .contains("too many client registrations that have not been used yet"),
        "{answer}"
    );
    // An identical registration costs nothing and is still answered.
    let (status, again) = register_json(base, &registration("client 1")).await;
    assert_eq!(status, 201, "{again}");
    // Still full just after they expire (the count is kept in 5-minute buckets and only ever
    // over-estimates)…
    stack.clock.advance(61 * 60);
    let (status, _) = register_json(base, &registration("too early")).await;
    assert_eq!(status, 503);
    // …and open again one bucket later.
    stack.clock.advance(5 * 60);
    let (status, answer) = register_json(base, &registration("later")).await;
    assert_eq!(status, 201, "{answer}");
}

#[tokio::test]
async fn registration_limits_are_per_address_with_a_global_ceiling() {
    let stack = ClockStack::start(crate::harness::emulator().await, |config| {
        config.registration.limit = toolgate_proxy::RateLimit {
            per_address: 2,
            global: 5,
        };
        config.trusted_proxies = vec!["127.0.0.9".parse().unwrap()];
    })
    .await;
    let base = &stack.base;
    let mut n = 0;
    let mut register = |from: &'static str, headers: Vec<(&'static str, &'static str)>| {
        n += 1;
        let body = registration(&format!("client {n}"));
        let base = base.clone();
        async move { register_from(&client_from(from), &base, &body, &headers).await }
    };
    for _ in 0..2 {
        assert_eq!(register("127.0.0.1", vec![]).await.0, 201);
    }
    let (status, answer) = register("127.0.0.1", vec![]).await;
    assert_eq!(status, 429, "{answer}");
    assert!(
        answer["error_description"]
            .as_str()
            .unwrap()
            .contains("from your address")
    );
    // X-Forwarded-For from a peer that is not a trusted proxy changes nothing.
    let (status, _) = register("127.0.0.1", vec![("x-forwarded-for", "198.51.100.1")]).await;
    assert_eq!(status, 429, "a client cannot pick its own address");
    // Another address has its own budget…
    assert_eq!(register("127.0.0.2", vec![]).await.0, 201);
    // …and behind the trusted proxy, the forwarded address counts.
    assert_eq!(
        register("127.0.0.9", vec![("x-forwarded-for", "198.51.100.7")]).await.0,
        201
    );
    assert_eq!(
        register("127.0.0.9", vec![("x-forwarded-for", "198.51.100.8")]).await.0,
        201
    );
    // That makes five: the global ceiling.
    let (status, answer) = register("127.0.0.3", vec![]).await;
    assert_eq!(status, 429, "{answer}");
    assert!(
        answer["error_description"].as_str().unwrap().contains("right now"),
        "{answer}"
    );
    // A minute later (the proxy's clock, nobody sleeps) everyone may register again.
    stack.clock.advance(60);
    assert_eq!(register("127.0.0.1", vec![]).await.0, 201);
}

#[tokio::test]
async fn sign_in_limits_are_per_address_and_known_clients_have_their_own_budget() {
    let ops = "https://ops.example/cb";
    let stack = ClockStack::start(crate::harness::emulator().await, |config| {
        config.sign_ins = toolgate_proxy::SignInLimits {
            per_address: 3,
            new_clients: 4,
            known_clients: 100,
        };
        config.clients.push(toolgate_proxy::PreregisteredClient {
            client_id: "ops-tool".into(),
            client_name: "Ops tool".into(),
            redirect_uris: vec![ops.into()],
            client_secret: None,
        });
    })
    .await;
    let base = &stack.base;
    // A registration that has obtained tokens (its sign-in counted as a new client's, from .4).
    let (_, used) = register_json(base, &registration("used")).await;
    let used = used["client_id"].as_str().unwrap().to_owned();
    let pkce = Pkce::new();
    let mut browser = Browser::from_address("127.0.0.4");
    let done = browser::authorize(
        &mut browser,
        base,
        &pkce.authorize_url(base, &used, REDIRECT, &[]),
        "alice",
    )
    .await;
    let tokens = redeem(
        base,
        &used,
        REDIRECT,
        &done.location_param("code").unwrap(),
        &pkce.verifier,
    )
    .await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);

    let (_, fresh) = register_json(base, &registration("fresh")).await;
    let fresh = fresh["client_id"].as_str().unwrap().to_owned();
    let start = |from: &'static str, client_id: String, redirect: &'static str| {
        let url = Pkce::new().authorize_url(base, &client_id, redirect, &[]);
        async move { Browser::from_address(from).get(&url).await }
    };
    for _ in 0..3 {
        assert_eq!(start("127.0.0.1", fresh.clone(), REDIRECT).await.status, 302);
    }
    let flooded = start("127.0.0.1", fresh.clone(), REDIRECT).await;
    assert_eq!(flooded.status, 429, "{flooded:?}");
    assert!(flooded.body.contains("from your address") && flooded.location.is_none());
    // New clients' global ceiling (4 with the earlier sign-in of `used`): .2 gets nothing more.
    let everyone = start("127.0.0.2", fresh.clone(), REDIRECT).await;
    assert_eq!(everyone.status, 429, "{everyone:?}");
    assert!(
        everyone.body.contains("too many sign-ins right now"),
        "{}",
        everyone.body
    );
    // Known clients do not share that budget: pre-registered, used registrations, browser login.
    assert_eq!(start("127.0.0.2", "ops-tool".into(), ops).await.status, 302);
    assert_eq!(start("127.0.0.3", used.clone(), REDIRECT).await.status, 302);
    let login = Browser::from_address("127.0.0.5")
        .get(&format!("{base}/auth/login"))
        .await;
    assert_eq!(login.status, 302, "{login:?}");
    // But they do share the per-address budget: .2's third sign-in passes, its fourth does not.
    assert_eq!(start("127.0.0.2", "ops-tool".into(), ops).await.status, 302);
    assert_eq!(start("127.0.0.2", "ops-tool".into(), ops).await.status, 429);
    // The next minute on the proxy's clock, .1 may start again.
    stack.clock.advance(60);
    assert_eq!(start("127.0.0.1", fresh.clone(), REDIRECT).await.status, 302);
}

#[tokio::test]
async fn limits_configured_in_the_file_are_applied() {
    // Configured limits reach the limiter. Wall clock here: of three quick attempts with a limit of
    // one a minute, at least one falls in a window already used, whichever second it is.
    let stack = stack(Options {
        proxy_toml: "registrations_per_minute_per_address = 1\nsign_ins_per_minute_per_address = 1".into(),
        ..Options::default()
    })
    .await;
    let base = &stack.base;
    let mut statuses = Vec::new();
    let mut client_id = None;
    for i in 0..3 {
        let (status, answer) = register_json(base, &registration(&format!("c{i}"))).await;
        statuses.push(status);
        if status == 201 {
            client_id = answer["client_id"].as_str().map(str::to_owned);
        }
    }
    assert!(statuses.contains(&429) && statuses.contains(&201), "{statuses:?}");
    let client_id = client_id.unwrap();
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(authorize_status(base, &client_id).await);
    }
    assert!(statuses.contains(&429) && statuses.contains(&302), "{statuses:?}");
}

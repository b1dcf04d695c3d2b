//! The reference upstream over HTTP with an rmcp client: the gateway test tools, the credential
//! checks, tools added at run time, cancellation and crashes.

use std::time::Duration;

use rmcp::model::{CallToolRequestParams, ReadResourceRequestParams};
use serde_json::{Value, json};
use toolgate_test_upstream::claims::unsigned_jwt;
use toolgate_test_upstream::{Ending, UpstreamOptions, serve_http};

use crate::support::{TIMEOUT, call, connect, local, raw_initialize, text_of};

fn jwt(claims: Value) -> String {
    unsigned_jwt(&claims)
}

#[tokio::test]
async fn whoami_reports_the_claims_of_the_token_received() {
    let upstream = serve_http(local(), UpstreamOptions::default()).await;
    let token = jwt(
        json!({"oid": "user-1", "aud": "api://tickets", "tid": "tenant-1", "scp": "tickets.read", "iss": "https://login.example/tenant-1/v2.0", "name": "Alice"}),
    );
    let (client, _) = connect(upstream.url().as_str(), Some(&token)).await.unwrap();
    let result = client.call_tool(call("whoami", json!({}))).await.unwrap();
    assert_eq!(result.is_error, Some(false));
    assert_eq!(
        result.structured_content,
        Some(
            json!({"oid": "user-1", "aud": "api://tickets", "tid": "tenant-1", "scp": "tickets.read",
                    "iss": "https://login.example/tenant-1/v2.0", "sub": null, "roles": null, "azp": null,
                    "appid": null, "idtyp": null})
        )
    );
    let text: Value = serde_json::from_str(&text_of(&result)).unwrap();
    assert_eq!(text["oid"], "user-1");

    // Two callers, each with its own token, see their own oid.
    let other = jwt(json!({"oid": "user-2", "aud": "api://tickets"}));
    let (client2, _) = connect(upstream.url().as_str(), Some(&other)).await.unwrap();
    let result2 = client2.call_tool(call("whoami", json!({}))).await.unwrap();
    assert_eq!(result2.structured_content.unwrap()["oid"], "user-2");

    // Without a token whoami says so (a tool error, not a protocol error).
    let (anonymous, _) = connect(upstream.url().as_str(), None).await.unwrap();
    let result = anonymous.call_tool(call("whoami", json!({}))).await.unwrap();
    assert_eq!(result.is_error, Some(true));
    assert!(
        text_of(&result).contains("no `Authorization: Bearer` token"),
        "{}",
        text_of(&result)
    );
}

#[tokio::test]
async fn require_audience_refuses_other_audiences_with_401() {
    let options = UpstreamOptions {
        require_audience: Some("api://tickets".into()),
        ..UpstreamOptions::default()
    };
    let upstream = serve_http(local(), options).await;
    let url = upstream.url().as_str();

    for (token, why) in [
        (Some(jwt(json!({"aud": "api://other", "oid": "u"}))), "other audience"),
        (Some(jwt(json!({"oid": "u"}))), "no aud"),
        (Some("opaque".to_owned()), "not a JWT"),
        (None, "no token"),
    ] {
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", a.as_str())).collect();
        let response = raw_initialize(url, &headers).await;
        assert_eq!(response.status(), 401, "{why}");
        let challenge = response.headers()["www-authenticate"].to_str().unwrap().to_owned();
        assert!(challenge.starts_with("Bearer"), "{why}: {challenge}");
        let body = response.text().await.unwrap();
        assert!(
            !body.contains("api://other") && !body.contains("opaque"),
            "{why}: presented value echoed: {body}"
        );
    }

    let right = jwt(json!({"aud": ["api://x", "api://tickets"], "oid": "user-9"}));
    assert_eq!(
        raw_initialize(url, &[("authorization", &format!("Bearer {right}"))])
            .await
            .status(),
        200
    );
    let (client, _) = connect(url, Some(&right)).await.unwrap();
    let result = client.call_tool(call("whoami", json!({}))).await.unwrap();
    assert_eq!(result.structured_content.unwrap()["oid"], "user-9");
    assert!(connect(url, Some(&jwt(json!({"aud": "api://other"})))).await.is_err());
}

#[tokio::test]
async fn require_static_header_refuses_requests_without_it() {
    let options = UpstreamOptions {
        require_static_header: Some(("X-Api-Key".into(), "k-123".into())),
        ..UpstreamOptions::default()
    };
    let upstream = serve_http(local(), options).await;
    let url = upstream.url().as_str();
    assert_eq!(raw_initialize(url, &[]).await.status(), 401);
    assert_eq!(raw_initialize(url, &[("x-api-key", "k-12")]).await.status(), 401);
    assert_eq!(raw_initialize(url, &[("x-api-key", "k-1234")]).await.status(), 401);
    assert_eq!(
        raw_initialize(url, &[("x-api-key", "k-123"), ("x-api-key", "k-123")])
            .await
            .status(),
        401
    );
    assert_eq!(raw_initialize(url, &[("x-api-key", "k-123")]).await.status(), 200);
}

#[tokio::test]
async fn echo_and_transfer_check_their_arguments() {
    let upstream = serve_http(local(), UpstreamOptions::default()).await;
    let (client, _) = connect(upstream.url().as_str(), None).await.unwrap();
    let echoed = client.call_tool(call("echo", json!({"text": "hello"}))).await.unwrap();
    assert_eq!(text_of(&echoed), "hello");
    let sent = client
        .call_tool(call("transfer", json!({"amount": 250, "currency": "USD"})))
        .await
        .unwrap();
    assert_eq!(text_of(&sent), "transferred 250 USD");
    for bad in [
        json!({"amount": 1.5, "currency": "EUR"}),
        json!({"amount": "10", "currency": "EUR"}),
        json!({"amount": 10, "currency": "GBP"}),
        json!({"amount": 10}),
    ] {
        let err = client.call_tool(call("transfer", bad.clone())).await.unwrap_err();
        assert!(err.to_string().contains("invalid arguments"), "{bad}: {err}");
    }
    let unknown = client.call_tool(call("no_such_tool", json!({}))).await.unwrap_err();
    assert!(unknown.to_string().contains("unknown tool"), "{unknown}");
    let tools = client.list_all_tools().await.unwrap();
    let transfer = tools.iter().find(|t| t.name == "transfer").unwrap();
    assert_eq!(
        transfer.input_schema["properties"]["currency"]["enum"],
        json!(["EUR", "USD"])
    );
    let resource = client
        .read_resource(ReadResourceRequestParams::new("test://template/42/data"))
        .await
        .unwrap();
    assert!(serde_json::to_string(&resource).unwrap().contains("Data for ID: 42"));
}

#[tokio::test]
async fn add_tool_notifies_every_session_and_the_tool_works_for_all() {
    let upstream = serve_http(local(), UpstreamOptions::default()).await;
    let url = upstream.url().as_str();
    let (caller, caller_events) = connect(url, None).await.unwrap();
    let (bystander, bystander_events) = connect(url, None).await.unwrap();
    let before = bystander.list_all_tools().await.unwrap().len();

    let added = caller
        .call_tool(call("add_tool", json!({"name": "late_tool"})))
        .await
        .unwrap();
    assert_eq!(added.is_error, Some(false), "{}", text_of(&added));
    assert!(text_of(&added).contains("notified 2 session(s)"), "{}", text_of(&added));
    assert!(
        caller_events.wait_list_changed(1).await,
        "the caller got no tools/list_changed"
    );
    assert!(
        bystander_events.wait_list_changed(1).await,
        "the other session got no tools/list_changed"
    );

    let tools = bystander.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), before + 1);
    let late = tools.iter().find(|t| t.name == "late_tool").unwrap();
    assert!(late.description.as_deref().is_some_and(|d| !d.is_empty()));
    assert_eq!(
        text_of(&bystander.call_tool(call("late_tool", json!({}))).await.unwrap()),
        "late_tool"
    );

    // Bad and duplicate names are tool errors and change nothing.
    for name in ["late_tool", "echo", "", "has space", &"x".repeat(129)] {
        let refused = caller.call_tool(call("add_tool", json!({"name": name}))).await.unwrap();
        assert_eq!(refused.is_error, Some(true), "{name:?}");
    }
    assert_eq!(bystander.list_all_tools().await.unwrap().len(), before + 1);

    // The fixture's own handle does the same.
    assert_eq!(upstream.add_tool("from_test").await.unwrap(), 2);
    assert!(bystander_events.wait_list_changed(2).await);
    assert!(
        bystander
            .list_all_tools()
            .await
            .unwrap()
            .iter()
            .any(|t| t.name == "from_test")
    );
}

#[tokio::test]
async fn hang_and_sleep_end_when_the_call_is_cancelled() {
    let upstream = serve_http(local(), UpstreamOptions::default()).await;
    let (client, _) = connect(upstream.url().as_str(), None).await.unwrap();
    let slept = client.call_tool(call("sleep", json!({"ms": 20}))).await.unwrap();
    assert_eq!(text_of(&slept), "slept 20 ms");
    assert!(client.call_tool(call("sleep", json!({"ms": 600_001}))).await.is_err());

    // Dropping the call future sends notifications/cancelled (rmcp's cancel-on-drop).
    let hung = tokio::time::timeout(Duration::from_millis(300), client.call_tool(call("hang", json!({})))).await;
    assert!(hung.is_err(), "hang returned");
    let slow = tokio::time::timeout(
        Duration::from_millis(300),
        client.call_tool(call("sleep", json!({"ms": 60_000}))),
    );
    assert!(slow.await.is_err(), "sleep returned early");
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while upstream.cancelled_calls() < 2 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(upstream.cancelled_calls(), 2);
    assert_eq!(upstream.tool_calls(), 4);
    // The session still works.
    assert_eq!(
        text_of(&client.call_tool(call("echo", json!({"text": "ok"}))).await.unwrap()),
        "ok"
    );
}

#[tokio::test]
async fn crash_aborts_the_http_server_mid_call() {
    let upstream = serve_http(local(), UpstreamOptions::default()).await;
    let (client, _) = connect(upstream.url().as_str(), None).await.unwrap();
    let (other, _) = connect(upstream.url().as_str(), None).await.unwrap();
    let hung = tokio::spawn(async move { other.call_tool(CallToolRequestParams::new("hang")).await });
    tokio::time::sleep(Duration::from_millis(100)).await;

    let crashed = tokio::time::timeout(TIMEOUT, client.call_tool(call("crash", json!({})))).await;
    assert!(
        matches!(crashed, Ok(Err(_))),
        "the crash call did not fail: {crashed:?}"
    );
    assert_eq!(
        tokio::time::timeout(TIMEOUT, upstream.ended()).await.unwrap(),
        Ending::Crashed
    );
    let in_flight = tokio::time::timeout(TIMEOUT, hung).await.unwrap().unwrap();
    assert!(in_flight.is_err(), "a call in flight survived the crash");
    assert!(
        tokio::net::TcpStream::connect(upstream.addr()).await.is_err(),
        "the port still accepts connections"
    );
}

//! The token-injecting proxy against a target that reports what it received.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use poem::listener::{Acceptor as _, Listener as _, TcpListener};
use poem::{Body, Request, Response, Server, endpoint::make};
use serde_json::{Value, json};
use tokio::sync::Notify;
use toolgate_test_upstream::{UpstreamOptions, inject_token, serve_http, try_inject_token};
use url::Url;

use crate::support::{TIMEOUT, call, connect, local, text_of};

/// A target echoing the request as JSON on every path but `/sse`, which streams one event, waits for
/// `release`, then streams a second.
async fn start_target(release: Arc<Notify>) -> (Url, tokio::task::JoinHandle<()>) {
    let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await.unwrap();
    let addr = *acceptor.local_addr()[0].as_socket_addr().unwrap();
    let app = make(move |mut req: Request| {
        let release = Arc::clone(&release);
        async move {
            if req.uri().path() == "/sse" {
                let events = futures::stream::once(async { Ok::<_, std::io::Error>("data: one\n\n".to_owned()) })
                    .chain(futures::stream::once(async move {
                        release.notified().await;
                        Ok("data: two\n\n".to_owned())
                    }));
                return Response::builder()
                    .content_type("text/event-stream")
                    .body(Body::from_bytes_stream(events.map(|e| e.map(bytes::Bytes::from))));
            }
            let headers: serde_json::Map<String, Value> = req
                .headers()
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), json!(v.to_str().unwrap_or("?"))))
                .collect();
            let body = req.take_body().into_string().await.unwrap_or_default();
            let seen = json!({
                "method": req.method().as_str(), "path": req.uri().path(), "query": req.uri().query(),
                "headers": headers, "body": body
            });
            Response::builder()
                .status(poem::http::StatusCode::CREATED)
                .header("x-target", "yes")
                .body(seen.to_string())
        }
    });
    let task = tokio::spawn(async move {
        let _ = Server::new_with_acceptor(acceptor).run(app).await;
    });
    (Url::parse(&format!("http://{addr}/ignored/path")).unwrap(), task)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn forwards_everything_unchanged_but_the_authorization() {
    let (target, _task) = start_target(Arc::new(Notify::new())).await;
    let proxy = inject_token(local(), target, "injected".into()).await;
    let response = client()
        .put(proxy.url("/some/path?a=1&b=two"))
        .header("host", "evil.example.com")
        .header("origin", "http://evil.example.com")
        .header("authorization", "Bearer client-token")
        .header("mcp-session-id", "s-1")
        .header("content-type", "application/json")
        .body(r#"{"hello":"world"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["x-target"], "yes");
    let seen: Value = response.json().await.unwrap();
    assert_eq!(seen["method"], "PUT");
    assert_eq!(seen["path"], "/some/path");
    assert_eq!(seen["query"], "a=1&b=two");
    assert_eq!(seen["body"], r#"{"hello":"world"}"#);
    assert_eq!(seen["headers"]["host"], "evil.example.com");
    assert_eq!(seen["headers"]["origin"], "http://evil.example.com");
    assert_eq!(seen["headers"]["authorization"], "Bearer injected");
    assert_eq!(seen["headers"]["mcp-session-id"], "s-1");
    assert_eq!(seen["headers"]["content-type"], "application/json");

    let get = client()
        .get(proxy.url("/x"))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(get["method"], "GET");
    assert_eq!(get["body"], "");
    assert!(
        get["headers"]["transfer-encoding"].is_null(),
        "a bodyless GET got a body: {get}"
    );
    assert_eq!(get["headers"]["authorization"], "Bearer injected");
}

#[tokio::test]
async fn event_streams_pass_through_without_buffering() {
    let release = Arc::new(Notify::new());
    let (target, _task) = start_target(Arc::clone(&release)).await;
    let proxy = inject_token(local(), target, "t".into()).await;
    let response = client().get(proxy.url("/sse")).send().await.unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = response.bytes_stream();
    let first = tokio::time::timeout(TIMEOUT, body.next())
        .await
        .expect("first event held back")
        .unwrap()
        .unwrap();
    assert_eq!(&first[..], b"data: one\n\n");
    // The second event exists only after this; the first arrived on its own.
    release.notify_one();
    let second = tokio::time::timeout(TIMEOUT, body.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(&second[..], b"data: two\n\n");
}

#[tokio::test]
async fn an_unreachable_target_is_a_502_and_bad_targets_are_refused() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let target = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
    let proxy = inject_token(local(), target, "t".into()).await;
    let response = client().get(proxy.url("/mcp")).send().await.unwrap();
    assert_eq!(response.status(), 502);
    assert!(
        try_inject_token(local(), Url::parse("file:///tmp/x").unwrap(), "t".into())
            .await
            .is_err()
    );
    let bad_token = try_inject_token(local(), Url::parse("http://127.0.0.1:1/").unwrap(), "a\nb".into()).await;
    assert!(bad_token.is_err());
    let addr = proxy.addr();
    tokio::time::timeout(Duration::from_secs(5), proxy.stop())
        .await
        .unwrap();
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "the stopped proxy still accepts connections"
    );
}

#[tokio::test]
async fn an_mcp_client_without_a_token_reaches_a_token_protected_upstream() {
    let token = "tok-proxy";
    let options = UpstreamOptions {
        require_static_header: Some(("authorization".into(), format!("Bearer {token}"))),
        ..UpstreamOptions::default()
    };
    let upstream = serve_http(local(), options).await;
    assert!(
        connect(upstream.url().as_str(), None).await.is_err(),
        "the upstream let a tokenless client in"
    );
    let proxy = inject_token(local(), upstream.url().clone(), token.into()).await;
    let (client, _) = connect(&proxy.url("/mcp"), None).await.unwrap();
    let echoed = client
        .call_tool(call("echo", json!({"text": "through"})))
        .await
        .unwrap();
    assert_eq!(text_of(&echoed), "through");
    // Progress streams back through the proxy on the call's SSE response.
    let progress = client
        .call_tool(call("test_tool_with_progress", json!({})))
        .await
        .unwrap();
    assert!(text_of(&progress).contains("progress token"), "{}", text_of(&progress));
}

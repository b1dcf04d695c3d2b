//! The fetcher over real HTTP against a small server on 127.0.0.1:0 (http: no certificates here).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use toolgate_core::ManualClock;

use super::*;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Counts connections and requests; stops on drop.
struct TestServer {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    async fn start() -> Result<Self, std::io::Error> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(AtomicUsize::new(0));
        let (conn_count, req_count) = (Arc::clone(&connections), Arc::clone(&requests));
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                conn_count.fetch_add(1, Ordering::SeqCst);
                let req_count = Arc::clone(&req_count);
                tokio::spawn(async move {
                    let _ = serve(stream, addr, req_count).await;
                });
            }
        });
        Ok(Self {
            addr,
            connections,
            requests,
            task,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

fn document(client_id: &str) -> String {
    serde_json::json!({
        "client_id": client_id,
        "client_name": "Example Agent",
        "redirect_uris": ["http://127.0.0.1/callback", "https://agent.example/callback"],
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "none"
    })
    .to_string()
}

async fn serve(mut stream: TcpStream, addr: SocketAddr, requests: Arc<AtomicUsize>) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    requests.fetch_add(1, Ordering::SeqCst);
    let head = String::from_utf8_lossy(&head);
    let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
    let own = format!("http://{addr}{path}");
    let json = "application/json";
    let (status, content_type, extra, body): (&str, &str, String, String) = match path.as_str() {
        "/good" => (
            "200 OK",
            json,
            "Cache-Control: public, max-age=600\r\n".into(),
            document(&own),
        ),
        "/nostore" => ("200 OK", json, "Cache-Control: no-store\r\n".into(), document(&own)),
        "/short" => (
            "200 OK",
            "application/json; charset=utf-8",
            "Cache-Control: max-age=1\r\n".into(),
            document(&own),
        ),
        "/mismatch" => ("200 OK", json, String::new(), document(&format!("http://{addr}/other"))),
        "/big" => (
            "200 OK",
            json,
            String::new(),
            format!("{{\"pad\": \"{}\"}}", "x".repeat(10 * 1024)),
        ),
        "/html" => ("200 OK", "text/html", String::new(), "<html></html>".into()),
        "/missing" => ("404 Not Found", json, String::new(), "{}".into()),
        "/redirect" => (
            "302 Found",
            "text/plain",
            format!("Location: http://{addr}/good\r\n"),
            String::new(),
        ),
        "/big-chunked" => {
            // No Content-Length: the limit must hold while streaming.
            stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
                .await?;
            let chunk = "x".repeat(1024);
            for _ in 0..64 {
                stream
                    .write_all(format!("{:x}\r\n{chunk}\r\n", chunk.len()).as_bytes())
                    .await?;
            }
            stream.write_all(b"0\r\n\r\n").await?;
            return stream.shutdown().await;
        }
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            ("200 OK", json, String::new(), document(&own))
        }
        _ => ("404 Not Found", "text/plain", String::new(), String::new()),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

fn test_config() -> CimdFetcherConfig {
    CimdFetcherConfig {
        connect_timeout: Duration::from_secs(2),
        total_timeout: Duration::from_secs(2),
        allow_private_addresses: true,
        danger_allow_http_for_tests: true,
        ..CimdFetcherConfig::default()
    }
}

fn fetcher(config: CimdFetcherConfig, clock: &ManualClock) -> Result<CimdFetcher, CimdError> {
    CimdFetcher::new(config, Arc::new(clock.clone()))
}

#[tokio::test]
async fn good_document_is_accepted() -> TestResult {
    let server = TestServer::start().await?;
    let fetcher = fetcher(test_config(), &ManualClock::new(1_000))?;
    let url = fetcher.parse_url(&server.url("/good"))?;
    let client = fetcher.fetch(&url).await?;
    assert_eq!(client.client_id.as_str(), server.url("/good"));
    assert_eq!(client.client_name.as_deref(), Some("Example Agent"));
    assert_eq!(client.source, crate::ClientSource::Cimd);
    assert_eq!(client.issued_at, 1_000);
    Ok(())
}

#[tokio::test]
async fn client_id_mismatch_is_refused() -> TestResult {
    let server = TestServer::start().await?;
    let fetcher = fetcher(test_config(), &ManualClock::new(0))?;
    let result = fetcher.fetch(&fetcher.parse_url(&server.url("/mismatch"))?).await;
    assert!(
        matches!(
            result,
            Err(CimdError::Document(CimdDocumentError::ClientIdMismatch { .. }))
        ),
        "{result:?}"
    );
    assert_eq!(fetcher.cached_documents(), 0);
    Ok(())
}

#[tokio::test]
async fn oversized_bodies_are_refused() -> TestResult {
    let server = TestServer::start().await?;
    let fetcher = fetcher(test_config(), &ManualClock::new(0))?;
    for path in ["/big", "/big-chunked"] {
        let result = fetcher.fetch(&fetcher.parse_url(&server.url(path))?).await;
        assert!(
            matches!(result, Err(CimdError::TooLarge { limit: 5120 })),
            "{path}: {result:?}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn slow_server_times_out() -> TestResult {
    let server = TestServer::start().await?;
    let fetcher = fetcher(test_config(), &ManualClock::new(0))?;
    let started = Instant::now();
    let result = fetcher.fetch(&fetcher.parse_url(&server.url("/slow"))?).await;
    assert!(matches!(result, Err(CimdError::Timeout)), "{result:?}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "stopped at the 2 s limit, not the 30 s server delay"
    );
    Ok(())
}

#[tokio::test]
async fn redirects_are_not_followed() -> TestResult {
    let server = TestServer::start().await?;
    let fetcher = fetcher(test_config(), &ManualClock::new(0))?;
    let result = fetcher.fetch(&fetcher.parse_url(&server.url("/redirect"))?).await;
    assert!(matches!(result, Err(CimdError::Redirect { status: 302 })), "{result:?}");
    assert_eq!(server.requests(), 1, "the redirect target was not requested");
    Ok(())
}

#[tokio::test]
async fn wrong_status_and_content_type_are_refused() -> TestResult {
    let server = TestServer::start().await?;
    let fetcher = fetcher(test_config(), &ManualClock::new(0))?;
    let result = fetcher.fetch(&fetcher.parse_url(&server.url("/html"))?).await;
    assert!(
        matches!(result, Err(CimdError::ContentType(ref t)) if t == "text/html"),
        "{result:?}"
    );
    let result = fetcher.fetch(&fetcher.parse_url(&server.url("/missing"))?).await;
    assert!(matches!(result, Err(CimdError::Status { status: 404 })), "{result:?}");
    Ok(())
}

#[tokio::test]
async fn cache_honours_max_age() -> TestResult {
    let server = TestServer::start().await?;
    let clock = ManualClock::new(0);
    let fetcher = fetcher(test_config(), &clock)?;
    let url = fetcher.parse_url(&server.url("/good"))?;
    fetcher.fetch(&url).await?;
    fetcher.fetch(&url).await?;
    assert_eq!(server.requests(), 1, "second fetch served from the cache");
    clock.advance(599);
    fetcher.fetch(&url).await?;
    assert_eq!(server.requests(), 1);
    clock.advance(1);
    fetcher.fetch(&url).await?;
    assert_eq!(server.requests(), 2, "max-age=600 expired");

    // max-age=1 is raised to the 60 s floor.
    let short = fetcher.parse_url(&server.url("/short"))?;
    fetcher.fetch(&short).await?;
    clock.advance(59);
    fetcher.fetch(&short).await?;
    assert_eq!(server.requests(), 3);
    clock.advance(1);
    fetcher.fetch(&short).await?;
    assert_eq!(server.requests(), 4);
    Ok(())
}

#[tokio::test]
async fn no_store_is_not_cached() -> TestResult {
    let server = TestServer::start().await?;
    let fetcher = fetcher(test_config(), &ManualClock::new(0))?;
    let url = fetcher.parse_url(&server.url("/nostore"))?;
    fetcher.fetch(&url).await?;
    fetcher.fetch(&url).await?;
    assert_eq!(server.requests(), 2);
    assert_eq!(fetcher.cached_documents(), 0);
    Ok(())
}

#[tokio::test]
async fn private_addresses_are_refused_before_connecting() -> TestResult {
    let server = TestServer::start().await?;
    let config = CimdFetcherConfig {
        allow_private_addresses: false,
        ..test_config()
    };
    let fetcher = fetcher(config, &ManualClock::new(0))?;

    // An IP literal: refused without a resolver or a connection.
    let result = fetcher.fetch(&fetcher.parse_url(&server.url("/good"))?).await;
    assert!(
        matches!(
            result,
            Err(CimdError::ForbiddenAddress {
                class: AddressClass::Loopback,
                ..
            })
        ),
        "{result:?}"
    );

    // A name: refused by the guarded resolver, again before connecting.
    let by_name = format!("http://localhost:{}/good", server.addr.port());
    let result = fetcher.fetch(&fetcher.parse_url(&by_name)?).await;
    assert!(matches!(result, Err(CimdError::ForbiddenAddress { .. })), "{result:?}");

    assert_eq!(server.connections(), 0, "no connection was made");
    Ok(())
}

#[tokio::test]
async fn http_needs_the_test_flag() -> TestResult {
    let server = TestServer::start().await?;
    let strict = fetcher(
        CimdFetcherConfig {
            danger_allow_http_for_tests: false,
            ..test_config()
        },
        &ManualClock::new(0),
    )?;
    assert!(matches!(
        strict.parse_url(&server.url("/good")),
        Err(CimdUrlError::NotHttps)
    ));
    // A CimdUrl built under the test flag is still refused by a production fetcher.
    let lax = fetcher(test_config(), &ManualClock::new(0))?;
    let url = lax.parse_url(&server.url("/good"))?;
    assert!(matches!(
        strict.fetch(&url).await,
        Err(CimdError::Url(CimdUrlError::NotHttps))
    ));
    assert_eq!(server.connections(), 0);
    Ok(())
}

#[test]
fn json_content_types() {
    assert!(is_json("application/json"));
    assert!(is_json("Application/JSON; charset=utf-8"));
    assert!(is_json("application/oauth-client-metadata+json"));
    assert!(!is_json("text/json+html"));
    assert!(!is_json("text/html"));
    assert!(!is_json(""));
}

//! Requests an HTTP client library will not send: a body that never ends (chunked without the
//! last chunk, or shorter than its declared `Content-Length`). A server that bounds bodies must
//! answer from the first bytes; one that buffers whole bodies never answers, and the test fails.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// How the endless body is framed.
#[derive(Debug, Clone, Copy)]
pub enum Framing {
    /// `Content-Length` declares this many bytes; fewer are ever sent.
    Declared(u64),
    /// `Transfer-Encoding: chunked`; the terminating chunk is never sent.
    Chunked,
}

/// Sends `method path` to `addr` with `headers`, then streams `send` body bytes (`a`s in
/// 16 KiB pieces) without ever finishing the body, and returns the status code of the answer.
/// The write side stays open, so the server cannot mistake the request for a truncated one.
/// Panics when no answer arrives within 30 seconds (the server is waiting for the rest).
pub async fn status_for_endless_body(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    framing: Framing,
    send: usize,
) -> u16 {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    match framing {
        Framing::Declared(length) => head.push_str(&format!("Content-Length: {length}\r\n")),
        Framing::Chunked => head.push_str("Transfer-Encoding: chunked\r\n"),
    }
    head.push_str("\r\n");
    write.write_all(head.as_bytes()).await.unwrap();
    // Written concurrently with reading the answer: a server that answers early may stop
    // reading, and a blocked writer must not keep the answer from being read.
    let writer = tokio::spawn(async move {
        let piece = vec![b'a'; 16 * 1024];
        let mut sent = 0;
        while sent < send {
            let frame = match framing {
                Framing::Declared(_) => piece.clone(),
                Framing::Chunked => {
                    let mut frame = format!("{:x}\r\n", piece.len()).into_bytes();
                    frame.extend_from_slice(&piece);
                    frame.extend_from_slice(b"\r\n");
                    frame
                }
            };
            if write.write_all(&frame).await.is_err() {
                break;
            }
            sent += piece.len();
        }
        // Returned, not dropped: dropping the write half would end the body.
        write
    });
    let status = tokio::time::timeout(Duration::from_secs(30), async {
        let mut received = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = read.read(&mut buf).await.unwrap_or(0);
            assert!(n > 0, "connection closed without an answer: {received:?}");
            received.extend_from_slice(buf.get(..n).unwrap());
            let text = String::from_utf8_lossy(&received);
            if let Some((line, _)) = text.split_once("\r\n") {
                let code = line.split(' ').nth(1).unwrap_or_default();
                return code
                    .parse::<u16>()
                    .unwrap_or_else(|_| panic!("not a status line: {line}"));
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no answer to {method} {path} within 30 s: the server waits for the whole body"));
    writer.abort();
    status
}

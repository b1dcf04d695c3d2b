//! The OTLP exporter's HTTP client: toolgate's reqwest (no second HTTP stack).
//!
//! The SDK's batch processor exports from its own thread, outside any tokio runtime, while a
//! reqwest future needs one: each export is spawned on the runtime toolgate started in, and the
//! exporter awaits the task.

use async_trait::async_trait;
use bytes::Bytes;
use opentelemetry_http::{HttpClient, HttpError};

/// Largest collector response read (an OTLP response is a few bytes; a partial-success
/// message a few hundred).
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
enum ExportError {
    #[error("the export task did not finish: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("the collector's response is larger than {MAX_RESPONSE_BYTES} bytes")]
    TooLarge,
    #[error("the collector's response could not be built: {0}")]
    Response(#[from] http::Error),
}

/// Sends OTLP requests with `client` on `runtime`.
#[derive(Debug, Clone)]
pub(crate) struct OtlpHttp {
    pub client: reqwest::Client,
    pub runtime: tokio::runtime::Handle,
}

#[async_trait]
impl HttpClient for OtlpHttp {
    async fn send_bytes(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, HttpError> {
        let client = self.client.clone();
        let task = self.runtime.spawn(async move {
            let (parts, body) = request.into_parts();
            let mut response = client
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await?;
            let status = response.status();
            let headers = response.headers().clone();
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await? {
                if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                    return Err(HttpError::from(ExportError::TooLarge));
                }
                body.extend_from_slice(&chunk);
            }
            let mut built = http::Response::builder()
                .status(status)
                .body(Bytes::from(body))
                .map_err(ExportError::from)?;
            *built.headers_mut() = headers;
            Ok::<_, HttpError>(built)
        });
        task.await.map_err(ExportError::from)?
    }
}

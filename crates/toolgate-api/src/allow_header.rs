//! RFC 9110 §15.5.6: a 405 must say which methods the resource supports (`Allow`).

use poem::http::{HeaderValue, StatusCode, header};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};

/// The methods of each API path (relative to `/api/v1`).
fn allowed(path: &str) -> &'static str {
    match path {
        "/policy/explain" => "POST",
        p if p.starts_with("/tools/") => "POST",
        _ => "GET",
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct AllowOn405;

impl<E: Endpoint> Middleware<E> for AllowOn405 {
    type Output = AllowOn405Endpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        AllowOn405Endpoint(ep)
    }
}

pub struct AllowOn405Endpoint<E>(E);

impl<E: Endpoint> Endpoint for AllowOn405Endpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let path = req.uri().path().to_owned();
        let mut response = match self.0.call(req).await {
            Ok(output) => output.into_response(),
            Err(error) => error.into_response(),
        };
        if response.status() == StatusCode::METHOD_NOT_ALLOWED {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(allowed(&path)));
        }
        Ok(response)
    }
}

//! The `/metrics` endpoint: the registry as OpenMetrics text. Served on its own listener
//! (`[telemetry] metrics_bind`), never on the public one: metrics describe the deployment
//! (upstream names, policy ids, traffic by outcome) to whoever can reach them, and a scraper
//! needs no token.

use std::sync::Arc;

use poem::http::StatusCode;
use poem::{Endpoint, EndpointExt as _, IntoEndpoint as _, Response, Route, get, handler, web::Data};

use toolgate_telemetry::Metrics;

/// The OpenMetrics 1.0 text content type (Prometheus negotiates it and parses it).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The path metrics are served at.
pub const METRICS_PATH: &str = "/metrics";

#[handler]
fn scrape(Data(metrics): Data<&Arc<Metrics>>) -> Response {
    match metrics.encode() {
        Ok(text) => Response::builder()
            .content_type(CONTENT_TYPE)
            .header("cache-control", "no-store")
            .body(text),
        Err(error) => {
            tracing::error!(%error, "metrics could not be encoded");
            StatusCode::INTERNAL_SERVER_ERROR.into()
        }
    }
}

/// `GET /metrics` (and nothing else: 404) for `metrics`.
pub fn metrics_endpoint(metrics: Arc<Metrics>) -> impl Endpoint + 'static {
    Route::new().at(METRICS_PATH, get(scrape)).data(metrics).into_endpoint()
}

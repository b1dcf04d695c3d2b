//! Assembles the server: provider routes, metadata, protected routes, cross-cutting layers.

use std::sync::Arc;

use poem::middleware::CatchPanic;
use poem::{Endpoint, EndpointExt, IntoEndpoint, Route, get};
use toolgate_core::{AuthProvider, Challenge};

use crate::auth::{AuthGate, RequireAuth};
use crate::provider_routes::ProviderEndpoint;
use crate::request_id::RequestIdLayer;
use crate::routes::{health, protected_resource, whoami};

/// Where the server is reachable from the outside, and where MCP lives.
#[derive(Debug, Clone)]
pub struct AppSettings {
    /// Scheme, host and port clients use, without a trailing slash (`https://tools.example.com`).
    pub public_url: String,
    /// Path of the MCP endpoint (`/mcp`).
    pub mcp_path: String,
}

impl AppSettings {
    /// The canonical resource URL: public URL + MCP path.
    pub fn resource_url(&self) -> String {
        format!("{}{}", self.public_url.trim_end_matches('/'), self.mcp_path)
    }

    /// The metadata URL named in every challenge (the path-suffixed form).
    pub fn resource_metadata_url(&self) -> String {
        format!(
            "{}{}{}",
            self.public_url.trim_end_matches('/'),
            protected_resource::WELL_KNOWN_PATH,
            self.mcp_path
        )
    }
}

/// Builds the auth gate for `provider` under `settings`.
pub fn auth_gate(provider: Arc<dyn AuthProvider>, settings: &AppSettings) -> AuthGate {
    let challenge = Challenge {
        resource_metadata: settings.resource_metadata_url(),
        scope: provider.challenge_scope(),
    };
    AuthGate::new(provider, challenge)
}

/// The route tree before layers, so embedders (and later issues) can add to it.
pub fn routes(gate: &AuthGate, settings: &AppSettings) -> Route {
    let mut route = Route::new()
        .at(
            protected_resource::WELL_KNOWN_PATH,
            get(protected_resource::metadata).options(protected_resource::preflight),
        )
        .at(
            format!("{}{}", protected_resource::WELL_KNOWN_PATH, settings.mcp_path),
            get(protected_resource::metadata).options(protected_resource::preflight),
        )
        .at("/healthz", get(health::live))
        .at("/whoami", get(whoami::whoami).with(RequireAuth(gate.clone())));
    let mut by_path: std::collections::BTreeMap<String, Vec<toolgate_core::ProviderRoute>> = Default::default();
    for provider_route in gate.provider().routes() {
        by_path
            .entry(provider_route.path.clone())
            .or_default()
            .push(provider_route);
    }
    for (path, provider_routes) in by_path {
        route = route.at(path, ProviderEndpoint::new(provider_routes));
    }
    route
}

/// The complete application for `provider`, without an MCP endpoint.
pub fn build_app(provider: Arc<dyn AuthProvider>, settings: &AppSettings) -> impl Endpoint + 'static {
    let gate = auth_gate(provider, settings);
    finish(routes(&gate, settings), gate)
}

/// The complete application with `mcp` mounted at the MCP path behind authentication.
pub fn build_app_with_mcp<E>(gate: AuthGate, settings: &AppSettings, mcp: E) -> impl Endpoint + 'static
where
    E: Endpoint + 'static,
{
    build_app_with(gate, settings, mcp, |route| route)
}

/// The same, with more routes added by `extend` (the REST API, Swagger UI).
pub fn build_app_with<E>(
    gate: AuthGate,
    settings: &AppSettings,
    mcp: E,
    extend: impl FnOnce(Route) -> Route,
) -> impl Endpoint + 'static
where
    E: Endpoint + 'static,
{
    let route = routes(&gate, settings).at(settings.mcp_path.clone(), mcp.with(RequireAuth(gate.clone())));
    finish(extend(route), gate)
}

/// The layers every route gets. `CatchPanic` is the last net: no request path is meant to panic
/// (the crates deny `unwrap`, slicing and indexing there), but if one ever does, that request is
/// answered 500 with an empty body and the connection and server carry on.
fn finish(route: Route, gate: AuthGate) -> impl Endpoint + 'static {
    route
        .data(gate)
        .with(CatchPanic::new())
        .with(RequestIdLayer)
        .into_endpoint()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use poem::http::StatusCode;
    use poem::test::TestClient;
    use poem::{Route, handler};
    use toolgate_core::{AuthProvider, AuthRejection, Principal, ProtectedResourceMetadata, RequestHead};

    use super::{AppSettings, auth_gate, build_app_with};

    /// Refuses everyone; only public routes are reached in this test.
    struct RefuseAll;

    #[async_trait::async_trait]
    impl AuthProvider for RefuseAll {
        fn name(&self) -> &str {
            "refuse-all"
        }

        async fn authenticate(&self, _: RequestHead<'_>) -> Result<Arc<Principal>, AuthRejection> {
            Err(AuthRejection::missing_token())
        }

        fn protected_resource_metadata(&self) -> ProtectedResourceMetadata {
            ProtectedResourceMetadata {
                resource: "http://127.0.0.1:1/mcp".to_owned(),
                authorization_servers: Vec::new(),
                scopes_supported: Vec::new(),
                bearer_methods_supported: vec!["header".to_owned()],
                resource_name: None,
                resource_documentation: None,
            }
        }
    }

    #[handler]
    fn explode() -> &'static str {
        panic!("a bug on a request path")
    }

    #[tokio::test]
    async fn a_panicking_handler_is_a_500_and_the_app_keeps_serving() {
        let settings = AppSettings {
            public_url: "http://127.0.0.1:1".to_owned(),
            mcp_path: "/mcp".to_owned(),
        };
        let provider: Arc<dyn AuthProvider> = Arc::new(RefuseAll);
        let gate = auth_gate(provider, &settings);
        let app = build_app_with(gate, &settings, Route::new(), |route| route.at("/boom", explode));
        let client = TestClient::new(app);
        let response = client.get("/boom").send().await;
        response.assert_status(StatusCode::INTERNAL_SERVER_ERROR);
        assert!(response.0.headers().contains_key("x-request-id"));
        client.get("/healthz").send().await.assert_status_is_ok();
    }
}

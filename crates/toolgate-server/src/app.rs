//! Assembles the server: provider routes, metadata, protected routes, cross-cutting layers.

use std::sync::Arc;

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

fn finish(route: Route, gate: AuthGate) -> impl Endpoint + 'static {
    route.data(gate).with(RequestIdLayer).into_endpoint()
}

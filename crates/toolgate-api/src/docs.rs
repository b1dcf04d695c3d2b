//! The OpenAPI document and Swagger UI, with configuration filled in at start-up.

use std::sync::Arc;

use poem::endpoint::make_sync;
use poem::http::header;
use poem::{Endpoint, EndpointExt, IntoResponse, Route};
use poem_openapi::OpenApiService;
use toolgate_audit::ReadinessProbe;
use toolgate_server::auth::RequireAuthFromData;
use toolgate_server::rate_limit::PrincipalRateLimit;

use crate::allow_header::AllowOn405;
use crate::body_limit::BodyLimit;
use crate::context::{ApiContext, OAuthSettings};
use crate::endpoints::{AuditApi, AuditReadiness, ExplainApi, HealthApi, ReloadApi, ToolsApi, WhoamiApi};
use crate::page_security::PageHeaders;
use crate::security::placeholders;

/// Where the API lives.
pub const API_PREFIX: &str = "/api/v1";
pub const DOCS_PATH: &str = "/docs";

/// Per-operation authentication (poem-openapi `transform`), then the per-principal rate limit.
pub fn authenticated(ep: impl Endpoint) -> impl Endpoint {
    ep.with(PrincipalRateLimit::rest()).with(RequireAuthFromData)
}

type Apis = (WhoamiApi, ToolsApi, ExplainApi, ReloadApi, AuditApi, HealthApi);

fn service(public_url: &str) -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (WhoamiApi, ToolsApi, ExplainApi, ReloadApi, AuditApi, HealthApi),
        "toolgate",
        env!("CARGO_PKG_VERSION"),
    )
    .description("Entra ID sign-in and Cedar policies in front of MCP tools: the REST side.")
    .server(format!("{}{API_PREFIX}", public_url.trim_end_matches('/')))
}

/// The OpenAPI document with the OAuth2 URLs and scopes of this deployment.
#[derive(Debug, Clone)]
pub struct OpenApiDocument {
    pub json: String,
}

/// The generated spec contained every placeholder; a poem-openapi upgrade that changes how it
/// renders them must fail loudly rather than ship a spec pointing nowhere.
#[derive(Debug, thiserror::Error)]
#[error("the generated OpenAPI document no longer contains the placeholder {0}")]
pub struct PlaceholderMissing(&'static str);

impl OpenApiDocument {
    pub fn build(public_url: &str, oauth: &OAuthSettings) -> Result<Self, PlaceholderMissing> {
        let mut json = service(public_url).spec();
        for (placeholder, value) in [
            (placeholders::AUTHORIZATION_URL, oauth.authorization_url.clone()),
            (placeholders::TOKEN_URL, oauth.token_url.clone()),
            (placeholders::SCOPE, oauth.scopes.first().cloned().unwrap_or_default()),
        ] {
            if !json.contains(placeholder) {
                return Err(PlaceholderMissing(placeholder));
            }
            json = json.replace(placeholder, &value);
        }
        Ok(Self { json })
    }
}

/// Swagger UI pointing at our document, with `initOAuth` for authorization code + PKCE and the
/// client id and scopes prefilled. poem-openapi's page never calls `initOAuth`, so it is
/// injected after the `SwaggerUIBundle({…})` call, whose text is checked to still be there.
fn swagger_page(
    service: &OpenApiService<Apis, ()>,
    document: &OpenApiDocument,
    oauth: &OAuthSettings,
) -> Result<String, PlaceholderMissing> {
    const ANCHOR: &str = "deepLinking: true,\n    })";
    let html = service.swagger_ui_html();
    let Some((spec_start, rest)) = html.split_once("let spec = ") else {
        return Err(PlaceholderMissing("let spec = "));
    };
    if !html.contains(ANCHOR) {
        return Err(PlaceholderMissing("SwaggerUIBundle({… deepLinking: true })"));
    }
    let Some((_, after_spec)) = rest.split_once(";\n") else {
        return Err(PlaceholderMissing("let spec = …;"));
    };
    let init_oauth = format!(
        "{ANCHOR}.initOAuth({{clientId: {}, usePkceWithAuthorizationCodeGrant: true, scopes: {}}});",
        script_json(&serde_json::Value::from(oauth.client_id.clone())),
        script_json(&serde_json::Value::from(oauth.scopes.join(" "))),
    );
    let page = format!(
        "{spec_start}let spec = {};\n{}",
        script_json_text(&document.json),
        after_spec.replacen(ANCHOR, &init_oauth, 1)
    );
    Ok(page)
}

/// JSON placed inside a `<script>` element: `<` is escaped so no value (a description, a
/// configured client id) can close the element.
fn script_json(value: &serde_json::Value) -> String {
    script_json_text(&value.to_string())
}

fn script_json_text(json: &str) -> String {
    json.replace('<', "\\u003c")
}

/// Swagger UI's OAuth2 redirect page, served by us (see the file's header).
const OAUTH_RECEIVER_HTML: &str = include_str!("oauth-receiver.html");

/// The API's routes with their documents prepared (placeholders replaced, Swagger page built,
/// its security headers computed).
pub struct ApiRoutes {
    service: OpenApiService<Apis, ()>,
    document: OpenApiDocument,
    page: String,
    page_headers: PageHeaders,
    receiver_headers: PageHeaders,
}

impl ApiRoutes {
    /// Prepares the spec and Swagger page for this deployment; fails if poem-openapi's output no
    /// longer has the text we patch.
    pub fn prepare(public_url: &str, oauth: &OAuthSettings) -> Result<Self, PlaceholderMissing> {
        let service = service(public_url);
        let document = OpenApiDocument::build(public_url, oauth)?;
        let page = swagger_page(&service, &document, oauth)?;
        // Swagger UI calls the API (the spec's server URL) and redeems codes at the token
        // endpoint; nothing else.
        let page_headers = PageHeaders::swagger_ui(&page, &[public_url, &oauth.token_url]);
        Ok(Self {
            service,
            document,
            page,
            page_headers,
            receiver_headers: PageHeaders::oauth_receiver(OAUTH_RECEIVER_HTML),
        })
    }

    pub fn document(&self) -> &OpenApiDocument {
        &self.document
    }

    /// Adds to `route`: `/api/v1/…` operations (each with its body limit, checked first),
    /// `/api/v1/openapi.json`, `/docs` (Swagger UI) and its OAuth redirect page
    /// `/docs/oauth-receiver.html` (both with CSP and framing headers). The app must carry the
    /// `AuthGate` as data.
    pub fn mount(self, route: Route, context: ApiContext) -> Route {
        let Self {
            service,
            document,
            page,
            page_headers,
            receiver_headers,
        } = self;
        let allow = AllowOn405::from_spec(&document.json);
        let spec = document.json;
        let readiness = AuditReadiness(context.audit.clone().map(|store| Arc::new(ReadinessProbe::new(store))));
        let docs = Route::new()
            .at("/", make_sync(move |_| page_headers.respond(page.clone())))
            .at(
                "/oauth-receiver.html",
                make_sync(move |_| receiver_headers.respond(OAUTH_RECEIVER_HTML.to_owned())),
            );
        route
            .at(
                format!("{API_PREFIX}/openapi.json"),
                make_sync(move |_| {
                    spec.clone()
                        .with_content_type("application/json")
                        .with_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
                        .into_response()
                }),
            )
            .nest(
                API_PREFIX,
                service.data(context).data(readiness).with(allow).with(BodyLimit),
            )
            .nest(DOCS_PATH, docs)
    }
}

#[cfg(test)]
mod tests {
    use super::script_json;

    #[test]
    fn json_in_a_script_element_cannot_close_it() {
        let escaped = script_json(&serde_json::Value::from("x</script><script>alert(1)</script>"));
        assert!(!escaped.contains('<'), "{escaped}");
        let back: String = serde_json::from_str(&escaped).unwrap();
        assert_eq!(back, "x</script><script>alert(1)</script>");
    }
}

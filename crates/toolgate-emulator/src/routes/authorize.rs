//! `/oauth2/v2.0/authorize` (and v1): validates the client and redirect URI first (errors there
//! are an HTML page, since Entra never redirects to an unverified URI), then scopes, then signs a
//! user in: the login page, its POST, or `prompt=none` + `login_hint` for tests and the CLI.

use std::sync::Arc;

use poem::http::StatusCode;
use poem::web::{Data, Form, Path, Query};
use poem::{Request, Response, handler};

use crate::config::{AppConfig, UserConfig};
use crate::directory::TenantSegment;
use crate::errors::AadError;
use crate::routes::{login_page, param};
use crate::scopes::{self, GRAPH_RESOURCE, ResolvedScopes, Resource};
use crate::state::{AuthCode, EmulatorState, Grant, now, random_token};

type Params = Vec<(String, String)>;

#[handler]
pub(crate) fn get_v2(
    state: Data<&Arc<EmulatorState>>,
    Path(tenant): Path<String>,
    Query(params): Query<Params>,
    req: &Request,
) -> Response {
    authorize(&state, &tenant, &params, None, false, req.uri().path())
}

#[handler]
pub(crate) fn post_v2(
    state: Data<&Arc<EmulatorState>>,
    Path(tenant): Path<String>,
    Form(params): Form<Params>,
    req: &Request,
) -> Response {
    let username = param(&params, "username").map(str::to_owned);
    authorize(
        &state,
        &tenant,
        &params,
        username.as_deref().or(Some("")),
        false,
        req.uri().path(),
    )
}

#[handler]
pub(crate) fn get_v1(
    state: Data<&Arc<EmulatorState>>,
    Path(tenant): Path<String>,
    Query(params): Query<Params>,
    req: &Request,
) -> Response {
    authorize(&state, &tenant, &params, None, true, req.uri().path())
}

#[handler]
pub(crate) fn post_v1(
    state: Data<&Arc<EmulatorState>>,
    Path(tenant): Path<String>,
    Form(params): Form<Params>,
    req: &Request,
) -> Response {
    let username = param(&params, "username").map(str::to_owned);
    authorize(
        &state,
        &tenant,
        &params,
        username.as_deref().or(Some("")),
        true,
        req.uri().path(),
    )
}

/// B2C user flows: `/{tenant}/{policy}/oauth2/v2.0/authorize`. The policy must be one of the
/// B2C tenant's; the code it issues is bound to it.
#[handler]
pub(crate) fn get_b2c(
    state: Data<&Arc<EmulatorState>>,
    Path((tenant, policy)): Path<(String, String)>,
    Query(params): Query<Params>,
    req: &Request,
) -> Response {
    match crate::b2c::policy_of(&state, &tenant, &policy) {
        Ok(policy) => authorize_in(&state, &tenant, &params, None, false, req.uri().path(), Some(policy)),
        Err(err) => err.to_html_page(),
    }
}

#[handler]
pub(crate) fn post_b2c(
    state: Data<&Arc<EmulatorState>>,
    Path((tenant, policy)): Path<(String, String)>,
    Form(params): Form<Params>,
    req: &Request,
) -> Response {
    let username = param(&params, "username").map(str::to_owned);
    match crate::b2c::policy_of(&state, &tenant, &policy) {
        Ok(policy) => authorize_in(
            &state,
            &tenant,
            &params,
            username.as_deref().or(Some("")),
            false,
            req.uri().path(),
            Some(policy),
        ),
        Err(err) => err.to_html_page(),
    }
}

/// Where and how to send the answer once the redirect URI is trusted.
struct Reply<'a> {
    redirect_uri: &'a str,
    mode: &'a str,
    state: Option<&'a str>,
}

impl Reply<'_> {
    fn error(&self, err: &AadError) -> Response {
        let mut pairs = vec![
            ("error", err.error.to_owned()),
            ("error_description", err.description()),
        ];
        if let Some(s) = self.state {
            pairs.push(("state", s.to_owned()));
        }
        self.send(&pairs)
    }

    fn send(&self, pairs: &[(&str, String)]) -> Response {
        if self.mode == "form_post" {
            return form_post(self.redirect_uri, pairs);
        }
        let Ok(mut url) = url::Url::parse(self.redirect_uri) else {
            return AadError::redirect_mismatch(self.redirect_uri, "").to_html_page();
        };
        if self.mode == "fragment" {
            let encoded = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())))
                .finish();
            url.set_fragment(Some(&encoded));
        } else {
            url.query_pairs_mut()
                .extend_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())));
        }
        Response::builder()
            .status(StatusCode::FOUND)
            .header("location", url.as_str())
            .finish()
    }
}

fn form_post(redirect_uri: &str, pairs: &[(&str, String)]) -> Response {
    let inputs: String = pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                html_escape::encode_double_quoted_attribute(k),
                html_escape::encode_double_quoted_attribute(v)
            )
        })
        .collect();
    let page = format!(
        "<!DOCTYPE html><html><body onload=\"document.forms[0].submit()\"><form method=\"post\" action=\"{}\">{inputs}<noscript><button>Continue</button></noscript></form></body></html>",
        html_escape::encode_double_quoted_attribute(redirect_uri)
    );
    Response::builder()
        .status(StatusCode::OK)
        .content_type("text/html; charset=utf-8")
        .body(page)
}

fn authorize(
    state: &EmulatorState,
    tenant: &str,
    params: &Params,
    login: Option<&str>,
    v1: bool,
    path: &str,
) -> Response {
    authorize_in(state, tenant, params, login, v1, path, None)
}

fn authorize_in(
    state: &EmulatorState,
    tenant: &str,
    params: &Params,
    login: Option<&str>,
    v1: bool,
    path: &str,
    policy: Option<&str>,
) -> Response {
    let config = &state.config;
    let Some(segment) = config.segment(tenant) else {
        return AadError::unknown_tenant(tenant).to_html_page();
    };
    let Some(client_id) = param(params, "client_id") else {
        return AadError::missing_parameter("client_id").to_html_page();
    };
    let tenant_label = match segment {
        TenantSegment::Tenant(t) => t.id.as_str(),
        TenantSegment::Multi(name) => name,
    };
    let Some(app) = config
        .app(client_id)
        .filter(|a| a.client_id.eq_ignore_ascii_case(client_id))
    else {
        return AadError::unknown_client(client_id, tenant_label).to_html_page();
    };
    if let TenantSegment::Tenant(t) = segment
        && !app_allowed_in(state, app, &t.id)
    {
        return AadError::unknown_client(client_id, &t.id).to_html_page();
    }
    let Some(redirect_uri) = param(params, "redirect_uri") else {
        return AadError::missing_parameter("redirect_uri").to_html_page();
    };
    let Some(platform) = app.redirect_platform(redirect_uri) else {
        return AadError::redirect_mismatch(redirect_uri, &app.client_id).to_html_page();
    };
    let reply = Reply {
        redirect_uri,
        mode: param(params, "response_mode").unwrap_or("query"),
        state: param(params, "state"),
    };
    let response_type = param(params, "response_type").unwrap_or("");
    if response_type != "code" {
        return reply.error(&AadError::unsupported_response_type(response_type));
    }
    let scopes = match requested_scopes(state, params, v1) {
        Ok(s) => s,
        Err(err) => return reply.error(&err),
    };
    let challenge = match pkce_challenge(params) {
        Ok(c) => c,
        Err(err) => return reply.error(&err),
    };
    let tenant_filter = match segment {
        TenantSegment::Tenant(t) => Some(t),
        TenantSegment::Multi(_) => None,
    };
    let user = match login {
        Some(name) => match config.user(tenant_filter, name) {
            Some(u) => u,
            None => return AadError::unknown_user(name).to_html_page(),
        },
        None if param(params, "prompt") == Some("none") => {
            match param(params, "login_hint").and_then(|hint| config.user(tenant_filter, hint)) {
                Some(u) => u,
                None => return reply.error(&AadError::login_required()),
            }
        }
        None => return login_page::render(state, tenant_filter, params, path),
    };
    let Some(user_tenant) = config.tenant(&user.tenant) else {
        return reply.error(&AadError::unknown_tenant(&user.tenant));
    };
    if !app_allowed_in(state, app, &user_tenant.id) {
        return reply.error(&AadError::cross_tenant(&app.client_id, &user_tenant.id));
    }
    let code = issue_code(
        state,
        app,
        user,
        &user_tenant.id,
        scopes,
        platform,
        redirect_uri,
        params,
        challenge,
        policy,
    );
    let mut pairs = vec![("code", code)];
    if let Some(s) = reply.state {
        pairs.push(("state", s.to_owned()));
    }
    pairs.push(("session_state", uuid::Uuid::new_v4().to_string()));
    reply.send(&pairs)
}

/// A single-tenant app exists only in its home tenant.
pub(crate) fn app_allowed_in(state: &EmulatorState, app: &AppConfig, tenant_id: &str) -> bool {
    app.multi_tenant
        || state
            .config
            .tenant(&app.tenant)
            .is_some_and(|home| home.id == tenant_id)
}

/// v2: `scope` (and an optional `resource` that must match it, AADSTS9010010).
/// v1: `resource` names the API; the token gets all of its scopes.
fn requested_scopes(state: &EmulatorState, params: &Params, v1: bool) -> Result<ResolvedScopes, AadError> {
    let resource = param(params, "resource");
    if v1 {
        let resource = resource.unwrap_or(GRAPH_RESOURCE);
        let extra = param(params, "scope").unwrap_or("openid");
        return scopes::resolve(&state.config, &format!("{resource}/.default {extra}"));
    }
    let scope = param(params, "scope").ok_or_else(|| AadError::missing_parameter("scope"))?;
    let resolved = scopes::resolve(&state.config, scope)?;
    if let Some(resource) = resource {
        let matches = match &resolved.resource {
            Resource::App { client_id, .. } => state
                .config
                .app(client_id)
                .is_some_and(|a| a.identifier_uris.iter().any(|u| u == resource)),
            Resource::Graph => resource == GRAPH_RESOURCE,
        };
        if !matches {
            return Err(AadError::resource_mismatch());
        }
    }
    Ok(resolved)
}

/// `code_challenge` with its method (missing method = `plain`, as RFC 7636 says).
fn pkce_challenge(params: &Params) -> Result<Option<(String, String)>, AadError> {
    let Some(challenge) = param(params, "code_challenge") else {
        return Ok(None);
    };
    let method = param(params, "code_challenge_method").unwrap_or("plain");
    if method != "S256" && method != "plain" {
        return Err(AadError::invalid_parameter("code_challenge_method"));
    }
    Ok(Some((challenge.to_owned(), method.to_owned())))
}

#[expect(
    clippy::too_many_arguments,
    reason = "everything a code is bound to, named at the call"
)]
fn issue_code(
    state: &EmulatorState,
    app: &AppConfig,
    user: &UserConfig,
    tenant_id: &str,
    scopes: ResolvedScopes,
    platform: crate::config::RedirectPlatform,
    redirect_uri: &str,
    params: &Params,
    code_challenge: Option<(String, String)>,
    policy: Option<&str>,
) -> String {
    let code = format!("1.A{}", random_token(48));
    let lifetime = i64::try_from(state.config.settings.code_lifetime_secs).unwrap_or(600);
    let record = AuthCode {
        grant: Grant {
            tenant_id: tenant_id.to_owned(),
            client_id: app.client_id.clone(),
            user_oid: user.oid.clone(),
            scopes,
            platform,
            azpacr: "0",
            policy: policy.map(str::to_owned),
        },
        redirect_uri: redirect_uri.to_owned(),
        nonce: param(params, "nonce").map(str::to_owned),
        code_challenge,
        expires_at: now() + lifetime,
        redeemed: false,
    };
    let mut codes = state.codes.lock();
    let current = now();
    codes.retain(|_, c| c.expires_at > current);
    codes.insert(code.clone(), record);
    code
}

//! `/oauth2/v2.0/token` (and v1): client authentication, then one module per grant type.

mod authorization_code;
mod client_credentials;
mod on_behalf_of;
mod refresh_token;

use std::sync::Arc;

use poem::web::{Data, Form, Path};
use poem::{Request, Response, handler};
use serde_json::{Map, Value, json};

use crate::config::AppConfig;
use crate::directory::TenantSegment;
use crate::errors::AadError;
use crate::routes::authorize::app_allowed_in;
use crate::routes::{json_ok, param};
use crate::state::{EmulatorState, Grant, RefreshGrant, now, random_token};
use crate::tokens::{TokenContext, access_claims, id_token_claims, sign_token};

type Params = Vec<(String, String)>;

/// The calling client, after any secret it presented was checked.
pub(crate) struct Client<'a> {
    pub app: &'a AppConfig,
    /// Whether a correct secret was presented.
    pub authenticated: bool,
}

impl Client<'_> {
    /// Confidential flows need the secret (AADSTS7000218 when absent).
    pub(crate) fn require_secret(&self) -> Result<(), AadError> {
        if self.authenticated {
            Ok(())
        } else {
            Err(AadError::secret_required())
        }
    }

    pub(crate) fn azpacr(&self) -> &'static str {
        if self.authenticated { "1" } else { "0" }
    }
}

/// What a grant module sees.
pub(crate) struct TokenRequest<'a> {
    pub state: &'a EmulatorState,
    pub segment: TenantSegment<'a>,
    pub params: &'a Params,
    pub client: Client<'a>,
    /// Browsers send `Origin` cross-origin; SPA codes require it (AADSTS9002327).
    pub has_origin: bool,
    /// The B2C user flow of a `/{tenant}/{policy}/oauth2/v2.0/token` request.
    pub policy: Option<&'a str>,
}

#[handler]
pub(crate) fn token_v2(
    state: Data<&Arc<EmulatorState>>,
    Path(tenant): Path<String>,
    Form(params): Form<Params>,
    req: &Request,
) -> Response {
    respond(token(&state, &tenant, params, req, false, None))
}

#[handler]
pub(crate) fn token_v1(
    state: Data<&Arc<EmulatorState>>,
    Path(tenant): Path<String>,
    Form(params): Form<Params>,
    req: &Request,
) -> Response {
    respond(token(&state, &tenant, params, req, true, None))
}

/// B2C: `/{tenant}/{policy}/oauth2/v2.0/token`.
#[handler]
pub(crate) fn token_b2c(
    state: Data<&Arc<EmulatorState>>,
    Path((tenant, policy)): Path<(String, String)>,
    Form(params): Form<Params>,
    req: &Request,
) -> Response {
    respond(
        crate::b2c::policy_of(&state, &tenant, &policy)
            .and_then(|policy| token(&state, &tenant, params, req, false, Some(policy))),
    )
}

fn respond(result: Result<Value, AadError>) -> Response {
    match result {
        Ok(body) => json_ok(&body),
        Err(err) => err.to_json_response(),
    }
}

fn token(
    state: &EmulatorState,
    tenant: &str,
    mut params: Params,
    req: &Request,
    v1: bool,
    policy: Option<&str>,
) -> Result<Value, AadError> {
    let segment = state
        .config
        .segment(tenant)
        .ok_or_else(|| AadError::unknown_tenant(tenant))?;
    if v1 && param(&params, "scope").is_none() {
        // v1 names the API with `resource`; translate to the v2 form once, here.
        if let Some(resource) = param(&params, "resource").map(str::to_owned) {
            params.push(("scope".into(), format!("{resource}/.default")));
        }
    }
    let basic = basic_credentials(req);
    let client = authenticate(state, segment, &params, basic)?;
    let grant_type = param(&params, "grant_type")
        .ok_or_else(|| AadError::missing_parameter("grant_type"))?
        .to_owned();
    let request = TokenRequest {
        state,
        segment,
        params: &params,
        client,
        has_origin: req.headers().contains_key("origin"),
        policy,
    };
    match grant_type.as_str() {
        "authorization_code" => authorization_code::grant(&request),
        "refresh_token" => refresh_token::grant(&request),
        "client_credentials" => client_credentials::grant(&request),
        "urn:ietf:params:oauth:grant-type:jwt-bearer" => on_behalf_of::grant(&request),
        other => Err(AadError::unsupported_grant_type(other)),
    }
}

/// HTTP Basic client credentials (RFC 6749 §2.3.1: both parts form-urlencoded).
fn basic_credentials(req: &Request) -> Option<(String, String)> {
    let header = req.headers().get("authorization")?.to_str().ok()?;
    let (scheme, b64) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    // Standard base64 → base64url without padding, so the JOSE decoder reads it.
    let url_safe: String = b64
        .trim()
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    let raw = String::from_utf8(toolgate_jose::base64url_decode(url_safe).ok()?).ok()?;
    let (id, secret) = raw.split_once(':')?;
    let decode = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((decode(id)?, decode(secret)?))
}

fn authenticate<'a>(
    state: &'a EmulatorState,
    segment: TenantSegment<'_>,
    params: &Params,
    basic: Option<(String, String)>,
) -> Result<Client<'a>, AadError> {
    let (client_id, secret) = match &basic {
        Some((id, secret)) => (Some(id.as_str()), Some(secret.as_str())),
        None => (param(params, "client_id"), param(params, "client_secret")),
    };
    let client_id = client_id.ok_or_else(|| AadError::missing_parameter("client_id"))?;
    let tenant_label = match segment {
        TenantSegment::Tenant(t) => t.id.as_str(),
        TenantSegment::Multi(name) => name,
    };
    let app = state
        .config
        .app(client_id)
        .filter(|a| a.client_id.eq_ignore_ascii_case(client_id))
        .ok_or_else(|| AadError::unknown_client(client_id, tenant_label))?;
    if let TenantSegment::Tenant(t) = segment
        && !app_allowed_in(state, app, &t.id)
    {
        return Err(AadError::unknown_client(client_id, &t.id));
    }
    let Some(secret) = secret else {
        return Ok(Client {
            app,
            authenticated: false,
        });
    };
    if !app.is_confidential() {
        return Err(AadError::public_client_with_secret());
    }
    let matches = app
        .client_secrets
        .iter()
        .any(|s| aws_lc_rs::constant_time::verify_slices_are_equal(s.expose().as_bytes(), secret.as_bytes()).is_ok());
    if matches {
        Ok(Client {
            app,
            authenticated: true,
        })
    } else {
        Err(AadError::bad_secret(&app.client_id))
    }
}

/// The success body for a delegated grant: access token, ID token with `openid`, and a refresh
/// token only with `offline_access` (Entra's rule).
pub(crate) fn issue_delegated(state: &EmulatorState, grant: Grant, nonce: Option<&str>) -> Result<Value, AadError> {
    let issued_at = now();
    let ctx = TokenContext::from_grant(state, &grant)?;
    let (claims, shape) = access_claims(state, &ctx, issued_at)?;
    let access_token = sign_token(state, &claims, shape)?;
    let lifetime = state.config.settings.token_lifetime_secs;
    let mut body = Map::new();
    body.insert("token_type".into(), json!("Bearer"));
    body.insert("scope".into(), json!(grant.scopes.response_scope()));
    body.insert("expires_in".into(), json!(lifetime));
    body.insert("ext_expires_in".into(), json!(lifetime));
    body.insert("access_token".into(), json!(access_token));
    if grant.scopes.openid
        && let Some(id_claims) = id_token_claims(state, &ctx, nonce, issued_at)
    {
        let shape = crate::tokens::Shape {
            v1: false,
            graph: false,
        };
        body.insert("id_token".into(), json!(sign_token(state, &id_claims, shape)?));
    }
    if grant.scopes.offline_access {
        let refresh_token = format!("1.A{}", random_token(96));
        let rt_lifetime = i64::try_from(state.config.settings.refresh_token_lifetime_secs).unwrap_or(86_400);
        let mut store = state.refresh_tokens.lock();
        store.retain(|_, g| g.expires_at > issued_at);
        store.insert(
            refresh_token.clone(),
            RefreshGrant {
                grant,
                expires_at: issued_at + rt_lifetime,
            },
        );
        body.insert("refresh_token".into(), json!(refresh_token));
    }
    Ok(Value::Object(body))
}

//! Client authentication at `/token` and `/revoke` (RFC 6749 §2.3): public clients name
//! themselves; confidential clients prove their secret with HTTP Basic or in the form, or sign an
//! assertion (`private_key_jwt`, metadata-document clients).

use std::sync::Arc;

use http::header;
use toolgate_core::HttpRequest;

use super::client_assertion::{self, AssertionError};
use crate::client::{ClientKind, RegisteredClient};
use crate::oauth_error::OAuthError;
use crate::proxy::ProxyState;
use crate::registration::TokenEndpointAuthMethod;
use crate::registry::LookupError;
use crate::untrusted::Untrusted;
use crate::web::params::Params;

/// The form of a `/token` or `/revoke` request and the client it authenticates, or the refusal.
pub(crate) async fn form_and_client(
    state: &ProxyState,
    request: &HttpRequest,
) -> Result<(Params, Arc<RegisteredClient>), OAuthError> {
    let params = Params::from_form(request).map_err(|bad| OAuthError::invalid_request(bad.0))?;
    let client = authenticate(state, request, &params).await?;
    Ok((params, client))
}

/// The authenticated client (RFC 6749 §2.3, §3.2.1), or `invalid_client` (401).
pub(crate) async fn authenticate(
    state: &ProxyState,
    request: &HttpRequest,
    params: &Params,
) -> Result<Arc<RegisteredClient>, OAuthError> {
    let basic = basic_credentials(request).map_err(|()| invalid_client("malformed Basic credentials", true))?;
    let used_basic = basic.is_some();
    let (client_id, secret) = match basic {
        Some((id, secret)) => {
            if params.get("client_secret").is_some() {
                return Err(invalid_client("use one client authentication method", true));
            }
            if params.get("client_id").is_some_and(|form_id| form_id != id) {
                return Err(invalid_client("client_id differs from the Basic credentials", true));
            }
            (id, Some(secret))
        }
        None => match params
            .get("client_id")
            .map(str::to_owned)
            .or_else(|| client_assertion::claimed_client(params))
        {
            Some(id) => (id, params.get("client_secret").map(str::to_owned)),
            None => return Err(invalid_client("client authentication is required (client_id)", false)),
        },
    };
    let client = match state.registry.lookup(&client_id).await {
        Ok(Some(client)) => client,
        Ok(None) => return Err(invalid_client("unknown client", used_basic)),
        Err(LookupError::Store(error)) => return Err(error.into()),
        Err(LookupError::Cimd(error)) => {
            tracing::info!(error = %Untrusted::new(&error.to_string()), "CIMD client could not be fetched at the token endpoint");
            return Err(invalid_client(
                "the client's metadata document could not be used",
                used_basic,
            ));
        }
    };
    if client.token_endpoint_auth_method == TokenEndpointAuthMethod::PrivateKeyJwt {
        if used_basic || secret.is_some() {
            return Err(invalid_client(
                "this client authenticates with private_key_jwt",
                used_basic,
            ));
        }
        return match client_assertion::verify(state, &client, params).await {
            Ok(()) => Ok(client),
            Err(AssertionError::Refused(why)) => Err(invalid_client(why, false)),
            Err(AssertionError::Store(error)) => Err(error.into()),
        };
    }
    if params.get("client_assertion").is_some() {
        return Err(invalid_client(
            "this client does not authenticate with an assertion",
            used_basic,
        ));
    }
    match (client.kind, secret) {
        (ClientKind::Confidential, Some(secret)) if client.verify_secret(&secret) => Ok(client),
        (ClientKind::Confidential, _) => Err(invalid_client("client authentication failed", used_basic)),
        (_, Some(_)) => Err(invalid_client("a public client has no secret", used_basic)),
        (_, None) => Ok(client),
    }
}

/// `invalid_client`: 401, with a Basic challenge when Basic was tried (RFC 6749 §5.2).
fn invalid_client(description: &'static str, basic: bool) -> OAuthError {
    OAuthError::invalid_client(description, basic)
}

/// `Authorization: Basic base64(urlencode(id):urlencode(secret))`.
fn basic_credentials(request: &HttpRequest) -> Result<Option<(String, String)>, ()> {
    let Some(value) = request.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| ())?;
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Err(());
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(());
    }
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| ())?;
    let decoded = String::from_utf8(decoded).map_err(|_| ())?;
    let (id, secret) = decoded.split_once(':').ok_or(())?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok(Some((unescape(id), unescape(secret))))
}

//! On-Behalf-Of (`jwt-bearer` + `requested_token_use=on_behalf_of`): a middle-tier API trades a
//! user's access token issued to it for a token to a downstream API, for the same user.

use serde_json::Value;
use toolgate_jose::CompactJws;

use crate::config::RedirectPlatform;
use crate::errors::AadError;
use crate::routes::param;
use crate::routes::token::{TokenRequest, issue_delegated};
use crate::scopes;
use crate::state::{Grant, now};

pub(crate) fn grant(req: &TokenRequest<'_>) -> Result<Value, AadError> {
    if param(req.params, "requested_token_use") != Some("on_behalf_of") {
        return Err(AadError::invalid_parameter("requested_token_use"));
    }
    req.client.require_secret()?;
    let assertion = param(req.params, "assertion").ok_or_else(|| AadError::missing_parameter("assertion"))?;
    let jws = CompactJws::parse(assertion).map_err(|_| AadError::bad_assertion("malformed JWT"))?;
    let kid = jws.header_str("kid").ok_or_else(|| AadError::bad_assertion("no kid"))?;
    let key = req
        .state
        .keys
        .read()
        .published(kid)
        .ok_or_else(|| AadError::bad_assertion("unknown signing key"))?;
    key.public_key()
        .verify_rs256(jws.signing_input.as_bytes(), &jws.signature)
        .map_err(|_| AadError::bad_assertion("invalid signature"))?;
    let claim = |name: &str| jws.payload.get(name).and_then(Value::as_str);
    let exp = jws
        .payload
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or_else(|| AadError::bad_assertion("no exp"))?;
    if exp <= now() {
        return Err(AadError::bad_assertion("expired"));
    }
    let app = req.client.app;
    let aud_ok = claim("aud").is_some_and(|aud| aud == app.client_id || app.identifier_uris.iter().any(|u| u == aud));
    if !aud_ok {
        return Err(AadError::bad_assertion(
            "the assertion audience is not the client presenting it",
        ));
    }
    if claim("scp").is_none() {
        return Err(AadError::bad_assertion(
            "an app-only token cannot be exchanged on behalf of a user",
        ));
    }
    let tid = claim("tid").ok_or_else(|| AadError::bad_assertion("no tid"))?;
    let oid = claim("oid").ok_or_else(|| AadError::bad_assertion("no oid"))?;
    if req.state.config.user_by_oid(oid).is_none() {
        return Err(AadError::bad_assertion("unknown user"));
    }
    let scope = param(req.params, "scope").ok_or_else(|| AadError::missing_parameter("scope"))?;
    let scopes = scopes::resolve(&req.state.config, scope)?;
    let grant = Grant {
        tenant_id: tid.to_owned(),
        client_id: app.client_id.clone(),
        user_oid: oid.to_owned(),
        scopes,
        platform: RedirectPlatform::Web,
        azpacr: "1",
        policy: None,
    };
    issue_delegated(req.state, grant, None)
}

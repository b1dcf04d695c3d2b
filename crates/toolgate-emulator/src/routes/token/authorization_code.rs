//! `grant_type=authorization_code`: single-use codes bound to client, redirect URI and PKCE.

use aws_lc_rs::digest;
use serde_json::Value;

use crate::config::RedirectPlatform;
use crate::errors::AadError;
use crate::routes::param;
use crate::routes::token::{TokenRequest, issue_delegated};
use crate::state::now;

pub(crate) fn grant(req: &TokenRequest<'_>) -> Result<Value, AadError> {
    let code = param(req.params, "code").ok_or_else(|| AadError::missing_parameter("code"))?;
    let record = {
        let mut codes = req.state.codes.lock();
        let record = codes.get_mut(code).ok_or_else(AadError::bad_code)?;
        if record.expires_at <= now() {
            return Err(AadError::bad_code());
        }
        if record.redeemed {
            return Err(AadError::code_redeemed());
        }
        if !record.grant.client_id.eq_ignore_ascii_case(&req.client.app.client_id) {
            return Err(AadError::grant_client_mismatch());
        }
        // A B2C code is redeemed at the user flow that issued it, and an Entra code never at one.
        let same_flow = match (record.grant.policy.as_deref(), req.policy) {
            (None, None) => true,
            (Some(issued), Some(redeemed)) => issued.eq_ignore_ascii_case(redeemed),
            _ => false,
        };
        if !same_flow {
            return Err(AadError::bad_code());
        }
        // Any redemption attempt by the right client burns the code, so a wrong PKCE verifier
        // cannot be retried.
        record.redeemed = true;
        record.clone()
    };
    let redirect_uri = param(req.params, "redirect_uri").ok_or_else(|| AadError::missing_parameter("redirect_uri"))?;
    if redirect_uri != record.redirect_uri {
        return Err(AadError::code_redirect_mismatch());
    }
    match record.grant.platform {
        RedirectPlatform::Spa => {
            if !req.has_origin {
                return Err(AadError::spa_needs_origin());
            }
            if record.code_challenge.is_none() {
                return Err(AadError::spa_needs_pkce());
            }
        }
        RedirectPlatform::Web if req.client.app.is_confidential() => req.client.require_secret()?,
        RedirectPlatform::Web | RedirectPlatform::PublicClient => {}
    }
    if let Some((challenge, method)) = &record.code_challenge {
        let verifier = param(req.params, "code_verifier").ok_or_else(AadError::pkce_verifier_missing)?;
        let computed = if method == "S256" {
            toolgate_jose::base64url_encode(digest::digest(&digest::SHA256, verifier.as_bytes()).as_ref())
        } else {
            verifier.to_owned()
        };
        let equal =
            aws_lc_rs::constant_time::verify_slices_are_equal(computed.as_bytes(), challenge.as_bytes()).is_ok();
        if !equal {
            return Err(AadError::pkce_mismatch());
        }
    }
    let mut grant = record.grant;
    grant.azpacr = req.client.azpacr();
    issue_delegated(req.state, grant, record.nonce.as_deref())
}

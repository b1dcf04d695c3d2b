//! Entra's error shape. Every AADSTS code the emulator reproduces is named here, in one place.

use poem::Response;
use poem::http::StatusCode;
use serde_json::json;

/// An Entra protocol error: an AADSTS code, the OAuth `error` and a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("AADSTS{code}: {message}")]
pub struct AadError {
    pub code: u32,
    pub error: &'static str,
    pub status: u16,
    pub message: String,
}

fn e(code: u32, error: &'static str, status: u16, message: String) -> AadError {
    AadError {
        code,
        error,
        status,
        message,
    }
}

impl AadError {
    pub(crate) fn missing_parameter(name: &str) -> Self {
        e(
            900144,
            "invalid_request",
            400,
            format!("The request body must contain the following parameter: '{name}'."),
        )
    }
    pub(crate) fn invalid_parameter(name: &str) -> Self {
        e(
            70011,
            "invalid_request",
            400,
            format!("The provided value for the input parameter '{name}' is not valid."),
        )
    }
    pub(crate) fn unknown_tenant(tenant: &str) -> Self {
        e(
            90002,
            "invalid_tenant",
            400,
            format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
        )
    }
    /// A B2C user flow the tenant does not have (B2C answers such metadata requests with 404).
    pub(crate) fn unknown_policy(policy: &str, tenant: &str) -> Self {
        e(
            90008,
            "invalid_request",
            404,
            format!("The policy '{policy}' does not exist in tenant '{tenant}'."),
        )
    }
    pub(crate) fn unknown_client(client_id: &str, tenant: &str) -> Self {
        e(
            700016,
            "unauthorized_client",
            400,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant."
            ),
        )
    }
    pub(crate) fn redirect_mismatch(redirect_uri: &str, client_id: &str) -> Self {
        e(
            50011,
            "invalid_request",
            400,
            format!(
                "The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the application '{client_id}'."
            ),
        )
    }
    pub(crate) fn code_redirect_mismatch() -> Self {
        e(
            50011,
            "invalid_grant",
            400,
            "The reply URI specified in the request does not match the reply URI used in the authorization request."
                .into(),
        )
    }
    pub(crate) fn unsupported_response_type(value: &str) -> Self {
        e(
            70005,
            "unsupported_response_type",
            400,
            format!("response_type '{value}' is not supported; the emulator issues authorization codes only."),
        )
    }
    /// v2 endpoint with a `resource` parameter that is not the scopes' resource.
    pub(crate) fn resource_mismatch() -> Self {
        e(
            9010010,
            "invalid_target",
            400,
            "The resource parameter provided in the request doesn't match with the requested scopes.".into(),
        )
    }
    /// One token request may name scopes of one resource only.
    pub(crate) fn multiple_resources() -> Self {
        e(28000, "invalid_scope", 400, "Provided value for the input parameter scope is not valid because it contains more than one resource. Scope {scopes} is not valid.".into())
    }
    pub(crate) fn invalid_scope(scope: &str) -> Self {
        e(
            70011,
            "invalid_scope",
            400,
            format!(
                "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid."
            ),
        )
    }
    pub(crate) fn unknown_resource(resource: &str) -> Self {
        e(
            500011,
            "invalid_resource",
            400,
            format!(
                "The resource principal named {resource} was not found in the tenant. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant."
            ),
        )
    }
    pub(crate) fn login_required() -> Self {
        e(
            50058,
            "login_required",
            400,
            "A silent sign-in request was sent but no user is signed in.".into(),
        )
    }
    pub(crate) fn unknown_user(name: &str) -> Self {
        e(
            50034,
            "invalid_request",
            400,
            format!("The user account {name} does not exist in the directory."),
        )
    }
    pub(crate) fn bad_code() -> Self {
        e(
            70008,
            "invalid_grant",
            400,
            "The provided authorization code or refresh token has expired due to inactivity or is otherwise invalid."
                .into(),
        )
    }
    pub(crate) fn code_redeemed() -> Self {
        e(54005, "invalid_grant", 400, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.".into())
    }
    pub(crate) fn grant_client_mismatch() -> Self {
        e(
            70000,
            "invalid_grant",
            400,
            "Provided grant is invalid or malformed: it was issued to a different client.".into(),
        )
    }
    pub(crate) fn pkce_mismatch() -> Self {
        e(
            501481,
            "invalid_grant",
            400,
            "The Code_Verifier does not match the code_challenge supplied in the authorization request.".into(),
        )
    }
    pub(crate) fn pkce_verifier_missing() -> Self {
        e(
            501481,
            "invalid_grant",
            400,
            "The code_verifier is missing, but a code_challenge was supplied in the authorization request.".into(),
        )
    }
    /// SPA codes must be redeemed cross-origin (Origin header present).
    pub(crate) fn spa_needs_origin() -> Self {
        e(9002327, "invalid_request", 400, "Tokens issued for the 'Single-Page Application' client-type may only be redeemed via cross-origin requests.".into())
    }
    /// SPA codes need PKCE.
    pub(crate) fn spa_needs_pkce() -> Self {
        e(
            9002325,
            "invalid_request",
            400,
            "Proof Key for Code Exchange is required for cross-origin authorization code redemption.".into(),
        )
    }
    pub(crate) fn secret_required() -> Self {
        e(
            7000218,
            "invalid_client",
            401,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.".into(),
        )
    }
    pub(crate) fn bad_secret(client_id: &str) -> Self {
        e(
            7000215,
            "invalid_client",
            401,
            format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
            ),
        )
    }
    pub(crate) fn public_client_with_secret() -> Self {
        e(
            700025,
            "invalid_client",
            401,
            "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.".into(),
        )
    }
    pub(crate) fn bad_refresh_token() -> Self {
        e(
            9002313,
            "invalid_grant",
            400,
            "Invalid request. Request is malformed or invalid.".into(),
        )
    }
    pub(crate) fn refresh_token_expired() -> Self {
        e(
            700082,
            "invalid_grant",
            400,
            "The refresh token has expired due to inactivity.".into(),
        )
    }
    pub(crate) fn client_credentials_scope(scope: &str) -> Self {
        e(
            1002012,
            "invalid_scope",
            400,
            format!(
                "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
            ),
        )
    }
    pub(crate) fn bad_assertion(why: &str) -> Self {
        e(
            50013,
            "invalid_grant",
            400,
            format!("Assertion failed signature validation. [Reason - {why}]"),
        )
    }
    pub(crate) fn unsupported_grant_type(grant: &str) -> Self {
        e(
            70003,
            "unsupported_grant_type",
            400,
            format!("The app requested an unsupported grant type '{grant}'."),
        )
    }
    pub(crate) fn cross_tenant(client_id: &str, tenant: &str) -> Self {
        Self::unknown_client(client_id, tenant)
    }
    /// A request body over the emulator's limit. Entra's front door refuses oversized requests
    /// before any AADSTS logic runs; its nearest code is AADSTS90015 (request too long).
    pub(crate) fn request_too_large(limit_bytes: usize) -> Self {
        e(
            90015,
            "invalid_request",
            413,
            format!("The request body is too long: at most {limit_bytes} bytes are accepted."),
        )
    }
    /// A body that could not be read (a malformed chunk, a connection cut mid-body).
    pub(crate) fn unreadable_body() -> Self {
        e(
            900144,
            "invalid_request",
            400,
            "The request body could not be read.".into(),
        )
    }
    pub(crate) fn server_error(what: &str) -> Self {
        e(90000, "server_error", 500, format!("The emulator failed: {what}."))
    }

    /// `AADSTS…: message` as in `error_description`.
    pub fn description(&self) -> String {
        format!("AADSTS{}: {}", self.code, self.message)
    }

    /// The `/token` JSON body, with Entra's trace/correlation ids and timestamps.
    pub(crate) fn to_json_response(&self) -> Response {
        let trace_id = uuid::Uuid::new_v4().to_string();
        let correlation_id = uuid::Uuid::new_v4().to_string();
        let now = chrono::DateTime::from_timestamp(crate::state::now(), 0).unwrap_or_default();
        let timestamp = now.format("%Y-%m-%d %H:%M:%SZ").to_string();
        let description = format!(
            "{}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {}",
            self.description(),
            now.format("%Y-%m-%d %H:%M:%S%.3fZ"),
        );
        let body = json!({
            "error": self.error,
            "error_description": description,
            "error_codes": [self.code],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": format!("https://login.microsoftonline.com/error?code={}", self.code),
        });
        Response::builder()
            .status(StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST))
            .content_type("application/json; charset=utf-8")
            .header("cache-control", "no-store, no-cache")
            .body(body.to_string())
    }

    /// The HTML error page Entra shows instead of redirecting to an unverified redirect URI.
    pub(crate) fn to_html_page(&self) -> Response {
        let text = html_escape::encode_text(&self.description()).into_owned();
        let page = format!(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Sign in to your account</title></head>\
             <body><h1>Sorry, but we're having trouble signing you in.</h1><p id=\"error\">{text}</p>\
             <p>Request Id: {}</p></body></html>",
            uuid::Uuid::new_v4()
        );
        Response::builder()
            .status(StatusCode::BAD_REQUEST)
            .content_type("text/html; charset=utf-8")
            .body(page)
    }
}

//! The admin gate for explain and audit operations.

use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};
use toolgate_core::Principal;

/// A refusal body, same shape as authentication errors.
#[derive(Debug, Object)]
pub struct ApiError {
    pub error: String,
    pub message: String,
}

impl ApiError {
    pub fn new(error: &str, message: impl Into<String>) -> Json<Self> {
        Json(Self {
            error: error.into(),
            message: message.into(),
        })
    }
}

/// The message of a request poem-openapi could not parse (bad JSON, missing content type, a
/// query value of the wrong type), kept short and free of internals.
pub fn parse_error_message(error: &poem::Error) -> String {
    let message = error.to_string();
    if message.len() > 200 {
        "the request could not be parsed".into()
    } else {
        message
    }
}

/// Only holders of the admin role pass.
pub fn is_admin(principal: &Principal, admin_role: &str) -> bool {
    principal.has_role(admin_role)
}

#[derive(ApiResponse)]
pub enum Forbidden {
    /// The caller lacks the admin role.
    #[oai(status = 403)]
    Forbidden(Json<ApiError>),
}

//! The elicitation tools: `elicitation/create` sent to the client with the schemas the conformance
//! scenarios check (`tools-call-elicitation`, SEP-1034 defaults, SEP-1330 enum shapes).

use rmcp::model::{CallToolResult, ClientResult, ElicitRequestParams, Request, ServerRequest};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer};
use serde::Deserialize;
use serde_json::{Value, json};

use super::text;

#[derive(Deserialize)]
pub(super) struct ElicitationArgs {
    message: String,
}

/// A username and an email, both required.
pub(super) async fn simple(
    args: ElicitationArgs,
    cx: &RequestContext<RoleServer>,
) -> Result<CallToolResult, ErrorData> {
    elicit(cx, &args.message, simple_schema()).await
}

/// Every primitive type with a default (SEP-1034).
pub(super) async fn defaults(cx: &RequestContext<RoleServer>) -> Result<CallToolResult, ErrorData> {
    elicit(
        cx,
        "Please review and update the form fields with defaults",
        defaults_schema(),
    )
    .await
}

/// The five enum shapes of SEP-1330.
pub(super) async fn enums(cx: &RequestContext<RoleServer>) -> Result<CallToolResult, ErrorData> {
    elicit(cx, "Please select options from the enum fields", enums_schema()).await
}

fn simple_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "username": {"type": "string", "description": "User's response"},
            "email": {"type": "string", "description": "User's email address"}
        },
        "required": ["username", "email"]
    })
}

fn defaults_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "User name", "default": "John Doe"},
            "age": {"type": "integer", "description": "User age", "default": 30},
            "score": {"type": "number", "description": "User score", "default": 95.5},
            "status": {
                "type": "string",
                "description": "User status",
                "enum": ["active", "inactive", "pending"],
                "default": "active"
            },
            "verified": {"type": "boolean", "description": "Verification status", "default": true}
        }
    })
}

fn enums_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "untitledSingle": {
                "type": "string",
                "description": "Untitled single-select",
                "enum": ["option1", "option2", "option3"]
            },
            "titledSingle": {
                "type": "string",
                "description": "Titled single-select",
                "oneOf": [
                    {"const": "value1", "title": "First Option"},
                    {"const": "value2", "title": "Second Option"},
                    {"const": "value3", "title": "Third Option"}
                ]
            },
            "legacyEnum": {
                "type": "string",
                "description": "Legacy titled enum",
                "enum": ["opt1", "opt2", "opt3"],
                "enumNames": ["Option One", "Option Two", "Option Three"]
            },
            "untitledMulti": {
                "type": "array",
                "description": "Untitled multi-select",
                "items": {"type": "string", "enum": ["option1", "option2", "option3"]}
            },
            "titledMulti": {
                "type": "array",
                "description": "Titled multi-select",
                "items": {"anyOf": [
                    {"const": "value1", "title": "First Choice"},
                    {"const": "value2", "title": "Second Choice"},
                    {"const": "value3", "title": "Third Choice"}
                ]}
            }
        }
    })
}

/// A form-mode `elicitation/create` request (MCP 2025-11-25) for `schema`.
fn form_request(message: &str, schema: Value) -> Result<ElicitRequestParams, serde_json::Error> {
    serde_json::from_value(json!({"mode": "form", "message": message, "requestedSchema": schema}))
}

async fn elicit(cx: &RequestContext<RoleServer>, message: &str, schema: Value) -> Result<CallToolResult, ErrorData> {
    let supported = cx
        .peer
        .peer_info()
        .is_some_and(|info| info.capabilities.elicitation.is_some());
    if !supported {
        return Ok(CallToolResult::error(text(
            "the client did not declare the elicitation capability",
        )));
    }
    let params = form_request(message, schema)
        .map_err(|e| ErrorData::internal_error(format!("elicitation schema: {e}"), None))?;
    match cx
        .peer
        .send_request(ServerRequest::ElicitRequest(Request::new(params)))
        .await
    {
        Ok(ClientResult::ElicitResult(result)) => Ok(CallToolResult::success(text(format!(
            "Elicitation completed: action={}, content={}",
            json!(result.action),
            result.content.unwrap_or(Value::Null)
        )))),
        Ok(_) => Ok(CallToolResult::error(text(
            "the client answered elicitation/create with another result",
        ))),
        Err(e) => Ok(CallToolResult::error(text(format!("elicitation failed: {e}")))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The typed rmcp schema must keep every shape the scenarios check when it is sent on.
    #[test]
    fn schemas_survive_rmcps_typed_form() {
        for schema in [simple_schema(), defaults_schema(), enums_schema()] {
            let params = form_request("m", schema.clone()).unwrap();
            let sent = serde_json::to_value(&params).unwrap();
            assert_eq!(sent["requestedSchema"]["properties"], schema["properties"]);
        }
    }
}

//! Prompt messages and resource contents (conformance `prompts-get-*` and `resources-read-*`).

use rmcp::ErrorData;
use rmcp::model::{
    ContentBlock, GetPromptResult, JsonObject, PromptMessage, ReadResourceResult, ResourceContents, Role,
};
use serde_json::{Value, json};

use crate::catalog::{
    self, BuiltinPrompt, PNG_BASE64, STATIC_BINARY_URI, STATIC_TEXT, STATIC_TEXT_URI, WATCHED_TEXT, WATCHED_URI,
};

/// Longest prompt argument value echoed back, in bytes.
const MAX_ARGUMENT_BYTES: usize = 4096;

/// The messages of prompt `name` for `arguments`.
///
/// Errors (JSON-RPC `-32602`): an unknown prompt, a required argument that is missing, not a string or
/// longer than 4096 bytes.
pub(crate) fn prompt(name: &str, arguments: JsonObject) -> Result<GetPromptResult, ErrorData> {
    let prompt = BuiltinPrompt::from_name(name)
        .ok_or_else(|| ErrorData::invalid_params(format!("unknown prompt `{name}`"), None))?;
    let messages = match prompt {
        BuiltinPrompt::Simple => vec![PromptMessage::new_text(
            Role::User,
            "This is a simple prompt for testing.",
        )],
        BuiltinPrompt::WithArguments => {
            let (arg1, arg2) = (argument(&arguments, "arg1")?, argument(&arguments, "arg2")?);
            vec![PromptMessage::new_text(
                Role::User,
                format!("Prompt with arguments: arg1='{arg1}', arg2='{arg2}'"),
            )]
        }
        BuiltinPrompt::WithEmbeddedResource => {
            let uri = argument(&arguments, "resourceUri")?;
            vec![
                PromptMessage::new(
                    Role::User,
                    ContentBlock::resource(
                        ResourceContents::text("Embedded resource content for testing.", uri)
                            .with_mime_type("text/plain"),
                    ),
                ),
                PromptMessage::new_text(Role::User, "Please process the embedded resource above."),
            ]
        }
        BuiltinPrompt::WithImage => vec![
            PromptMessage::new(Role::User, ContentBlock::image(PNG_BASE64, "image/png")),
            PromptMessage::new_text(Role::User, "Please analyze the image above."),
        ],
    };
    Ok(GetPromptResult::new(messages).with_description(prompt.prompt().description.unwrap_or_default()))
}

fn argument<'a>(arguments: &'a JsonObject, name: &str) -> Result<&'a str, ErrorData> {
    match arguments.get(name) {
        Some(Value::String(s)) if s.len() <= MAX_ARGUMENT_BYTES => Ok(s),
        Some(Value::String(_)) => Err(ErrorData::invalid_params(
            format!("argument `{name}` is longer than {MAX_ARGUMENT_BYTES} bytes"),
            None,
        )),
        Some(_) => Err(ErrorData::invalid_params(
            format!("argument `{name}` must be a string"),
            None,
        )),
        None => Err(ErrorData::invalid_params(
            format!("missing required argument `{name}`"),
            None,
        )),
    }
}

/// The contents of resource `uri`; JSON-RPC `-32002` (resource not found) for any other URI.
pub(crate) fn resource(uri: &str) -> Result<ReadResourceResult, ErrorData> {
    let contents = match uri {
        STATIC_TEXT_URI => ResourceContents::text(STATIC_TEXT, uri).with_mime_type("text/plain"),
        STATIC_BINARY_URI => ResourceContents::blob(PNG_BASE64, uri).with_mime_type("image/png"),
        WATCHED_URI => ResourceContents::text(WATCHED_TEXT, uri).with_mime_type("text/plain"),
        _ => match catalog::template_id(uri) {
            Some(id) => ResourceContents::text(
                json!({"id": id, "templateTest": true, "data": format!("Data for ID: {id}")}).to_string(),
                uri,
            )
            .with_mime_type("application/json"),
            None => {
                return Err(ErrorData::resource_not_found(
                    "resource not found",
                    Some(json!({"uri": truncated(uri)})),
                ));
            }
        },
    };
    Ok(ReadResourceResult::new(vec![contents]))
}

/// At most the first 256 characters of `s` (error data echoes client input only bounded).
fn truncated(s: &str) -> String {
    s.chars().take(256).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: Value) -> JsonObject {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn prompt_with_arguments_repeats_both() {
        let r = prompt(
            "test_prompt_with_arguments",
            args(json!({"arg1": "hello", "arg2": "world"})),
        )
        .unwrap();
        let text = serde_json::to_string(&r).unwrap();
        assert!(text.contains("hello") && text.contains("world"), "{text}");
    }

    #[test]
    fn prompt_argument_faults_are_invalid_params() {
        for (name, a) in [
            ("test_prompt_with_arguments", json!({"arg1": "x"})),
            ("test_prompt_with_arguments", json!({"arg1": 1, "arg2": "y"})),
            (
                "test_prompt_with_arguments",
                json!({"arg1": "x".repeat(MAX_ARGUMENT_BYTES + 1), "arg2": "y"}),
            ),
            ("test_prompt_with_embedded_resource", json!({})),
            ("no_such_prompt", json!({})),
        ] {
            let err = prompt(name, args(a.clone())).unwrap_err();
            assert_eq!(err.code, rmcp::model::ErrorCode::INVALID_PARAMS, "{name} {a}");
        }
    }

    #[test]
    fn embedded_resource_prompt_embeds_the_given_uri() {
        let r = prompt(
            "test_prompt_with_embedded_resource",
            args(json!({"resourceUri": "test://example-resource"})),
        )
        .unwrap();
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["messages"][0]["content"]["type"], "resource");
        assert_eq!(
            v["messages"][0]["content"]["resource"]["uri"],
            "test://example-resource"
        );
    }

    #[test]
    fn resources_read_by_uri_and_template() {
        let text = serde_json::to_value(resource(STATIC_TEXT_URI).unwrap()).unwrap();
        assert_eq!(text["contents"][0]["text"], STATIC_TEXT);
        assert_eq!(text["contents"][0]["mimeType"], "text/plain");
        let blob = serde_json::to_value(resource(STATIC_BINARY_URI).unwrap()).unwrap();
        assert_eq!(blob["contents"][0]["blob"], PNG_BASE64);
        let data = serde_json::to_value(resource("test://template/123/data").unwrap()).unwrap();
        assert!(data["contents"][0]["text"].as_str().unwrap().contains("123"));
        let err = resource("test://nope").unwrap_err();
        assert_eq!(err.code, rmcp::model::ErrorCode::RESOURCE_NOT_FOUND);
    }
}

//! What the reference upstream offers: its tools, prompts, resources and their fixed contents.
//!
//! Names, arguments and contents follow the server scenarios of `@modelcontextprotocol/conformance`
//! 0.1.16 (active suite); the gateway test tools come after them.

use std::sync::Arc;

use rmcp::model::{JsonObject, Prompt, PromptArgument, Resource, ResourceTemplate, Tool, ToolAnnotations};
use serde_json::{Value, json};

/// A 1×1 red PNG (RFC 2083), base64.
pub(crate) const PNG_BASE64: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC";
/// A 1 ms mono 8-bit 8 kHz WAV of silence (RIFF/WAVE, 52 bytes), base64.
pub(crate) const WAV_BASE64: &str = "UklGRiwAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQgAAACAgICAgICAgA==";

/// Resource URIs (conformance `resources-*` scenarios).
pub(crate) const STATIC_TEXT_URI: &str = "test://static-text";
pub(crate) const STATIC_BINARY_URI: &str = "test://static-binary";
pub(crate) const WATCHED_URI: &str = "test://watched-resource";
pub(crate) const STATIC_TEXT: &str = "This is the content of the static text resource.";
pub(crate) const WATCHED_TEXT: &str = "Watched resource content";
/// RFC 6570 level-1 template of the `resources-templates-read` scenario.
pub(crate) const DATA_TEMPLATE: &str = "test://template/{id}/data";
const DATA_TEMPLATE_PREFIX: &str = "test://template/";
const DATA_TEMPLATE_SUFFIX: &str = "/data";
/// Longest `{id}` the template accepts, in bytes.
pub(crate) const MAX_TEMPLATE_ID_BYTES: usize = 256;

/// Every tool built into the upstream (dynamic tools from `add_tool` come on top).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BuiltinTool {
    SimpleText,
    ImageContent,
    AudioContent,
    EmbeddedResource,
    MultipleContentTypes,
    ToolWithLogging,
    ErrorHandling,
    ToolWithProgress,
    Sampling,
    Elicitation,
    ElicitationSep1034Defaults,
    ElicitationSep1330Enums,
    JsonSchema202012,
    Echo,
    Whoami,
    Transfer,
    AddTool,
    Hang,
    Sleep,
    Crash,
}

impl BuiltinTool {
    pub(crate) const ALL: [Self; 20] = [
        Self::SimpleText,
        Self::ImageContent,
        Self::AudioContent,
        Self::EmbeddedResource,
        Self::MultipleContentTypes,
        Self::ToolWithLogging,
        Self::ErrorHandling,
        Self::ToolWithProgress,
        Self::Sampling,
        Self::Elicitation,
        Self::ElicitationSep1034Defaults,
        Self::ElicitationSep1330Enums,
        Self::JsonSchema202012,
        Self::Echo,
        Self::Whoami,
        Self::Transfer,
        Self::AddTool,
        Self::Hang,
        Self::Sleep,
        Self::Crash,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::SimpleText => "test_simple_text",
            Self::ImageContent => "test_image_content",
            Self::AudioContent => "test_audio_content",
            Self::EmbeddedResource => "test_embedded_resource",
            Self::MultipleContentTypes => "test_multiple_content_types",
            Self::ToolWithLogging => "test_tool_with_logging",
            Self::ErrorHandling => "test_error_handling",
            Self::ToolWithProgress => "test_tool_with_progress",
            Self::Sampling => "test_sampling",
            Self::Elicitation => "test_elicitation",
            Self::ElicitationSep1034Defaults => "test_elicitation_sep1034_defaults",
            Self::ElicitationSep1330Enums => "test_elicitation_sep1330_enums",
            Self::JsonSchema202012 => "json_schema_2020_12_tool",
            Self::Echo => "echo",
            Self::Whoami => "whoami",
            Self::Transfer => "transfer",
            Self::AddTool => "add_tool",
            Self::Hang => "hang",
            Self::Sleep => "sleep",
            Self::Crash => "crash",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }

    fn description(self) -> &'static str {
        match self {
            Self::SimpleText => "Returns one text item.",
            Self::ImageContent => "Returns a 1x1 PNG image.",
            Self::AudioContent => "Returns a short audio/wav clip.",
            Self::EmbeddedResource => "Returns an embedded text resource.",
            Self::MultipleContentTypes => "Returns text, an image and an embedded resource.",
            Self::ToolWithLogging => "Sends three info log messages (notifications/message) 50 ms apart.",
            Self::ErrorHandling => "Always fails: a result with isError true.",
            Self::ToolWithProgress => {
                "Reports progress 0, 50 and 100 of 100 for the request's progressToken, 50 ms apart."
            }
            Self::Sampling => "Asks the client for an LLM completion of `prompt` (sampling/createMessage).",
            Self::Elicitation => "Asks the user for a username and an email (elicitation/create) with `message`.",
            Self::ElicitationSep1034Defaults => "Elicitation whose fields all carry defaults (SEP-1034).",
            Self::ElicitationSep1330Enums => "Elicitation with every enum shape of SEP-1330.",
            Self::JsonSchema202012 => {
                "Tool with JSON Schema 2020-12 features ($schema, $defs, $ref, additionalProperties: false; SEP-1613)."
            }
            Self::Echo => "Returns `text` unchanged.",
            Self::Whoami => {
                "Returns the oid, aud, tid, scp, iss, sub, roles, azp, appid and idtyp claims of the bearer token this upstream received (JSON; null when absent)."
            }
            Self::Transfer => "Transfers `amount` (an integer) in `currency` (EUR or USD).",
            Self::AddTool => {
                "Adds a tool called `name` to this server for every session and sends notifications/tools/list_changed."
            }
            Self::Hang => "Never returns; ends only when the call is cancelled.",
            Self::Sleep => "Returns after `ms` milliseconds (at most 600000), or when cancelled.",
            Self::Crash => "Ends the server at once: the stdio process exits with code 3, the HTTP server aborts.",
        }
    }

    fn input_schema(self) -> Value {
        match self {
            Self::Sampling => object(
                json!({"prompt": {"type": "string", "description": "The prompt to sample"}}),
                &["prompt"],
            ),
            Self::Elicitation => object(
                json!({"message": {"type": "string", "description": "The message shown to the user"}}),
                &["message"],
            ),
            Self::Echo => object(json!({"text": {"type": "string"}}), &["text"]),
            Self::Transfer => object(
                json!({
                    "amount": {"type": "integer", "description": "Whole units to transfer"},
                    "currency": {"type": "string", "enum": ["EUR", "USD"]}
                }),
                &["amount", "currency"],
            ),
            Self::AddTool => object(
                json!({"name": {
                    "type": "string",
                    "description": "The new tool's name: 1-128 of A-Z a-z 0-9 _ - .",
                    "pattern": "^[A-Za-z0-9_.-]{1,128}$"
                }}),
                &["name"],
            ),
            Self::Sleep => object(
                json!({"ms": {"type": "integer", "minimum": 0, "maximum": MAX_SLEEP_MS}}),
                &["ms"],
            ),
            Self::JsonSchema202012 => json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "$defs": {
                    "address": {
                        "type": "object",
                        "properties": {"street": {"type": "string"}, "city": {"type": "string"}}
                    }
                },
                "properties": {"name": {"type": "string"}, "address": {"$ref": "#/$defs/address"}},
                "additionalProperties": false
            }),
            _ => object(json!({}), &[]),
        }
    }

    fn annotations(self) -> Option<ToolAnnotations> {
        match self {
            Self::Echo | Self::Whoami | Self::SimpleText | Self::ImageContent | Self::AudioContent => {
                Some(ToolAnnotations::new().read_only(true))
            }
            Self::Transfer => Some(
                ToolAnnotations::new()
                    .read_only(false)
                    .destructive(true)
                    .idempotent(false),
            ),
            _ => None,
        }
    }

    pub(crate) fn tool(self) -> Tool {
        let tool = Tool::new(self.name(), self.description(), schema_object(self.input_schema()));
        match self.annotations() {
            Some(a) => tool.with_annotations(a),
            None => tool,
        }
    }
}

/// Longest `sleep`, in milliseconds.
pub(crate) const MAX_SLEEP_MS: u64 = 600_000;

/// A tool added at run time by `add_tool`.
pub(crate) fn dynamic_tool(name: &str) -> Tool {
    Tool::new(
        name.to_owned(),
        "Added at run time by add_tool; returns its own name.",
        schema_object(object(json!({}), &[])),
    )
}

fn object(properties: Value, required: &[&str]) -> Value {
    let mut schema = json!({"type": "object", "properties": properties});
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    schema
}

fn schema_object(schema: Value) -> Arc<JsonObject> {
    Arc::new(match schema {
        Value::Object(map) => map,
        _ => JsonObject::new(),
    })
}

/// The prompts (conformance `prompts-*` scenarios).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BuiltinPrompt {
    Simple,
    WithArguments,
    WithEmbeddedResource,
    WithImage,
}

impl BuiltinPrompt {
    pub(crate) const ALL: [Self; 4] = [
        Self::Simple,
        Self::WithArguments,
        Self::WithEmbeddedResource,
        Self::WithImage,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Simple => "test_simple_prompt",
            Self::WithArguments => "test_prompt_with_arguments",
            Self::WithEmbeddedResource => "test_prompt_with_embedded_resource",
            Self::WithImage => "test_prompt_with_image",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    pub(crate) fn prompt(self) -> Prompt {
        let (description, arguments) = match self {
            Self::Simple => ("A prompt without arguments.", None),
            Self::WithArguments => (
                "A prompt that repeats its two arguments.",
                Some(vec![
                    PromptArgument::new("arg1")
                        .with_description("First argument")
                        .with_required(true),
                    PromptArgument::new("arg2")
                        .with_description("Second argument")
                        .with_required(true),
                ]),
            ),
            Self::WithEmbeddedResource => (
                "A prompt that embeds the resource it is given.",
                Some(vec![
                    PromptArgument::new("resourceUri")
                        .with_description("URI of the resource to embed")
                        .with_required(true),
                ]),
            ),
            Self::WithImage => ("A prompt with an image.", None),
        };
        Prompt::new(self.name(), Some(description), arguments)
    }
}

/// Completion candidates for `test_prompt_with_arguments` (matched by prefix).
pub(crate) const COMPLETION_CANDIDATES: [&str; 5] = ["test-value-1", "test-value-2", "testing", "hello", "world"];

/// The listed resources.
pub(crate) fn resources() -> Vec<Resource> {
    [
        (STATIC_TEXT_URI, "static-text", "A fixed text resource.", "text/plain"),
        (
            STATIC_BINARY_URI,
            "static-binary",
            "A fixed binary resource (PNG).",
            "image/png",
        ),
        (
            WATCHED_URI,
            "watched-resource",
            "A resource clients may subscribe to.",
            "text/plain",
        ),
    ]
    .into_iter()
    .map(|(uri, name, description, mime)| {
        Resource::new(uri, name)
            .with_description(description)
            .with_mime_type(mime)
    })
    .collect()
}

/// The resource templates.
pub(crate) fn resource_templates() -> Vec<ResourceTemplate> {
    vec![
        ResourceTemplate::new(DATA_TEMPLATE, "template-data")
            .with_description("JSON data for the `{id}` in the URI.")
            .with_mime_type("application/json"),
    ]
}

/// The `{id}` of a URI matching [`DATA_TEMPLATE`]: non-empty, at most [`MAX_TEMPLATE_ID_BYTES`], no `/`.
pub(crate) fn template_id(uri: &str) -> Option<&str> {
    let id = uri
        .strip_prefix(DATA_TEMPLATE_PREFIX)?
        .strip_suffix(DATA_TEMPLATE_SUFFIX)?;
    (!id.is_empty() && id.len() <= MAX_TEMPLATE_ID_BYTES && !id.contains('/')).then_some(id)
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    use super::*;

    #[test]
    fn every_tool_has_a_unique_name_a_description_and_an_object_schema() {
        let mut names = std::collections::HashSet::new();
        for t in BuiltinTool::ALL {
            assert!(names.insert(t.name()), "duplicate {}", t.name());
            assert_eq!(BuiltinTool::from_name(t.name()), Some(t));
            let tool = t.tool();
            assert!(tool.description.as_deref().is_some_and(|d| !d.is_empty()));
            assert_eq!(tool.input_schema.get("type"), Some(&json!("object")));
        }
        assert_eq!(BuiltinTool::from_name("nope"), None);
    }

    #[test]
    fn transfer_schema_types_its_arguments() {
        let schema = BuiltinTool::Transfer.tool().input_schema;
        assert_eq!(schema["properties"]["amount"]["type"], "integer");
        assert_eq!(schema["properties"]["currency"]["enum"], json!(["EUR", "USD"]));
        assert_eq!(schema["required"], json!(["amount", "currency"]));
    }

    #[test]
    fn media_constants_are_what_they_claim() {
        let png = base64::engine::general_purpose::STANDARD.decode(PNG_BASE64).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        assert_eq!(&png[16..24], &[0, 0, 0, 1, 0, 0, 0, 1], "1x1");
        let wav = base64::engine::general_purpose::STANDARD.decode(WAV_BASE64).unwrap();
        assert_eq!(&wav[..4], b"RIFF");
        assert_eq!(&wav[8..16], b"WAVEfmt ");
        assert_eq!(wav.len(), 52);
    }

    #[test]
    fn template_ids_are_bounded_single_segments() {
        assert_eq!(template_id("test://template/123/data"), Some("123"));
        assert_eq!(template_id("test://template//data"), None);
        assert_eq!(template_id("test://template/a/b/data"), None);
        assert_eq!(template_id("test://template/123"), None);
        assert_eq!(template_id("test://other/123/data"), None);
        let long = format!("test://template/{}/data", "x".repeat(MAX_TEMPLATE_ID_BYTES + 1));
        assert_eq!(template_id(&long), None);
    }
}

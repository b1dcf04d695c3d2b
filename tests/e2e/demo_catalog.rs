//! `policies/catalog.demo.json` (what `toolgate policy --catalog` and policy authors read) must
//! describe the demo tools exactly as the gate sees them.

use toolgate_core::ToolDescriptor;

#[test]
fn the_demo_catalog_file_matches_the_demo_tools() {
    let from_tools = toolgate::build::catalog(&toolgate_demo::tool_tags());
    let from_file =
        toolgate_policy::load_catalog(concat!(env!("CARGO_MANIFEST_DIR"), "/../policies/catalog.demo.json")).unwrap();
    let find = |list: &[ToolDescriptor], name: &str| list.iter().find(|t| t.name == name).cloned().unwrap();
    assert_eq!(from_tools.len(), from_file.len());
    for tool in &from_file {
        let live = find(&from_tools, &tool.name);
        assert_eq!(live.annotations, tool.annotations, "{}", tool.name);
        assert_eq!(live.tags, tool.tags, "{}", tool.name);
        // Same typed inputs (descriptions and formats may differ).
        let keys = |schema: &serde_json::Value| {
            let mut props: Vec<(String, String)> = schema["properties"]
                .as_object()
                .map(|p| {
                    p.iter()
                        .map(|(k, v)| (k.clone(), v["type"].as_str().unwrap_or("?").to_owned()))
                        .collect()
                })
                .unwrap_or_default();
            props.sort();
            let mut required: Vec<String> = schema["required"]
                .as_array()
                .map(|r| r.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            required.sort();
            (props, required)
        };
        assert_eq!(keys(&live.input_schema), keys(&tool.input_schema), "{}", tool.name);
    }
}

//! Reading the tool catalog (a JSON list of tool descriptors) from a file.

use std::path::Path;

use serde::Deserialize;
use toolgate_core::{Catalog, ToolDescriptor};

use crate::error::PolicyError;

/// Reads the tools of a JSON catalog such as `policies/catalog.demo.json`.
pub fn load_catalog(path: impl AsRef<Path>) -> Result<Vec<ToolDescriptor>, PolicyError> {
    read_catalog(path).map(|catalog| catalog.tools)
}

/// Reads a catalog snapshot: a JSON list of tool descriptors, or a whole [`Catalog`] object
/// (`{"tools": [...], "prompts": [...], "resources": [...]}`, as `toolgate policy catalog`
/// saves it).
pub fn read_catalog(path: impl AsRef<Path>) -> Result<Catalog, PolicyError> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Snapshot {
        Tools(Vec<ToolDescriptor>),
        Whole(Catalog),
    }
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let snapshot: Snapshot = serde_json::from_str(&text).map_err(|source| PolicyError::Catalog {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(match snapshot {
        Snapshot::Tools(tools) => Catalog::of_tools(tools),
        Snapshot::Whole(catalog) => catalog,
    })
}

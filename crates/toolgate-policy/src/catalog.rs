//! Reading the tool catalog (a JSON list of tool descriptors) from a file.

use std::path::Path;

use toolgate_core::ToolDescriptor;

use crate::error::PolicyError;

/// Reads a JSON catalog such as `policies/catalog.demo.json`.
pub fn load_catalog(path: impl AsRef<Path>) -> Result<Vec<ToolDescriptor>, PolicyError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| PolicyError::Catalog {
        path: path.to_path_buf(),
        source,
    })
}

//! Loading with figment, and errors that name the key and the file.

use std::fmt;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};

use super::raw::RawConfig;

/// A configuration that parsed, with the figment kept to locate keys in later errors.
#[derive(Debug)]
pub struct LoadedConfig {
    pub raw: RawConfig,
    /// The directory of the configuration file: relative paths in it are relative to it.
    pub base_dir: Option<PathBuf>,
    figment: Figment,
}

impl LoadedConfig {
    /// `path` as written in the file: relative to the file's directory.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        match &self.base_dir {
            Some(base) if path.is_relative() => base.join(path),
            _ => path.to_path_buf(),
        }
    }

    /// Where a key's value came from (`toolgate.toml`, `AZURE_TENANT_ID` …), for error messages.
    pub fn origin(&self, key: &str) -> String {
        let describe = |metadata: &figment::Metadata| match &metadata.source {
            Some(source) => format!("{} ({})", source, metadata.name),
            None => metadata.name.to_string(),
        };
        if let Some(metadata) = self.figment.find_metadata(key) {
            return describe(metadata);
        }
        // An absent key: name where its enclosing section came from (`[auth]` in toolgate.toml).
        let mut parent = key;
        while let Some((section, _)) = parent.rsplit_once('.') {
            if let Some(metadata) = self.figment.find_metadata(section) {
                return format!("{}, where it is missing", describe(metadata));
            }
            parent = section;
        }
        "the defaults".into()
    }

    /// An error about `key` (`upstream[2].url`), a key of the table or array `section`, naming
    /// the file `section` came from.
    pub fn error_in_section(&self, section: &str, key: &str, message: impl fmt::Display) -> ConfigError {
        let source = match self.figment.find_metadata(section) {
            Some(metadata) => match &metadata.source {
                Some(source) => format!("{} ({})", source, metadata.name),
                None => metadata.name.to_string(),
            },
            None => "the configuration".into(),
        };
        ConfigError {
            problems: vec![format!("`{key}` in {source}: {message}")],
        }
    }

    /// An error about `key`, naming where it was set.
    pub fn error(&self, key: &str, message: impl fmt::Display) -> ConfigError {
        ConfigError {
            problems: vec![format!("`{key}` in {}: {message}", self.origin(key))],
        }
    }
}

/// Configuration could not be used. Each problem names a key and its source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    pub problems: Vec<String>,
}

impl ConfigError {
    pub fn new(problem: impl Into<String>) -> Self {
        Self {
            problems: vec![problem.into()],
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid configuration")?;
        for problem in &self.problems {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

/// The conventional Azure variables, mapped onto config keys.
const AZURE_ENV: [(&str, &str); 3] = [
    ("AZURE_TENANT_ID", "auth.entra.tenant_id"),
    ("AZURE_CLIENT_ID", "auth.entra.client_id"),
    ("AZURE_CLIENT_SECRET", "auth.entra.client_secret"),
];

fn azure_env() -> Env {
    Env::raw().only(&AZURE_ENV.map(|(var, _)| var)).map(|var| {
        AZURE_ENV
            .iter()
            .find(|(name, _)| var.as_str().eq_ignore_ascii_case(name))
            .map(|(_, key)| (*key).into())
            .unwrap_or_else(|| var.into())
    })
}

/// Loads `path` (TOML), then `AZURE_*`, then `TOOLGATE_*` (`__` separates levels:
/// `TOOLGATE_AUTH__ENTRA__TENANT_ID`). Later sources win.
pub fn load(path: &Path) -> Result<LoadedConfig, ConfigError> {
    if !path.is_file() {
        return Err(ConfigError::new(format!(
            "configuration file {} does not exist",
            path.display()
        )));
    }
    extract(
        with_environment(Figment::new().merge(Toml::file_exact(path))),
        Some(path.to_path_buf()),
    )
}

/// Loads configuration from TOML text alone: the environment is not read, so the result
/// depends only on `toml` (embedders' own configuration, tests).
pub fn load_str(toml: &str) -> Result<LoadedConfig, ConfigError> {
    extract(Figment::new().merge(Toml::string(toml)), None)
}

/// Loads configuration from TOML text, then `AZURE_*` and `TOOLGATE_*` like [`load`]
/// (`toolgate dev`'s embedded defaults, which the environment may adjust).
pub fn load_str_with_env(toml: &str) -> Result<LoadedConfig, ConfigError> {
    extract(with_environment(Figment::new().merge(Toml::string(toml))), None)
}

/// `base`, then `AZURE_*`, then `TOOLGATE_*`; later sources win.
fn with_environment(base: Figment) -> Figment {
    base.merge(azure_env()).merge(
        Env::prefixed("TOOLGATE_")
            .split("__")
            .ignore(&["config", "log", "authority"]),
    )
}

fn extract(figment: Figment, path: Option<PathBuf>) -> Result<LoadedConfig, ConfigError> {
    match figment.extract::<RawConfig>() {
        Ok(raw) => Ok(LoadedConfig {
            raw,
            base_dir: path.and_then(|p| p.parent().map(Path::to_path_buf)),
            figment,
        }),
        Err(errors) => Err(ConfigError {
            problems: errors
                .into_iter()
                .map(|error| describe(&error, path.as_deref()))
                .collect(),
        }),
    }
}

fn describe(error: &figment::Error, path: Option<&Path>) -> String {
    let mut key = error.path.join(".");
    if let figment::error::Kind::MissingField(field) = &error.kind {
        key = if key.is_empty() {
            field.to_string()
        } else {
            format!("{key}.{field}")
        };
    }
    let source = match error.metadata.as_ref() {
        Some(metadata) => match &metadata.source {
            Some(source) => source.to_string(),
            None => metadata.name.to_string(),
        },
        None => path
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "the configuration".into()),
    };
    let key = if key.is_empty() { "<root>".to_owned() } else { key };
    format!("`{key}` in {source}: {}", error.kind)
}

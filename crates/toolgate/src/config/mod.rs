//! Configuration: `toolgate.toml` + `TOOLGATE_*` environment variables, plus the conventional
//! `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and `AZURE_CLIENT_SECRET`.
//!
//! What users write ([`raw`], `deny_unknown_fields`) is checked into validated settings by
//! [`crate::build`]; every error names the key and the file it came from.

mod dev;
mod load;
pub mod rate_limits;
pub mod raw;

pub use dev::{dev_config, dev_proxy_config};
pub use load::{ConfigError, LoadedConfig, load, load_str, load_str_with_env};

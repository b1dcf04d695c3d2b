//! `toolgate migrate`: apply the audit database migrations (they also run at start).

use std::path::PathBuf;

use clap::Args;
use toolgate_audit::AuditStore;

use crate::build::DEFAULT_AUDIT_DB;
use crate::cli::exit;
use crate::config;

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Take the database URL from this configuration file's `[audit]` section.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Or name the database directly (`sqlite://file?mode=rwc`, `postgres://…`).
    #[arg(long, conflicts_with = "config")]
    pub database_url: Option<String>,
}

pub async fn execute(args: MigrateArgs) -> u8 {
    let url = match (&args.database_url, &args.config) {
        (Some(url), _) => url.clone(),
        (None, Some(path)) => match config::load(path) {
            Ok(loaded) => loaded
                .raw
                .audit
                .map(|a| a.database_url)
                .unwrap_or_else(|| DEFAULT_AUDIT_DB.into()),
            Err(error) => return super::config_failure(&error),
        },
        (None, None) => DEFAULT_AUDIT_DB.into(),
    };
    let store = match AuditStore::connect(&url).await {
        Ok(store) => store,
        Err(error) => {
            eprintln!("toolgate migrate: {error}");
            return exit::FAILURE;
        }
    };
    match toolgate_migrations::migrate(store.connection()).await {
        Ok(()) => {
            println!("audit database is up to date");
            exit::OK
        }
        Err(error) => {
            eprintln!("toolgate migrate: {error}");
            exit::FAILURE
        }
    }
}

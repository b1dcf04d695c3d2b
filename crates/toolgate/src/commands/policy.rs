//! `toolgate policy schema|validate|test|catalog`: the policy author's tools.
//!
//! The schema is generated from the catalog: the upstreams of a configuration (`--config`,
//! connecting to them), a saved catalog snapshot (`--catalog`, for CI without the upstreams), or
//! the demo tool set by default. `catalog` prints the snapshot to save.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use toolgate_core::Catalog;
use toolgate_policy::{ClaimMapping, PolicyConfig, PolicyEngine, PolicyError, generate_schema, read_catalog, testing};

use crate::build;
use crate::cli::exit;

#[derive(Debug, Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    pub command: PolicyCommand,
    /// Directory of `*.cedar` policies.
    #[arg(long, global = true, default_value = "policies")]
    pub dir: PathBuf,
    /// A catalog snapshot (what `toolgate policy catalog` prints, or a JSON list of tool
    /// descriptors).
    #[arg(long, global = true, conflicts_with = "config")]
    pub catalog: Option<PathBuf>,
    /// A toolgate configuration: its upstreams are connected to and listed.
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Print the Cedar schema generated from the tool catalog.
    Schema,
    /// Validate the policies in strict mode against the generated schema.
    Validate,
    /// Run policy test tables (TOML): exit 1 if any expectation fails.
    Test {
        /// Test tables.
        #[arg(required = true)]
        tables: Vec<PathBuf>,
    },
    /// Print the catalog (JSON) to save as a snapshot for `--catalog` and `[gateway] catalog`.
    Catalog,
}

/// Why the catalog could not be had.
enum CatalogError {
    Policy(PolicyError),
    Config(crate::config::ConfigError),
}

async fn catalog(args: &PolicyArgs) -> Result<Catalog, CatalogError> {
    if let Some(path) = &args.config {
        let loaded = crate::config::load(path).map_err(CatalogError::Config)?;
        return build::current_catalog(&loaded).await.map_err(CatalogError::Config);
    }
    match &args.catalog {
        Some(path) => read_catalog(path).map_err(CatalogError::Policy),
        None => Ok(Catalog::of_tools(build::catalog(&toolgate_demo::tool_tags()))),
    }
}

fn engine(args: &PolicyArgs, catalog: &Catalog) -> Result<PolicyEngine, PolicyError> {
    let config = PolicyConfig {
        policy_dir: args.dir.clone(),
        shadow: false,
        claims: ClaimMapping::default(),
    };
    PolicyEngine::load_catalog(&config, catalog)
}

fn invalid(error: &PolicyError) -> u8 {
    eprintln!("toolgate policy: {error}");
    exit::CONFIG
}

pub async fn execute(args: PolicyArgs) -> u8 {
    let catalog = match catalog(&args).await {
        Ok(catalog) => catalog,
        Err(CatalogError::Policy(error)) => return invalid(&error),
        Err(CatalogError::Config(error)) => return super::config_failure(&error),
    };
    match &args.command {
        PolicyCommand::Catalog => match serde_json::to_string_pretty(&catalog) {
            Ok(json) => {
                println!("{json}");
                exit::OK
            }
            Err(error) => {
                eprintln!("toolgate policy: {error}");
                exit::FAILURE
            }
        },
        PolicyCommand::Schema => match generate_schema(&catalog.tools, &ClaimMapping::default()) {
            Ok(schema) => {
                println!("{}", schema.text());
                exit::OK
            }
            Err(error) => invalid(&error),
        },
        PolicyCommand::Validate => match engine(&args, &catalog) {
            Ok(engine) => {
                println!(
                    "{} policies valid against the schema of {} tools (policy set {})",
                    engine.policy_ids().len(),
                    catalog.tools.len(),
                    engine.policy_set_hash()
                );
                exit::OK
            }
            Err(error) => invalid(&error),
        },
        PolicyCommand::Test { tables } => {
            let engine = match engine(&args, &catalog) {
                Ok(engine) => engine,
                Err(error) => return invalid(&error),
            };
            let mut all_passed = true;
            for table in tables {
                match testing::run_table_file(&engine, table) {
                    Ok(report) => {
                        println!("{}:\n{report}", table.display());
                        all_passed &= report.passed();
                    }
                    Err(error) => return invalid(&error),
                }
            }
            if all_passed { exit::OK } else { exit::FAILURE }
        }
    }
}

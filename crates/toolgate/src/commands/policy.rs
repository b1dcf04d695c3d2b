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
    /// Directory of `*.cedar` policies (default: `[policy] dir` of `--config`, else `policies`).
    #[arg(long, global = true)]
    pub dir: Option<PathBuf>,
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

/// What the policies are checked against: the catalog, and where the policies and claim mapping
/// come from (the configuration's `[policy]` section under `--config`, flags otherwise).
struct Subject {
    catalog: Catalog,
    policy: PolicyConfig,
}

async fn subject(args: &PolicyArgs) -> Result<Subject, CatalogError> {
    let mut policy = PolicyConfig {
        policy_dir: args.dir.clone().unwrap_or_else(|| PathBuf::from("policies")),
        shadow: false,
        claims: ClaimMapping::default(),
    };
    let catalog = if let Some(path) = &args.config {
        let loaded = crate::config::load(path).map_err(CatalogError::Config)?;
        if args.dir.is_none() {
            policy.policy_dir = loaded.resolve(&loaded.raw.policy.dir);
        }
        policy.claims.extra = loaded.raw.policy.extra_claims.clone();
        build::current_catalog(&loaded).await.map_err(CatalogError::Config)?
    } else {
        match &args.catalog {
            Some(path) => read_catalog(path).map_err(CatalogError::Policy)?,
            None => Catalog::of_tools(build::catalog(&toolgate_demo::tool_tags())),
        }
    };
    Ok(Subject { catalog, policy })
}

fn invalid(error: &PolicyError) -> u8 {
    eprintln!("toolgate policy: {error}");
    exit::CONFIG
}

pub async fn execute(args: PolicyArgs) -> u8 {
    let Subject { catalog, policy } = match subject(&args).await {
        Ok(subject) => subject,
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
        PolicyCommand::Schema => match generate_schema(&catalog.tools, &policy.claims) {
            Ok(schema) => {
                println!("{}", schema.text());
                exit::OK
            }
            Err(error) => invalid(&error),
        },
        PolicyCommand::Validate => match PolicyEngine::load_catalog(&policy, &catalog) {
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
            let engine = match PolicyEngine::load_catalog(&policy, &catalog) {
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

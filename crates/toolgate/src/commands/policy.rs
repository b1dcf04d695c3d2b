//! `toolgate policy schema|validate|test`: the policy author's tools.
//!
//! The schema is generated from the tool catalog: the demo tool set by default, or a JSON list of
//! tool descriptors (`--catalog`) for policies written for other servers.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use toolgate_core::ToolDescriptor;
use toolgate_policy::{ClaimMapping, PolicyConfig, PolicyEngine, PolicyError, generate_schema, load_catalog, testing};

use crate::build;
use crate::cli::exit;

#[derive(Debug, Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    pub command: PolicyCommand,
    /// Directory of `*.cedar` policies.
    #[arg(long, global = true, default_value = "policies")]
    pub dir: PathBuf,
    /// Tool catalog (JSON list of tool descriptors). Default: the demo tool set.
    #[arg(long, global = true)]
    pub catalog: Option<PathBuf>,
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
}

fn catalog(args: &PolicyArgs) -> Result<Vec<ToolDescriptor>, PolicyError> {
    match &args.catalog {
        Some(path) => load_catalog(path),
        None => Ok(build::catalog(&toolgate_demo::tool_tags())),
    }
}

fn engine(args: &PolicyArgs, catalog: &[ToolDescriptor]) -> Result<PolicyEngine, PolicyError> {
    let config = PolicyConfig {
        policy_dir: args.dir.clone(),
        shadow: false,
        claims: ClaimMapping::default(),
    };
    PolicyEngine::load(&config, catalog)
}

fn invalid(error: &PolicyError) -> u8 {
    eprintln!("toolgate policy: {error}");
    exit::CONFIG
}

pub async fn execute(args: PolicyArgs) -> u8 {
    let catalog = match catalog(&args) {
        Ok(catalog) => catalog,
        Err(error) => return invalid(&error),
    };
    match &args.command {
        PolicyCommand::Schema => match generate_schema(&catalog, &ClaimMapping::default()) {
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
                    catalog.len(),
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

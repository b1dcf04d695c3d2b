//! Everything that can go wrong before a decision is made. Decisions themselves never fail:
//! they deny with reasons instead.

use std::fmt;
use std::path::PathBuf;

/// One problem in one policy file, located for a human to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyProblem {
    /// Policy file name as given (`tasks.cedar`).
    pub file: String,
    /// 1-based line; 0 when cedar gave no location.
    pub line: usize,
    /// 1-based column in characters; 0 when cedar gave no location.
    pub col: usize,
    /// Cedar's message, followed by its help when it has one.
    pub message: String,
}

impl fmt::Display for PolicyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file, self.line, self.col, self.message)
    }
}

/// Why a schema, a policy set, a catalog or a test table was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// Policies failed to parse or to validate (strict mode) against the generated schema.
    #[error("invalid policies ({} problem(s)):\n{}", problems.len(), ProblemList(problems))]
    Invalid { problems: Vec<PolicyProblem> },

    /// A file or directory could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The tool catalog is not a JSON list of tool descriptors.
    #[error("tool catalog {} is not a JSON list of tools: {source}", path.display())]
    Catalog {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },

    /// The catalog names the same tool twice: its action would be ambiguous.
    #[error("tool `{name}` appears twice in the catalog")]
    DuplicateTool { name: String },

    /// An extra-claim mapping cannot become a Cedar attribute.
    #[error("claim mapping for `{claim}`: {reason}")]
    ClaimMapping { claim: String, reason: String },

    /// Cedar rejected the generated schema (a bug in the generator, reported with the text).
    #[error("generated Cedar schema rejected: {message}\n{text}")]
    Schema { message: String, text: String },

    /// A policy test table is not valid TOML of the expected shape.
    #[error("policy test table {origin}: {source}")]
    Table {
        origin: String,
        #[source]
        source: Box<toml::de::Error>,
    },
}

struct ProblemList<'a>(&'a [PolicyProblem]);

impl fmt::Display for ProblemList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "  {p}")?;
        }
        Ok(())
    }
}

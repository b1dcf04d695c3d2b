//! Policy test tables (`toolgate policy test FILE`): cases of principal + action + tool +
//! arguments with the expected effect, run against a loaded engine.

use std::fmt;
use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};
use toolgate_core::{Decision, Effect, Groups, Principal, PrincipalKind};

use crate::engine::PolicyEngine;
use crate::error::PolicyError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    #[serde(default, rename = "case")]
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    principal: TablePrincipal,
    action: TableAction,
    tool: String,
    #[serde(default)]
    arguments: Option<Value>,
    expect: Expect,
    /// When given, the determining policy ids must be exactly these (any order).
    #[serde(default)]
    determining: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TablePrincipal {
    kind: TableKind,
    id: String,
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    groups_overage: bool,
    #[serde(default)]
    guest: bool,
    #[serde(default)]
    client_app: Option<String>,
    #[serde(default)]
    claims: Map<String, Value>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum TableKind {
    User,
    App,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum TableAction {
    Call,
    List,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Expect {
    Allow,
    Deny,
}

impl TablePrincipal {
    fn into_principal(self) -> Principal {
        Principal {
            id: self.id,
            kind: match self.kind {
                TableKind::User => PrincipalKind::User,
                TableKind::App => PrincipalKind::App,
            },
            tenant_id: self.tenant,
            object_id: None,
            display_name: None,
            username: None,
            roles: self.roles,
            scopes: self.scopes,
            groups: if self.groups_overage {
                Groups::Overage { source: None }
            } else {
                Groups::Listed { ids: self.groups }
            },
            client_app_id: self.client_app,
            guest: self.guest,
            provider: "policy-test".into(),
            expires_at: 0,
            claims: self.claims,
        }
    }
}

/// The outcome of one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseResult {
    pub name: String,
    /// `call tool` or `list tool`, for the report.
    pub question: String,
    pub expected: Effect,
    /// Determining policies the case required, if it named any.
    pub expected_determining: Option<Vec<String>>,
    pub actual: Decision,
    pub passed: bool,
}

/// Every case of a table, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestReport {
    pub cases: Vec<CaseResult>,
}

impl TestReport {
    /// Whether every case passed (an empty table passes).
    pub fn passed(&self) -> bool {
        self.cases.iter().all(|c| c.passed)
    }

    pub fn failures(&self) -> impl Iterator<Item = &CaseResult> {
        self.cases.iter().filter(|c| !c.passed)
    }
}

fn word(e: Effect) -> &'static str {
    match e {
        Effect::Allow => "allow",
        Effect::Deny => "deny",
    }
}

impl fmt::Display for TestReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.cases {
            if c.passed {
                writeln!(f, "ok    {} ({} → {})", c.name, c.question, word(c.actual.effect()))?;
                continue;
            }
            write!(
                f,
                "FAIL  {} ({}): expected {}, got {}",
                c.name,
                c.question,
                word(c.expected),
                word(c.actual.effect())
            )?;
            if let Some(want) = &c.expected_determining {
                write!(f, "; expected determining [{}]", want.join(", "))?;
            }
            write!(f, "; determining [{}]", c.actual.determining_policies().join(", "))?;
            if !c.actual.errors().is_empty() {
                write!(f, "; errors: {}", c.actual.errors().join("; "))?;
            }
            writeln!(f)?;
        }
        let failed = self.failures().count();
        write!(f, "{} passed, {} failed", self.cases.len() - failed, failed)
    }
}

/// Runs the table in `path` against `engine`.
pub fn run_table_file(engine: &PolicyEngine, path: impl AsRef<Path>) -> Result<TestReport, PolicyError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    run_table_named(engine, &text, &path.display().to_string())
}

/// Runs a table given as TOML text.
pub fn run_table(engine: &PolicyEngine, text: &str) -> Result<TestReport, PolicyError> {
    run_table_named(engine, text, "<text>")
}

fn run_table_named(engine: &PolicyEngine, text: &str, origin: &str) -> Result<TestReport, PolicyError> {
    let table: Table = toml::from_str(text).map_err(|source| PolicyError::Table {
        origin: origin.to_owned(),
        source: Box::new(source),
    })?;
    let cases = table
        .cases
        .into_iter()
        .map(|case| {
            let principal = case.principal.into_principal();
            let (actual, question) = match case.action {
                TableAction::Call => (
                    engine.authorize_call(&principal, &case.tool, case.arguments.as_ref().unwrap_or(&Value::Null)),
                    format!("call {}", case.tool),
                ),
                TableAction::List => (
                    engine.authorize_list(&principal, &case.tool),
                    format!("list {}", case.tool),
                ),
            };
            let expected = match case.expect {
                Expect::Allow => Effect::Allow,
                Expect::Deny => Effect::Deny,
            };
            let determining_ok = case.determining.as_ref().is_none_or(|want| {
                let mut want = want.clone();
                want.sort();
                let mut got = actual.determining_policies().to_vec();
                got.sort();
                want == got
            });
            CaseResult {
                name: case.name,
                question,
                expected,
                expected_determining: case.determining,
                passed: actual.effect() == expected && determining_ok,
                actual,
            }
        })
        .collect();
    Ok(TestReport { cases })
}

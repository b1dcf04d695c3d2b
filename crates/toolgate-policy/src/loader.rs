//! Policy files → one validated `PolicySet` whose policy ids are the `@id` annotations (or
//! `file#index`), with every problem located as `file:line:col`.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::str::FromStr;

use cedar_policy::{PolicyId, PolicySet, Schema, ValidationMode, Validator};
use miette::Diagnostic;

use crate::error::{PolicyError, PolicyProblem};

/// One policy file: its name (for ids and messages) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicySource {
    /// File name, e.g. `tasks.cedar`.
    pub name: String,
    pub text: String,
}

/// Every `*.cedar` file of `dir`, sorted by name so ids and the hash are stable.
pub fn read_dir(dir: &Path) -> Result<Vec<PolicySource>, PolicyError> {
    let io = |source| PolicyError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_file() && path.extension().is_some_and(|e| e == "cedar") {
            paths.push(path);
        }
    }
    paths.sort();
    let mut sources = Vec::with_capacity(paths.len());
    for path in paths {
        let text = std::fs::read_to_string(&path).map_err(|source| PolicyError::Io {
            path: path.clone(),
            source,
        })?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        sources.push(PolicySource { name, text });
    }
    Ok(sources)
}

/// A validated policy set and which of its policies are in shadow mode.
pub(crate) struct LoadedPolicies {
    pub set: PolicySet,
    /// Ids of the policies annotated `@mode("shadow")`: evaluated beside the others, never
    /// enforced.
    pub shadow: HashSet<String>,
}

/// `@mode` absent or `"enforce"`: enforced; `"shadow"`: evaluated, not enforced.
fn is_shadow(mode: Option<&str>) -> Result<bool, String> {
    match mode {
        None | Some("enforce") => Ok(false),
        Some("shadow") => Ok(true),
        Some(other) => Err(other.to_owned()),
    }
}

/// Parses, renames and validates (strict mode) all sources; refuses the set on any problem
/// (an unknown `@mode` value is one).
pub(crate) fn build_policy_set(sources: &[PolicySource], schema: &Schema) -> Result<LoadedPolicies, PolicyError> {
    let mut problems = Vec::new();
    let mut set = PolicySet::new();
    let mut shadow = HashSet::new();
    // policy id → index of the file it came from, to locate validation errors.
    let mut origin: HashMap<String, usize> = HashMap::new();

    for (file_index, src) in sources.iter().enumerate() {
        let parsed = match PolicySet::from_str(&src.text) {
            Ok(p) => p,
            Err(errs) => {
                for e in errs.iter() {
                    problems.push(problem(src, e));
                }
                continue;
            }
        };
        if parsed.templates().next().is_some() {
            problems.push(PolicyProblem {
                file: src.name.clone(),
                line: 0,
                col: 0,
                message: "policy templates are not supported; write static policies".into(),
            });
        }
        // cedar names policies `policy0`, `policy1`… in source order.
        let mut policies: Vec<(usize, &cedar_policy::Policy)> = parsed
            .policies()
            .map(|p| {
                let index = p
                    .id()
                    .to_string()
                    .strip_prefix("policy")
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(usize::MAX);
                (index, p)
            })
            .collect();
        policies.sort_by_key(|(i, _)| *i);
        for (index, p) in policies {
            let id = match p.annotation("id") {
                Some(a) if !a.trim().is_empty() => a.to_owned(),
                Some(_) => {
                    let (line, col) = locate_annotation(&src.text, "");
                    problems.push(PolicyProblem {
                        file: src.name.clone(),
                        line,
                        col,
                        message: "empty @id annotation".into(),
                    });
                    continue;
                }
                None => format!("{}#{index}", src.name),
            };
            if let Some(first) = origin.get(&id) {
                let (line, col) = locate_annotation(&src.text, &id);
                let first_file = sources.get(*first).map(|s| s.name.as_str()).unwrap_or("");
                problems.push(PolicyProblem {
                    file: src.name.clone(),
                    line,
                    col,
                    message: format!("duplicate policy id `{id}` (first used in {first_file})"),
                });
                continue;
            }
            match is_shadow(p.annotation("mode")) {
                Ok(true) => {
                    shadow.insert(id.clone());
                }
                Ok(false) => {}
                Err(mode) => {
                    let (line, col) = locate_annotation(&src.text, &id);
                    problems.push(PolicyProblem {
                        file: src.name.clone(),
                        line,
                        col,
                        message: format!(
                            "policy `{id}`: unknown @mode(\"{mode}\"): expected \"enforce\" or \"shadow\""
                        ),
                    });
                    continue;
                }
            }
            if let Err(e) = set.add(p.new_id(PolicyId::new(id.clone()))) {
                problems.push(PolicyProblem {
                    file: src.name.clone(),
                    line: 0,
                    col: 0,
                    message: e.to_string(),
                });
                continue;
            }
            origin.insert(id, file_index);
        }
    }
    if !problems.is_empty() {
        return Err(PolicyError::Invalid { problems });
    }

    let result = Validator::new(schema.clone()).validate(&set, ValidationMode::Strict);
    for w in result.validation_warnings() {
        tracing::warn!(policy = %w.policy_id(), warning = %w, "policy validation warning");
    }
    for e in result.validation_errors() {
        let src = origin.get(&e.policy_id().to_string()).and_then(|i| sources.get(*i));
        match src {
            Some(src) => problems.push(problem(src, e)),
            None => problems.push(PolicyProblem {
                file: String::new(),
                line: 0,
                col: 0,
                message: e.to_string(),
            }),
        }
    }
    problems.sort_by(|a, b| (&a.file, a.line, a.col, &a.message).cmp(&(&b.file, b.line, b.col, &b.message)));
    if problems.is_empty() {
        Ok(LoadedPolicies { set, shadow })
    } else {
        Err(PolicyError::Invalid { problems })
    }
}

/// A problem from a cedar diagnostic whose spans are offsets into `src.text`.
fn problem(src: &PolicySource, d: &(impl Diagnostic + ToString)) -> PolicyProblem {
    let offset = d.labels().and_then(|mut labels| labels.next()).map(|l| l.offset());
    let (line, col) = offset.map_or((0, 0), |o| line_col(&src.text, o));
    let mut message = d.to_string();
    if let Some(help) = d.help() {
        message.push_str(" (help: ");
        message.push_str(&help.to_string());
        message.push(')');
    }
    PolicyProblem {
        file: src.name.clone(),
        line,
        col,
        message,
    }
}

/// 1-based line and character column of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = text.get(..end).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let last_line = before.rsplit('\n').next().unwrap_or_default();
    let col = last_line.chars().count() + 1;
    (line, col)
}

/// Where `@id("<id>")` appears (cedar does not expose a policy's own location).
fn locate_annotation(text: &str, id: &str) -> (usize, usize) {
    let needle = format!("\"{id}\"");
    for (start, tag) in text.match_indices("@id") {
        let rest = text.get(start + tag.len()..).unwrap_or_default();
        let after = rest.trim_start().strip_prefix('(').map(str::trim_start);
        if after.is_some_and(|a| a.starts_with(&needle)) {
            return line_col(text, start);
        }
    }
    (0, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters() {
        let t = "ab\ncdé\nf";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 3), (2, 1));
        assert_eq!(line_col(t, 7), (2, 4));
        assert_eq!(line_col(t, 8), (3, 1));
        assert_eq!(line_col(t, 100), (3, 2));
    }

    #[test]
    fn locates_annotations() {
        let t = "permit(principal, action, resource);\n@id(\"x\")\nforbid(principal, action, resource);";
        assert_eq!(locate_annotation(t, "x"), (2, 1));
        assert_eq!(locate_annotation(t, "y"), (0, 0));
    }
}

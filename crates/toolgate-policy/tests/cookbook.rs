//! docs/policies.md is tested: every ```cedar block in it must be preceded by
//! `<!-- cookbook: NAME -->`, be exactly tests/cookbook/NAME.cedar, and NAME.toml must pass
//! against it (demo catalog). Every cookbook file must appear in the doc.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;

use common::*;
use toolgate_policy::testing::run_table_file;
use toolgate_policy::{ClaimMapping, PolicyEngine};

/// (recipe name, cedar block text) in document order.
fn doc_blocks(doc: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    let mut lines = doc.lines();
    while let Some(line) = lines.next() {
        let t = line.trim();
        if let Some(name) = t.strip_prefix("<!-- cookbook:").and_then(|r| r.strip_suffix("-->")) {
            marker = Some(name.trim().to_owned());
            continue;
        }
        if t == "```cedar" {
            let mut block = String::new();
            for l in lines.by_ref() {
                if l.trim() == "```" {
                    break;
                }
                block.push_str(l);
                block.push('\n');
            }
            let name = marker
                .take()
                .unwrap_or_else(|| panic!("```cedar block without a cookbook marker:\n{block}"));
            out.push((name, block));
            continue;
        }
        if !t.is_empty() {
            marker = None;
        }
    }
    out
}

#[test]
fn every_cedar_block_in_the_cookbook_is_a_tested_recipe() {
    let doc = std::fs::read_to_string(repo_root().join("docs/policies.md")).unwrap();
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/cookbook");
    let blocks = doc_blocks(&doc);
    assert!(blocks.len() >= 10, "only {} recipes in the doc", blocks.len());
    let catalog = demo_catalog();
    let mut seen = BTreeSet::new();
    for (name, block) in &blocks {
        let file = std::fs::read_to_string(dir.join(format!("{name}.cedar"))).unwrap();
        assert_eq!(
            block.trim(),
            file.trim(),
            "docs/policies.md block `{name}` differs from tests/cookbook/{name}.cedar"
        );
        let engine = PolicyEngine::from_sources(
            &[src(&format!("{name}.cedar"), &file)],
            &catalog,
            false,
            ClaimMapping::default(),
        )
        .unwrap_or_else(|e| panic!("recipe {name}: {e}"));
        let report = run_table_file(&engine, dir.join(format!("{name}.toml"))).unwrap();
        assert!(report.passed(), "recipe {name}:\n{report}");
        assert!(!report.cases.is_empty(), "recipe {name} has no cases");
        seen.insert(name.clone());
    }
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "cedar") {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            assert!(
                seen.contains(&stem),
                "tests/cookbook/{stem}.cedar is not in docs/policies.md"
            );
        }
    }
}

//! Everything that lists the rules agrees with the one rule table (`src/registry.rs` and
//! each rule module): the README's table, the shipped `rules.yaml`, `apimfix rules`, the
//! SARIF rule metadata, and each rule's declared fix availability against what it does.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use apimfix::rules::{FixAvailability, Kind, Rule};

use crate::common::apimfix;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_readme_table_lists_every_rule_in_table_order() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let rows: Vec<Vec<String>> = readme
        .lines()
        .filter(|l| l.starts_with("| [`"))
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_owned())
                .collect()
        })
        .collect();
    let names: Vec<&str> = Rule::ALL.iter().map(|r| r.name()).collect();
    let listed: Vec<String> = rows
        .iter()
        .map(|r| r[0].split('`').nth(1).unwrap_or_default().to_owned())
        .collect();
    assert_eq!(listed, names);
    for (rule, row) in Rule::ALL.iter().zip(&rows) {
        assert_eq!(row[1], rule.default_severity().as_str(), "{}", rule.name());
        let fixable = rule.fix_availability() == FixAvailability::Sometimes;
        assert_eq!(row[2].starts_with("yes"), fixable, "{}", rule.name());
        assert_eq!(
            row[2].starts_with("report only"),
            !fixable,
            "{}",
            rule.name()
        );
        assert_eq!(
            row[2].contains("cross-scope"),
            rule.kind() == Kind::CrossScope,
            "{}",
            rule.name()
        );
        assert_eq!(row[3], rule.summary(), "{}", rule.name());
        assert!(
            readme.contains(&format!("#### {}\n", rule.name())),
            "{} has its README section",
            rule.name()
        );
    }
}

#[test]
fn the_shipped_rules_yaml_has_every_rule_in_table_order() {
    let text = std::fs::read_to_string(root().join("rules.yaml")).unwrap();
    let keys: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("  "))
        .filter(|l| !l.starts_with(' ') && !l.starts_with('#'))
        .filter_map(|l| l.split(':').next())
        .take_while(|k| Rule::ALL.iter().any(|r| r.name() == *k))
        .collect();
    let names: Vec<&str> = Rule::ALL.iter().map(|r| r.name()).collect();
    assert_eq!(keys, names);
}

#[test]
fn apimfix_rules_and_rule_follow_the_table() {
    let out = apimfix().arg("rules").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let listed: Vec<&str> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let names: Vec<&str> = Rule::ALL.iter().map(|r| r.name()).collect();
    assert_eq!(listed, names);
    for rule in Rule::ALL {
        let out = apimfix().args(["rule", rule.name()]).output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains(rule.summary()), "{}", rule.name());
        assert!(text.ends_with(rule.explain()), "{}", rule.name());
        for heading in ["## What it does", "## Why is this bad?", "## References"] {
            assert!(
                rule.explain().contains(heading),
                "{} {heading}",
                rule.name()
            );
        }
    }
}

#[test]
fn sarif_describes_every_rule_of_the_table() {
    let out = apimfix()
        .args(["check", "--output-format", "sarif", "examples"])
        .current_dir(root())
        .output()
        .unwrap();
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let mut names: Vec<&str> = Rule::ALL.iter().map(|r| r.name()).collect();
    names.push("syntax-error");
    assert_eq!(ids, names);
    for (rule, meta) in Rule::ALL.iter().zip(rules) {
        assert_eq!(meta["shortDescription"]["text"], rule.summary());
        assert_eq!(meta["fullDescription"]["text"], rule.summary());
    }
}

/// Rule by rule, whether any finding on the bundled examples and every fixture tree has a
/// fix, and whether any lacks one.
fn fixes_seen() -> BTreeMap<String, (bool, bool)> {
    let out = apimfix()
        .args([
            "check",
            "--output-format",
            "json",
            "examples",
            "tests/fixtures",
        ])
        .current_dir(root())
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut seen: BTreeMap<String, (bool, bool)> = BTreeMap::new();
    for finding in report["findings"].as_array().unwrap() {
        let entry = seen
            .entry(finding["rule"].as_str().unwrap().to_owned())
            .or_default();
        if finding["fix"].is_null() {
            entry.1 = true;
        } else {
            entry.0 = true;
        }
    }
    seen
}

#[test]
fn each_rule_fixes_as_it_declares_on_the_fixtures() {
    let seen = fixes_seen();
    let mut unseen = BTreeSet::new();
    for rule in Rule::ALL {
        let Some(&(fixed, _)) = seen.get(rule.name()) else {
            unseen.insert(rule.name());
            continue;
        };
        match rule.fix_availability() {
            FixAvailability::None => assert!(!fixed, "{} offered a fix", rule.name()),
            FixAvailability::Sometimes => {
                assert!(fixed, "{} declares fixes but offered none", rule.name())
            }
        }
    }
    // Every rule shows up somewhere, so the check above is not vacuous.
    assert!(unseen.is_empty(), "no fixture shows {unseen:?}");
}

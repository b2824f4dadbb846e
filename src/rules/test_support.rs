//! Helpers for rule tests: run the rules (or the fix loop) on a source string.

use crate::layout::Scope;
use crate::repo::RepoFacts;
use crate::rules::{Context, RuleSettings, check};
use crate::rules::{FixMode, fix_until_stable};
use crate::syntax::parse;

/// The findings of rule `name`, as `line:col message`.
pub fn findings_with(
    src: &str,
    scope: Scope,
    settings: &RuleSettings,
    facts: &RepoFacts,
    name: &str,
) -> Vec<String> {
    let doc = parse(src).expect("test source parses");
    let ctx = Context::new(&doc, scope, settings, facts);
    check(&ctx)
        .into_iter()
        .filter(|d| d.rule.name() == name)
        .map(|d| {
            let at = doc.line_index().line_column(src, d.range.start());
            format!("{at} {}", d.message)
        })
        .collect()
}

pub fn findings(src: &str, scope: Scope, name: &str) -> Vec<String> {
    findings_with(
        src,
        scope,
        &RuleSettings::default(),
        &RepoFacts::default(),
        name,
    )
}

/// The text after applying every safe fix until stable; asserts that a second run is a no-op.
pub fn fix_with(src: &str, scope: Scope, settings: &RuleSettings, facts: &RepoFacts) -> String {
    let doc = parse(src).expect("test source parses");
    let run = |doc: &crate::syntax::Document| check(&Context::new(doc, scope, settings, facts));
    let outcome = fix_until_stable(doc, FixMode::SafeOnly, run).expect("fixes converge");
    assert!(
        outcome.dropped.is_empty(),
        "a fix broke the document: {:?}",
        outcome.dropped
    );
    let again = fix_until_stable(parse(&outcome.text).unwrap(), FixMode::SafeOnly, run).unwrap();
    assert_eq!(
        again.text, outcome.text,
        "fixing twice changes the file again"
    );
    outcome.text
}

pub fn fix_all(src: &str, scope: Scope) -> String {
    fix_with(src, scope, &RuleSettings::default(), &RepoFacts::default())
}

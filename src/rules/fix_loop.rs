//! The fix loop: apply fixes, re-parse, check again, until nothing changes.
//!
//! Each pass applies every applicable fix that does not touch another fix's range; the rest
//! wait for the next pass, computed on the new text. The loop is bounded: fixes that keep
//! changing the file are reported by rule name. A pass whose result does not parse is never
//! kept: its fixes are tried one by one, and those that break the document are dropped and
//! reported (an apimfix bug), while the others still apply.

use std::collections::BTreeMap;

use crate::diagnostic::Diagnostic;
use crate::fix::{Applicability, Edit, apply_edits};
use crate::registry::Rule;
use crate::syntax::{Document, Limits, SyntaxError, parse_with};
use crate::text::{Ranged, TextRange};

/// How many passes before giving up. Real repairs need two or three.
pub const MAX_PASSES: usize = 10;

/// Which fixes to apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FixMode {
    SafeOnly,
    /// `--unsafe-fixes`: safe and unsafe fixes.
    IncludeUnsafe,
}

impl FixMode {
    fn applies(self, applicability: Applicability) -> bool {
        match self {
            FixMode::SafeOnly => applicability == Applicability::Safe,
            FixMode::IncludeUnsafe => applicability >= Applicability::Unsafe,
        }
    }
}

/// What the loop did.
#[derive(Debug)]
pub struct FixOutcome {
    /// The fixed text (the input when nothing applied).
    pub text: String,
    /// The fixed document.
    pub document: Document,
    /// How many fixes of each rule were applied.
    pub applied: BTreeMap<Rule, usize>,
    /// Findings left on the fixed text.
    pub remaining: Vec<Diagnostic>,
    /// Fixes that could not be applied (their result did not parse, or their edits
    /// overlapped): never applied.
    pub dropped: Vec<(Rule, BrokenFix)>,
}

/// Why a fix was dropped. Either way an apimfix bug, reported rather than guessed around.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BrokenFix {
    /// Its edits overlap (each other, or those of fixes applied with it).
    #[error("its edits overlap")]
    Overlap,
    /// The text it makes does not parse.
    #[error("its result does not parse: {0}")]
    Syntax(SyntaxError),
}

#[derive(Debug, thiserror::Error)]
pub enum FixError {
    #[error("fixes did not converge after {MAX_PASSES} passes; rules still changing the file: {}", rules.iter().map(|r| r.name()).collect::<Vec<_>>().join(", "))]
    DidNotConverge { rules: Vec<Rule> },
}

/// Applies the fixes `check` finds until none applies.
pub fn fix_until_stable(
    document: Document,
    mode: FixMode,
    mut check: impl FnMut(&Document) -> Vec<Diagnostic>,
) -> Result<FixOutcome, FixError> {
    let mut document = document;
    let mut applied: BTreeMap<Rule, usize> = BTreeMap::new();
    let mut dropped: Vec<(Rule, BrokenFix)> = Vec::new();
    let mut seen: Vec<String> = vec![document.source().to_owned()];
    // One pass more than fixes may take: the last one only checks that nothing is left.
    for pass in 0..=MAX_PASSES {
        let diagnostics = check(&document);
        let candidates: Vec<&Diagnostic> = diagnostics
            .iter()
            .filter(|d| {
                d.fix
                    .as_ref()
                    .is_some_and(|f| mode.applies(f.applicability()))
            })
            .filter(|d| !dropped.iter().any(|(rule, _)| *rule == d.rule))
            .collect();
        if candidates.is_empty() {
            return Ok(FixOutcome {
                text: document.source().to_owned(),
                document,
                applied,
                remaining: diagnostics,
                dropped,
            });
        }
        if pass == MAX_PASSES {
            return Err(FixError::DidNotConverge {
                rules: rules_of(&candidates),
            });
        }
        let chosen = non_conflicting(&candidates);
        let (next, used) = match try_apply(&document, &chosen) {
            Ok(next) => (next, chosen),
            Err(_) => {
                // Find the culprits one by one; keep the fixes that parse alone.
                let mut good = Vec::new();
                for d in &chosen {
                    match try_apply(&document, std::slice::from_ref(d)) {
                        Ok(_) => good.push(*d),
                        Err(e) => dropped.push((d.rule, e)),
                    }
                }
                match try_apply(&document, &good) {
                    Ok(next) if !good.is_empty() => (next, good),
                    Ok(_) => continue,
                    Err(e) => {
                        dropped.extend(good.iter().map(|d| (d.rule, e.clone())));
                        continue;
                    }
                }
            }
        };
        count(&mut applied, &used);
        let chosen = used;
        if seen.iter().any(|s| s == next.source()) {
            return Err(FixError::DidNotConverge {
                rules: rules_of(&chosen),
            });
        }
        seen.push(next.source().to_owned());
        document = next;
    }
    unreachable!("the last pass returns")
}

fn rules_of(diagnostics: &[&Diagnostic]) -> Vec<Rule> {
    let mut rules: Vec<Rule> = diagnostics.iter().map(|d| d.rule).collect();
    rules.sort();
    rules.dedup();
    rules
}

fn count(applied: &mut BTreeMap<Rule, usize>, fixes: &[&Diagnostic]) {
    for d in fixes {
        *applied.entry(d.rule).or_default() += 1;
    }
}

/// The fixes of one pass: in position order, each one whose range neither overlaps nor
/// touches a fix already chosen (two insertions at one offset would be ordered arbitrarily).
fn non_conflicting<'a>(candidates: &[&'a Diagnostic]) -> Vec<&'a Diagnostic> {
    let mut sorted: Vec<&Diagnostic> = candidates.to_vec();
    sorted.sort_by_key(|d| (d.fix.as_ref().map(|f| f.range().start()), d.rule));
    let mut chosen: Vec<&Diagnostic> = Vec::new();
    let mut taken: Vec<TextRange> = Vec::new();
    for d in sorted {
        let Some(fix) = &d.fix else { continue };
        let conflicts = fix.edits().iter().any(|e| {
            let r = e.range();
            taken
                .iter()
                .any(|t| r.start() <= t.end() && t.start() <= r.end())
        });
        if !conflicts {
            taken.extend(fix.edits().iter().map(Ranged::range));
            chosen.push(d);
        }
    }
    chosen
}

fn try_apply(document: &Document, fixes: &[&Diagnostic]) -> Result<Document, BrokenFix> {
    let edits: Vec<&Edit> = fixes
        .iter()
        .filter_map(|d| d.fix.as_ref())
        .flat_map(|f| f.edits())
        .collect();
    let text = apply_edits(document.source(), &edits).ok_or(BrokenFix::Overlap)?;
    parse_with(text, &Limits::default()).map_err(BrokenFix::Syntax)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::Fix;
    use crate::syntax::parse;

    fn finding(rule: Rule, edit: Edit) -> Diagnostic {
        Diagnostic::new(rule, edit.range(), "m").with_fix("t", Fix::safe(edit, []))
    }

    #[test]
    fn fixes_that_undo_each_other_are_reported_by_rule() {
        // One rule adds an attribute, the other removes it: the text cycles.
        let doc = parse("<policies><inbound /></policies>").unwrap();
        let result = fix_until_stable(doc, FixMode::SafeOnly, |doc| {
            let tag = doc.root().child("inbound").unwrap().start_tag();
            if doc.source().contains(" a=\"1\"") {
                vec![finding(
                    Rule::CorsFirst,
                    Edit::deletion(TextRange::new(tag.start() + 8, tag.start() + 14)),
                )]
            } else {
                vec![finding(
                    Rule::BaseFirst,
                    Edit::insertion(tag.start() + 8, " a=\"1\""),
                )]
            }
        });
        let Err(FixError::DidNotConverge { rules }) = result else {
            panic!("expected non-convergence, got {result:?}")
        };
        assert!(rules.contains(&Rule::CorsFirst) || rules.contains(&Rule::BaseFirst));
    }

    #[test]
    fn a_fix_that_breaks_the_document_is_dropped_and_the_others_apply() {
        let doc = parse("<policies><inbound></inbound><outbound></outbound></policies>").unwrap();
        let outcome = fix_until_stable(doc, FixMode::SafeOnly, |doc| {
            let mut out = Vec::new();
            let inbound = doc.root().child("inbound").unwrap();
            if inbound.child("base").is_none() {
                out.push(finding(
                    Rule::BaseMissing,
                    Edit::insertion(inbound.start_tag().end(), "<base />"),
                ));
            }
            let outbound = doc.root().child("outbound").unwrap();
            out.push(finding(
                Rule::CorsOrigins,
                Edit::insertion(outbound.start_tag().end(), "<broken>"),
            ));
            out
        })
        .unwrap();
        assert_eq!(
            outcome.text,
            "<policies><inbound><base /></inbound><outbound></outbound></policies>"
        );
        assert_eq!(outcome.dropped.len(), 1);
        assert_eq!(outcome.dropped[0].0, Rule::CorsOrigins);
        assert_eq!(outcome.applied.get(&Rule::BaseMissing), Some(&1));
    }

    #[test]
    fn touching_fixes_wait_for_the_next_pass() {
        // Two insertions at one offset would be ordered arbitrarily; the second waits.
        let doc = parse("<policies><inbound></inbound></policies>").unwrap();
        let outcome = fix_until_stable(doc, FixMode::SafeOnly, |doc| {
            let inbound = doc.root().child("inbound").unwrap();
            let at = inbound.start_tag().end();
            let mut out = Vec::new();
            if inbound.child("a").is_none() {
                out.push(finding(Rule::BaseMissing, Edit::insertion(at, "<a />")));
            }
            if inbound.child("b").is_none() {
                out.push(finding(Rule::CorsFirst, Edit::insertion(at, "<b />")));
            }
            out
        })
        .unwrap();
        assert_eq!(
            outcome.text,
            "<policies><inbound><b /><a /></inbound></policies>"
        );
        assert_eq!(outcome.applied.values().sum::<usize>(), 2);
    }

    #[test]
    fn unsafe_fixes_apply_only_when_asked() {
        let src = "<policies><inbound></inbound></policies>";
        let check = |doc: &Document| {
            let inbound = doc.root().child("inbound").unwrap();
            if inbound.child("base").is_some() {
                return vec![];
            }
            let edit = Edit::insertion(inbound.start_tag().end(), "<base />");
            vec![
                Diagnostic::new(Rule::BaseMissing, edit.range(), "m")
                    .with_fix("t", Fix::unsafe_(edit, [])),
            ]
        };
        let safe = fix_until_stable(parse(src).unwrap(), FixMode::SafeOnly, check).unwrap();
        assert_eq!(safe.text, src);
        assert_eq!(safe.remaining.len(), 1);
        let all = fix_until_stable(parse(src).unwrap(), FixMode::IncludeUnsafe, check).unwrap();
        assert_eq!(all.text, "<policies><inbound><base /></inbound></policies>");
    }
}

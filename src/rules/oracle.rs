//! The semantic oracle: a fix is offered only when it changes what the gateway runs in the way
//! its rule means, and in no other way.
//!
//! For a fix of the file at `path`, every chain a change of that file can change (product ×
//! API × operation, and the chain without a product; every chain for a fragment) is composed
//! before and after the fix ([`Repo::effective_for`]), and the two are compared:
//!
//! - `cors-first`, `base-first` (moves): each section runs the same statements (as a
//!   multiset: their file, name and text, whitespace aside); the winning `<cors>` (the first
//!   one of the composed inbound) is the same statement; and no more gates run before it than
//!   before the fix.
//! - `base-missing` (an insertion of `<base />`): nothing is lost, and what comes in is exactly
//!   the parent scopes' composed section in that chain.
//! - `cors-origins`, `cors-origin-invalid` (origin lists): every statement but the `<cors>`
//!   statements is the same, in the same order; the `<cors>` statements are the same once
//!   their `<allowed-origins>` are set aside. `cors-origins` may also create a `<cors>` in a
//!   chain where none ran, and the `<cors>` it edits or creates must be the winning one of
//!   some chain: an origin added to a `<cors>` that never wins allows nothing.
//! - any other rule with a fix (`cors-element-order`): the fix stays inside `<cors>`: every
//!   other statement is the same, in the same order, and the `<cors>` statements stand where
//!   they stood.
//!
//! A fix whose result does not parse fails too. The engine drops the fix of a finding whose
//! oracle fails (the finding stays, its message says why there is no fix): a fix a reviewer
//! may accept blind must not need a second look. Without a repo (a single file, stdin with no
//! repo around it) nothing can be composed and the oracle is not asked.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::fix::{Fix, apply_edits};
use crate::policy::Section;
use crate::registry::Rule;
use crate::repo::{Effective, Repo, Statement};
use crate::rules::cors_first::DEFAULT_GATES;
use crate::syntax::{Document, Limits, parse_with};

/// Why a fix fails its oracle: the first difference found, in words.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct OracleFailure(pub String);

/// Checks `fix`, a fix of `rule` on `before` (the current text of the file at `path` in
/// `repo`), against the rule's intended effect on every chain through the file.
pub fn verify(
    repo: &Repo,
    path: &Path,
    before: &Document,
    rule: Rule,
    fix: &Fix,
) -> Result<(), OracleFailure> {
    let edits: Vec<_> = fix.edits().iter().collect();
    let text = apply_edits(before.source(), &edits)
        .ok_or_else(|| OracleFailure("its edits overlap".to_owned()))?;
    let after = parse_with(text, &Limits::default())
        .map_err(|e| OracleFailure(format!("its result does not parse: {}", e.message)))?;
    verify_documents(repo, path, before, &after, rule)
}

/// [`verify`] with the fixed document given.
pub fn verify_documents(
    repo: &Repo,
    path: &Path,
    before: &Document,
    after: &Document,
    rule: Rule,
) -> Result<(), OracleFailure> {
    let (Some(repo_before), Some(repo_after)) = (
        repo.with_document(path, Arc::new(before.clone())),
        repo.with_document(path, Arc::new(after.clone())),
    ) else {
        // Not a policy file of the repo: nothing composes it.
        return Ok(());
    };
    let chains = repo_before.chains_through(path);
    // `cors-origins`: the `<cors>` it edits (or creates) must win in some chain.
    let mut winner_changed = false;
    for chain in &chains {
        let chain = chain.clone();
        let old = repo_before.effective_for(&chain);
        let new = repo_after.effective_for(&chain);
        let (a, b) = (
            winner(old.section(Section::Inbound)),
            winner(new.section(Section::Inbound)),
        );
        winner_changed |= a.map(|w| w.0) != b.map(|w| w.0);
        let failed = match rule {
            Rule::CorsFirst | Rule::BaseFirst => check_move(&old, &new),
            Rule::BaseMissing => check_base_inserted(&repo_before, path, &chain, &old, &new),
            Rule::CorsOrigins => check_origins(&old, &new, true),
            Rule::CorsOriginInvalid => check_origins(&old, &new, false),
            _ => check_inside_cors(&old, &new),
        };
        if let Err(why) = failed {
            return Err(OracleFailure(format!("on {chain}, {why}")));
        }
    }
    if rule == Rule::CorsOrigins && !chains.is_empty() && !winner_changed {
        return Err(OracleFailure(
            "the `<cors>` it changes wins in no chain (a narrower `<cors>` runs first, or the scopes below lack `<base />`)".to_owned(),
        ));
    }
    Ok(())
}

/// A statement as the oracle compares it: its file, its name and its text with whitespace
/// runs made one space (a moved block may be indented anew).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    file: String,
    name: String,
    text: String,
}

fn key(s: &Statement) -> Key {
    Key {
        file: s.file.clone(),
        name: s.name.to_ascii_lowercase(),
        text: squash(&s.source),
    }
}

fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn multiset(statements: &[Statement]) -> BTreeMap<Key, usize> {
    let mut out = BTreeMap::new();
    for s in statements {
        *out.entry(key(s)).or_insert(0) += 1;
    }
    out
}

fn is_cors(s: &Statement) -> bool {
    s.name.eq_ignore_ascii_case("cors")
}

/// Whether a statement holds a gate at any depth (by the default gate list).
fn holds_gate(s: &Statement) -> bool {
    let lower = s.source.to_ascii_lowercase();
    DEFAULT_GATES.iter().any(|g| {
        let open = format!("<{g}");
        lower.match_indices(&open).any(|(at, _)| {
            lower[at + open.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_whitespace() || c == '/' || c == '>')
        })
    })
}

/// The winning `<cors>` of a composed inbound, and how many gates run before it.
fn winner(inbound: &[Statement]) -> Option<(Key, usize)> {
    let at = inbound.iter().position(is_cors)?;
    let gates = inbound[..at].iter().filter(|s| holds_gate(s)).count();
    Some((key(&inbound[at]), gates))
}

fn names(keys: &BTreeMap<Key, usize>) -> String {
    keys.keys()
        .map(|k| format!("`<{}>` ({})", k.name, k.file))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What `a` holds more than `b`.
fn minus(a: &BTreeMap<Key, usize>, b: &BTreeMap<Key, usize>) -> BTreeMap<Key, usize> {
    a.iter()
        .filter_map(|(k, n)| {
            let left = n.saturating_sub(b.get(k).copied().unwrap_or(0));
            (left > 0).then(|| (k.clone(), left))
        })
        .collect()
}

fn check_move(old: &Effective, new: &Effective) -> Result<(), String> {
    for section in Section::ALL {
        let (a, b) = (
            multiset(old.section(section)),
            multiset(new.section(section)),
        );
        if a != b {
            let lost = minus(&a, &b);
            let gained = minus(&b, &a);
            return Err(format!(
                "`<{}>` runs other statements (lost: {}; gained: {})",
                section.tag(),
                or_none(&names(&lost)),
                or_none(&names(&gained))
            ));
        }
    }
    let (a, b) = (
        winner(old.section(Section::Inbound)),
        winner(new.section(Section::Inbound)),
    );
    match (a, b) {
        (None, None) => Ok(()),
        (Some((wa, ga)), Some((wb, gb))) if wa == wb => {
            if gb > ga {
                Err(format!(
                    "more gates run before the winning `<cors>` ({ga} before, {gb} after)"
                ))
            } else {
                Ok(())
            }
        }
        (Some((wa, _)), Some((wb, _))) => Err(format!(
            "the winning `<cors>` changes from the one of {} to the one of {}",
            wa.file, wb.file
        )),
        _ => Err("which `<cors>` wins changes".to_owned()),
    }
}

fn or_none(s: &str) -> &str {
    if s.is_empty() { "none" } else { s }
}

fn check_base_inserted(
    repo: &Repo,
    path: &Path,
    chain: &crate::repo::Chain,
    old: &Effective,
    new: &Effective,
) -> Result<(), String> {
    let levels = repo.levels(chain);
    let Some(id) = repo.file_id(path) else {
        return Ok(());
    };
    let Some(at) = levels.iter().position(|l| l.file == Some(id)) else {
        return Ok(());
    };
    let gates = crate::repo::Gates::default();
    for section in Section::ALL {
        let (a, b) = (
            multiset(old.section(section)),
            multiset(new.section(section)),
        );
        let lost = minus(&a, &b);
        if !lost.is_empty() {
            return Err(format!(
                "`<{}>` no longer runs {}",
                section.tag(),
                names(&lost)
            ));
        }
        let gained = minus(&b, &a);
        if gained.is_empty() {
            continue;
        }
        let parent = multiset(&repo.compose(&levels[at + 1..], section, &gates));
        if gained != parent {
            let stray = minus(&gained, &parent);
            return Err(format!(
                "`<{}>` gains more than the parent's statements: {}",
                section.tag(),
                or_none(&names(&stray))
            ));
        }
    }
    Ok(())
}

/// The text of a `<cors>` statement with its `<allowed-origins>` set aside.
fn without_origins(text: &str) -> String {
    let squashed = squash(text);
    let Some(open) = squashed.find("<allowed-origins") else {
        return squashed;
    };
    let rest = &squashed[open..];
    let end = if let Some(close) = rest.find("</allowed-origins>") {
        open + close + "</allowed-origins>".len()
    } else {
        // `<allowed-origins />`
        open + rest.find("/>").map_or(rest.len(), |e| e + 2)
    };
    format!(
        "{}<allowed-origins/>{}",
        &squashed[..open],
        &squashed[end..]
    )
}

fn check_origins(old: &Effective, new: &Effective, may_create: bool) -> Result<(), String> {
    for section in Section::ALL {
        let (a, b) = (old.section(section), new.section(section));
        let had_cors = a.iter().any(is_cors);
        let b: Vec<&Statement> = if may_create && !had_cors {
            b.iter().filter(|s| !is_cors(s)).collect()
        } else {
            b.iter().collect()
        };
        if a.len() != b.len() {
            return Err(format!(
                "`<{}>` runs {} statements, {} before",
                section.tag(),
                b.len(),
                a.len()
            ));
        }
        for (x, y) in a.iter().zip(b) {
            let same = if is_cors(x) && is_cors(y) {
                x.file == y.file && without_origins(&x.source) == without_origins(&y.source)
            } else {
                key(x) == key(y)
            };
            if !same {
                return Err(format!(
                    "`<{}>` ({}:{}) changes beyond its origins",
                    x.name, x.file, x.line
                ));
            }
        }
    }
    Ok(())
}

fn check_inside_cors(old: &Effective, new: &Effective) -> Result<(), String> {
    for section in Section::ALL {
        let (a, b) = (old.section(section), new.section(section));
        if a.len() != b.len() {
            return Err(format!(
                "`<{}>` runs {} statements, {} before",
                section.tag(),
                b.len(),
                a.len()
            ));
        }
        for (x, y) in a.iter().zip(b) {
            let same = if is_cors(x) {
                is_cors(y) && x.file == y.file
            } else {
                key(x) == key(y)
            };
            if !same {
                return Err(format!("`<{}>` ({}:{}) changes", x.name, x.file, x.line));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(name: &str, file: &str, source: &str) -> Statement {
        Statement {
            name: name.to_owned(),
            path: file.into(),
            file: file.to_owned(),
            scope: crate::layout::Scope::Api,
            line: 1,
            range: crate::text::TextRange::new(0, 0),
            source: source.to_owned(),
            indent: None,
            fragment: None,
        }
    }

    #[test]
    fn gates_are_found_at_any_depth_by_whole_name() {
        assert!(holds_gate(&statement(
            "choose",
            "a",
            "<choose><when><quota calls=\"1\" /></when></choose>"
        )));
        assert!(!holds_gate(&statement("quotation", "a", "<quotation />")));
        assert!(holds_gate(&statement(
            "rate-limit",
            "a",
            "<rate-limit\n calls=\"1\"/>"
        )));
    }

    #[test]
    fn origins_are_set_aside_and_nothing_else() {
        assert_eq!(
            without_origins(
                "<cors>\n <allowed-origins><origin>https://a</origin></allowed-origins>\n <allowed-methods/></cors>"
            ),
            without_origins(
                "<cors> <allowed-origins>\n<origin>https://a</origin><origin>https://b</origin>\n</allowed-origins> <allowed-methods/></cors>"
            )
        );
        assert_ne!(
            without_origins("<cors allow-credentials=\"true\"><allowed-origins /></cors>"),
            without_origins("<cors><allowed-origins /></cors>")
        );
    }
}

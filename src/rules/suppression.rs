//! Suppression comments: how a team keeps a finding on purpose.
//!
//! - `<!-- apimfix-ignore-file: base-missing, cors-first -->` anywhere in the file silences
//!   those rules for the whole file; without names (`<!-- apimfix-ignore-file -->`), every rule.
//! - `<!-- apimfix-ignore: base-missing -->` silences those rules (or all, without names) on
//!   the next element after the comment: findings whose range starts inside that element.

use std::collections::BTreeSet;
use std::str::FromStr;

use crate::rules::Rule;
use crate::syntax::{Document, Node, NodeId, NodeKind};
use crate::text::TextRange;

/// Which rules, where.
#[derive(Default, Debug)]
pub struct Suppressions {
    file: Option<RuleSet>,
    elements: Vec<(TextRange, RuleSet)>,
}

#[derive(Debug)]
enum RuleSet {
    All,
    Some(BTreeSet<Rule>),
}

impl RuleSet {
    /// The rules named after the directive: none named means all; a name that is not a
    /// rule (a typo) silences nothing, rather than everything.
    fn parse(names: &str) -> RuleSet {
        let names: Vec<&str> = names
            .split([',', ' ', '\t'])
            .filter(|n| !n.is_empty())
            .collect();
        if names.is_empty() {
            return RuleSet::All;
        }
        RuleSet::Some(
            names
                .iter()
                .filter_map(|n| Rule::from_str(n).ok())
                .collect(),
        )
    }

    fn merge(self, other: RuleSet) -> RuleSet {
        match (self, other) {
            (RuleSet::All, _) | (_, RuleSet::All) => RuleSet::All,
            (RuleSet::Some(mut a), RuleSet::Some(b)) => {
                a.extend(b);
                RuleSet::Some(a)
            }
        }
    }

    fn contains(&self, rule: Rule) -> bool {
        match self {
            RuleSet::All => true,
            RuleSet::Some(rules) => rules.contains(&rule),
        }
    }
}

/// The rule names after `name` in a comment body, when the body is that directive: the name
/// alone, or followed by `:` or whitespace (`apimfix-ignored` is not `apimfix-ignore`).
fn directive<'b>(body: &'b str, name: &str) -> Option<&'b str> {
    let rest = body.strip_prefix(name)?;
    match rest.chars().next() {
        None => Some(""),
        Some(':') => Some(&rest[1..]),
        Some(c) if c.is_whitespace() => Some(rest),
        Some(_) => None,
    }
}

/// Each comment of `doc`: its node, its text (`<!-- ... -->`) and its body (what is between
/// the markers, trimmed).
fn comments(doc: &Document) -> impl Iterator<Item = (NodeId, &Node, &str, &str)> {
    doc.nodes()
        .filter(|(_, node)| node.kind == NodeKind::Comment)
        .map(|(id, node)| {
            let text = doc.slice(node.range);
            let body = text
                .trim_start_matches("<!--")
                .trim_end_matches("-->")
                .trim();
            (id, node, text, body)
        })
}

/// Each name in an `apimfix-ignore` or `apimfix-ignore-file` comment of `doc` that is not a
/// rule (a typo, which silences nothing), with the byte offset of the name in the source.
pub fn unknown_names(doc: &Document) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (_, node, text, body) in comments(doc) {
        let Some(rest) =
            directive(body, "apimfix-ignore-file").or_else(|| directive(body, "apimfix-ignore"))
        else {
            continue;
        };
        // Where `rest` (a slice of `text`) starts in the comment: names are looked for after
        // it, not in the directive.
        let mut from = rest.as_ptr() as usize - text.as_ptr() as usize;
        for name in rest.split([',', ' ', '\t']).filter(|n| !n.is_empty()) {
            let at = text[from..].find(name).map_or(from, |i| from + i);
            from = at + name.len();
            if Rule::from_str(name).is_err() {
                out.push((node.range.start() + at, name.to_owned()));
            }
        }
    }
    out
}

/// Each comment of `doc` that looks meant for apimfix (it starts with `apimfix-`, in any
/// case; prose such as "apimfix fixed this" does not) but is not one of its directives
/// (`apimfix-ignroe: ...`, `APIMFIX-IGNORE`): it silences nothing. With the byte offset of the word and the word as written.
pub fn unknown_directives(doc: &Document) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (_, node, text, body) in comments(doc) {
        let ours = body
            .get(..8)
            .is_some_and(|start| start.eq_ignore_ascii_case("apimfix-"));
        if !ours
            || directive(body, "apimfix-ignore-file").is_some()
            || directive(body, "apimfix-ignore").is_some()
        {
            continue;
        }
        let word: String = body
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != ':')
            .collect();
        let at = text.find(&word).unwrap_or(0);
        out.push((node.range.start() + at, word));
    }
    out
}

impl Suppressions {
    pub fn read(doc: &Document) -> Suppressions {
        let mut out = Suppressions::default();
        for (id, node, _, body) in comments(doc) {
            if let Some(rest) = directive(body, "apimfix-ignore-file") {
                let set = RuleSet::parse(rest);
                // Several file-level comments add up.
                out.file = Some(match out.file.take() {
                    Some(previous) => previous.merge(set),
                    None => set,
                });
            } else if let Some(rest) = directive(body, "apimfix-ignore") {
                let siblings = match node.parent.and_then(|p| doc.element(p)) {
                    Some(parent) => parent.children(),
                    None => doc.top_level(),
                };
                let next = siblings
                    .iter()
                    .skip_while(|&&s| s != id)
                    .skip(1)
                    .find_map(|&s| doc.element(s));
                if let Some(next) = next {
                    use crate::text::Ranged;
                    out.elements.push((next.range(), RuleSet::parse(rest)));
                }
            }
        }
        out
    }

    pub fn silences(&self, rule: Rule, range: TextRange) -> bool {
        self.file.as_ref().is_some_and(|f| f.contains(rule))
            || self
                .elements
                .iter()
                .any(|(r, set)| r.contains(range.start()) && set.contains(rule))
    }
}

#[cfg(test)]
mod tests {
    use crate::layout::Scope;
    use crate::rules::test_support::findings;

    const SRC: &str = "<policies>\n  <inbound>\n    <rate-limit calls=\"1\" renewal-period=\"1\" />\n    <cors />\n  </inbound>\n  <outbound />\n</policies>";

    #[test]
    fn file_level_comment_silences_named_rules() {
        assert_eq!(findings(SRC, Scope::Api, "base-missing").len(), 2);
        let src = format!("<!-- apimfix-ignore-file: base-missing -->\n{SRC}");
        assert!(findings(&src, Scope::Api, "base-missing").is_empty());
        assert_eq!(findings(&src, Scope::Api, "cors-first").len(), 1);
        let all = format!("{SRC}\n<!-- apimfix-ignore-file -->");
        assert!(findings(&all, Scope::Api, "cors-first").is_empty());
    }

    #[test]
    fn a_misspelt_rule_is_named_with_its_offset() {
        let src = "<policies>\n  <inbound>\n    <!-- apimfix-ignore: cors-frist, base-missing -->\n    <base />\n  </inbound>\n</policies>";
        let doc = crate::syntax::parse(src).unwrap();
        let names = super::unknown_names(&doc);
        assert_eq!(names.len(), 1);
        assert_eq!(names[0].1, "cors-frist");
        assert_eq!(&src[names[0].0..names[0].0 + 10], "cors-frist");
    }

    #[test]
    fn a_misspelt_rule_silences_nothing_and_file_comments_add_up() {
        // Review finding: a typo used to silence every rule.
        let typo = SRC.replace(
            "  <outbound />",
            "  <!-- apimfix-ignore: base-mising -->\n  <outbound />",
        );
        assert_eq!(findings(&typo, Scope::Api, "base-missing").len(), 2);
        let other = format!("<!-- apimfix-ignored -->\n{SRC}");
        assert_eq!(
            findings(&other, Scope::Api, "cors-first").len(),
            1,
            "not a directive"
        );
        let two = format!(
            "<!-- apimfix-ignore-file: base-missing -->\n<!-- apimfix-ignore-file: cors-first -->\n{SRC}"
        );
        assert!(findings(&two, Scope::Api, "base-missing").is_empty());
        assert!(findings(&two, Scope::Api, "cors-first").is_empty());
    }

    #[test]
    fn element_comment_silences_the_next_element_only() {
        let src = SRC.replace(
            "  <outbound />",
            "  <!-- apimfix-ignore: base-missing -->\n  <outbound />",
        );
        assert_eq!(
            findings(&src, Scope::Api, "base-missing"),
            [
                "2:3 `<inbound>` has no `<base />`: the product and global scope's `<inbound>` policies never run"
            ]
        );
        let other_rule = SRC.replace(
            "  <outbound />",
            "  <!-- apimfix-ignore: cors-first -->\n  <outbound />",
        );
        assert_eq!(findings(&other_rule, Scope::Api, "base-missing").len(), 2);
    }

    #[test]
    fn a_misspelt_directive_is_found_and_prose_is_not() {
        let doc = crate::syntax::parse(
            "<policies>\n  <!-- apimfix-ignroe: base-missing -->\n  <!-- APIMFIX-IGNORE -->\n  <!-- apimfix fixed this -->\n  <!-- apimfix-ignore: base-missing -->\n  <inbound />\n</policies>",
        )
        .unwrap();
        let found: Vec<String> = super::unknown_directives(&doc)
            .into_iter()
            .map(|(_, word)| word)
            .collect();
        assert_eq!(found, ["apimfix-ignroe", "APIMFIX-IGNORE"]);
    }
}

//! Suppression comments: how a team keeps a finding on purpose.
//!
//! - `<!-- apimfix-ignore-file: base-missing, cors-first -->` anywhere in the file silences
//!   those rules for the whole file; without names (`<!-- apimfix-ignore-file -->`), every rule.
//! - `<!-- apimfix-ignore: base-missing -->` silences those rules (or all, without names) on
//!   the next element after the comment: findings whose range starts inside that element.

use std::collections::BTreeSet;
use std::str::FromStr;

use crate::rules::Rule;
use crate::syntax::{Document, NodeKind};
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
    fn parse(names: &str) -> RuleSet {
        let rules: BTreeSet<Rule> = names
            .split([',', ' '])
            .filter(|n| !n.is_empty())
            .filter_map(|n| Rule::from_str(n).ok())
            .collect();
        if rules.is_empty() {
            RuleSet::All
        } else {
            RuleSet::Some(rules)
        }
    }

    fn contains(&self, rule: Rule) -> bool {
        match self {
            RuleSet::All => true,
            RuleSet::Some(rules) => rules.contains(&rule),
        }
    }
}

impl Suppressions {
    pub fn read(doc: &Document) -> Suppressions {
        let mut out = Suppressions::default();
        for (id, node) in doc.nodes() {
            if node.kind != NodeKind::Comment {
                continue;
            }
            let body = doc
                .slice(node.range)
                .trim_start_matches("<!--")
                .trim_end_matches("-->")
                .trim();
            if let Some(rest) = body.strip_prefix("apimfix-ignore-file") {
                out.file = Some(RuleSet::parse(rest.trim_start_matches(':')));
            } else if let Some(rest) = body.strip_prefix("apimfix-ignore") {
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
                    out.elements
                        .push((next.range(), RuleSet::parse(rest.trim_start_matches(':'))));
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
    use crate::rules::test_support::findings;
    use crate::scope::Scope;

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
}

//! Property test of the rules and the fix loop on generated policies: fixing converges, the
//! result parses, a second fix changes nothing, no element or comment of the input is lost,
//! and no fixable finding remains.

use apimfix::config::Config;
use apimfix::layout::Scope;
use apimfix::repo::RepoFacts;
use apimfix::rules::{Context, check};
use apimfix::rules::{FixMode, fix_until_stable};
use apimfix::syntax::{Document, NodeKind, parse};
use proptest::prelude::*;

const ITEMS: &[&str] = &[
    "<base />",
    "<cors allow-credentials=\"false\">\n<allowed-origins>\n<origin>https://a.contoso.com</origin>\n</allowed-origins>\n</cors>",
    "<cors><allowed-origins><origin>*</origin></allowed-origins></cors>",
    "<rate-limit calls=\"1\" renewal-period=\"60\" />",
    "<quota calls=\"10\" renewal-period=\"3600\" />",
    "<rate-limit-by-key calls=\"1\" renewal-period=\"1\" counter-key=\"@(context.Request.Headers.GetValueOrDefault(\"k\", \"\"))\" />",
    "<!-- a comment -->",
    "<set-variable name=\"v\" value=\"@(context.Request.Url.Path.Trim('\"'))\" />",
    "<choose><when condition=\"@(1 < 2 && true)\"><quota calls=\"1\" renewal-period=\"1\" /></when></choose>",
    "<include-fragment fragment-id=\"f\" />",
];

fn document(items: &[usize], inline: bool, indent: &str, crlf: bool, others: &[bool]) -> String {
    let eol = if crlf { "\r\n" } else { "\n" };
    let sep = if inline {
        String::new()
    } else {
        format!("{eol}{indent}{indent}")
    };
    let mut inbound = String::new();
    for &i in items {
        inbound.push_str(&sep);
        inbound.push_str(&ITEMS[i].replace('\n', if inline { "" } else { eol }));
    }
    let close = if inline {
        String::new()
    } else {
        format!("{eol}{indent}")
    };
    let sections = ["backend", "outbound", "on-error"];
    let mut rest = String::new();
    for (name, with_base) in sections.iter().zip(others) {
        let body = if *with_base { "<base />" } else { "" };
        if body.is_empty() {
            rest.push_str(&format!("{eol}{indent}<{name} />"));
        } else {
            rest.push_str(&format!("{eol}{indent}<{name}>{body}</{name}>"));
        }
    }
    format!("<policies>{eol}{indent}<inbound>{inbound}{close}</inbound>{rest}{eol}</policies>{eol}")
}

/// Start tags and comments, as a sorted list: what a fix may move but never drop.
fn inventory(doc: &Document) -> Vec<String> {
    let mut v: Vec<String> = doc
        .nodes()
        .filter_map(|(_, n)| match &n.kind {
            NodeKind::Element(e) => Some(doc.slice(e.name).to_owned()),
            NodeKind::Comment => Some(doc.slice(n.range).to_owned()),
            _ => None,
        })
        .collect();
    v.sort();
    v
}

fn contains_all(after: &[String], before: &[String]) -> bool {
    let mut pool = after.to_vec();
    before
        .iter()
        .all(|b| match pool.iter().position(|a| a == b) {
            Some(i) => {
                pool.remove(i);
                true
            }
            None => false,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn fixes_converge_keep_everything_and_are_idempotent(
        items in prop::collection::vec(0..ITEMS.len(), 0..7),
        inline in any::<bool>(),
        tabs in any::<bool>(),
        crlf in any::<bool>(),
        others in prop::collection::vec(any::<bool>(), 3),
        scope in prop::sample::select(vec![Scope::Global, Scope::Product, Scope::Api, Scope::Operation, Scope::Unknown]),
        ancestor_has_cors in prop::option::of(any::<bool>()),
        gate_fragment in any::<bool>(),
        origins in any::<bool>(),
    ) {
        let indent = if tabs { "\t" } else { "  " };
        let src = document(&items, inline, indent, crlf, &others);
        let doc = parse(&src).expect("generated documents parse");
        let mut config = Config::default();
        if origins {
            config = yaml_serde::from_str("rules:\n  cors-origins:\n    origins: [https://portal.contoso.com]\n").unwrap();
        }
        let mut facts = RepoFacts { ancestor_has_cors, repo_has_cors: ancestor_has_cors, ..Default::default() };
        if gate_fragment {
            facts.gate_fragments.insert("f".to_owned());
        }
        let run = |d: &Document| check(&Context::new(d, scope, &config.rules, &facts));
        let outcome = fix_until_stable(doc.clone(), FixMode::SafeOnly, run).expect("fixes converge");
        prop_assert!(outcome.dropped.is_empty(), "a fix broke the document: {:?}\n{src}", outcome.dropped);
        prop_assert!(outcome.remaining.iter().all(|d| d.fix.is_none() || d.fix.as_ref().is_some_and(|f| f.applicability() != apimfix::fix::Applicability::Safe)),
            "a safe fix is left after fixing:\n{}", outcome.text);
        prop_assert!(contains_all(&inventory(&outcome.document), &inventory(&doc)), "lost an element or comment:\n{src}\n---\n{}", outcome.text);
        let again = fix_until_stable(parse(&outcome.text).unwrap(), FixMode::SafeOnly, run).expect("second run converges");
        prop_assert_eq!(&again.text, &outcome.text);
        if crlf && !inline {
            prop_assert!(!outcome.text.replace("\r\n", "").contains('\n'), "a bare LF in a CRLF file:\n{:?}", outcome.text);
        }
    }
}

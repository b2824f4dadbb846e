//! Every fixture, and every corpus file when `APIMFIX_CORPUS` names a folder, parses,
//! prints back byte for byte and tiles; where roxmltree accepts the file as XML, our tree
//! has the same elements, attributes, comments and processing instructions at the same
//! byte ranges.
//!
//! Run with the public corpus: `APIMFIX_CORPUS=/work/shared/corpus cargo test --test
//! syntax_roundtrip -- --nocapture` (CI sets `APIMFIX_CORPUS=../shared/corpus`).

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::syntax_support::{check_lossless, elements, fixture_dir, xml_files};
use apimfix::syntax::{Document, Limits, NodeKind, parse_bytes};

/// What both trees must agree on, in document order.
#[derive(Debug, PartialEq, Eq)]
enum Item {
    /// Local name and the whole element's range.
    Element(String, Range<usize>),
    /// Local name, the whole attribute's range and its value's range.
    Attribute(String, Range<usize>, Range<usize>),
    Comment(Range<usize>),
    ProcessingInstruction(Range<usize>),
}

fn local(name: &str) -> String {
    name.rsplit(':').next().unwrap_or(name).to_owned()
}

fn our_items(doc: &Document) -> Vec<Item> {
    let mut items = Vec::new();
    // Arena order is document order for everything but an element's range, which grows
    // when its end tag is read; ranges are what we compare, so walk the arena.
    for (id, node) in doc.nodes() {
        match &node.kind {
            NodeKind::Element(_) => {
                let element = doc.element(id).expect("an element node");
                items.push(Item::Element(local(element.name()), node.range.to_std()));
                for a in element.attributes() {
                    let name = doc.slice(a.name);
                    // roxmltree keeps namespace declarations apart from attributes.
                    if name == "xmlns" || name.starts_with("xmlns:") {
                        continue;
                    }
                    items.push(Item::Attribute(
                        local(name),
                        a.range.to_std(),
                        a.value.to_std(),
                    ));
                }
            }
            NodeKind::Comment => items.push(Item::Comment(node.range.to_std())),
            // roxmltree reads the XML declaration as no node at all.
            NodeKind::ProcessingInstruction if !is_xml_declaration(doc.slice(node.range)) => {
                items.push(Item::ProcessingInstruction(node.range.to_std()))
            }
            _ => {}
        }
    }
    items
}

fn is_xml_declaration(pi: &str) -> bool {
    pi.strip_prefix("<?xml")
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_whitespace() || c == '?'))
}

fn oracle_items(xml: &roxmltree::Document<'_>) -> Vec<Item> {
    let mut items = Vec::new();
    for node in xml.root().descendants() {
        if node.is_element() {
            items.push(Item::Element(
                node.tag_name().name().to_owned(),
                node.range(),
            ));
            for a in node.attributes() {
                items.push(Item::Attribute(
                    a.name().to_owned(),
                    a.range(),
                    a.range_value(),
                ));
            }
        } else if node.is_comment() {
            items.push(Item::Comment(node.range()));
        } else if node.is_pi() {
            items.push(Item::ProcessingInstruction(node.range()));
        }
    }
    items
}

/// Checks one file; returns whether roxmltree accepted it (and so was compared).
fn check(path: &Path, bytes: Vec<u8>) -> Result<bool, String> {
    let doc = parse_bytes(bytes.clone(), &Limits::default()).map_err(|e| {
        let text = String::from_utf8_lossy(&bytes);
        let at = crate::syntax_support::line_col(&text, e.range.start());
        format!("does not parse: {:?} at {at}: {}", e.kind, e.message)
    })?;
    check_lossless(&doc, &bytes)?;
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    let Ok(xml) = roxmltree::Document::parse_with_options(doc.source(), options) else {
        return Ok(false);
    };
    let ours = our_items(&doc);
    let theirs = oracle_items(&xml);
    if let Some(i) = (0..ours.len().max(theirs.len())).find(|&i| ours.get(i) != theirs.get(i)) {
        return Err(format!(
            "differs from roxmltree at item {i}: ours {:?}, roxmltree {:?} ({})",
            ours.get(i),
            theirs.get(i),
            path.display()
        ));
    }
    // Elements are compared by range above; their count must match too.
    assert_eq!(
        elements(&doc).len(),
        xml.root().descendants().filter(|n| n.is_element()).count()
    );
    Ok(true)
}

fn check_all(files: &[PathBuf]) -> (usize, usize) {
    let mut failures = Vec::new();
    let mut compared = 0;
    for path in files {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        match check(path, bytes) {
            Ok(true) => compared += 1,
            Ok(false) => {}
            Err(e) => failures.push(format!("{}: {e}", path.display())),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} files fail:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
    (files.len(), compared)
}

#[test]
fn fixtures_round_trip_and_match_the_oracle() {
    let files = xml_files(&fixture_dir());
    assert!(files.len() >= 8, "fixtures missing: {files:?}");
    let (checked, compared) = check_all(&files);
    println!("fixtures: {checked} files checked, {compared} compared with roxmltree");
    // Several fixtures are well-formed on purpose, so the oracle must have run on them.
    assert!(
        compared >= 4,
        "only {compared} fixtures were compared with roxmltree"
    );
}

#[test]
fn corpus_round_trips_and_matches_the_oracle() {
    // Without the corpus, the bundled examples: real-looking repos that all parse (the
    // fixture trees hold deliberately broken files, checked by the tests above).
    let dir = match std::env::var_os("APIMFIX_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"),
    };
    let files = xml_files(&dir);
    assert!(
        !files.is_empty(),
        "APIMFIX_CORPUS={} holds no .xml file",
        dir.display()
    );
    let (checked, compared) = check_all(&files);
    println!(
        "corpus {}: {checked} files checked, {compared} compared with roxmltree",
        dir.display()
    );
}

/// The oracle comparison itself must notice a difference, or the tests above prove nothing.
#[test]
fn oracle_comparison_detects_a_shifted_range() {
    let text = r#"<policies a="1"><!--c--><x/></policies>"#;
    let doc = apimfix::syntax::parse(text).unwrap();
    let xml = roxmltree::Document::parse(text).unwrap();
    let mut ours = our_items(&doc);
    assert_eq!(ours, oracle_items(&xml));
    if let Some(Item::Attribute(_, _, value)) = ours.get_mut(1) {
        value.start += 1;
    }
    assert_ne!(ours, oracle_items(&xml));
}

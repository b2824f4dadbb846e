//! Invariants of the formatter, checked on every fixture and on every file of the corpus
//! named by `APIMFIX_CORPUS` (a folder searched recursively for `*.xml`):
//!
//! - the output parses again, and formatting it again gives the same bytes;
//! - the text without XML whitespace is the same before and after;
//! - the policy expressions are the same, byte for byte, whatever the options;
//! - the BOM and the line ending are kept (`auto`), or every line break outside expressions
//!   is the forced one (`lf`, `crlf`);
//! - for files that are well-formed XML, the element tree (names, attributes, comments,
//!   non-whitespace text) is the same as read by an independent XML parser.
//!
//! Without `APIMFIX_CORPUS` the corpus test runs on this project's own fixtures.

use std::path::{Path, PathBuf};

use apimfix::format::{FormatOptions, LineEndingOption, format};
use apimfix::syntax::{Document, LineEnding, parse};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/format");

use crate::common::xml_files;

/// The corpus folder: `APIMFIX_CORPUS` when set, else the fixtures.
fn corpus_files() -> Vec<PathBuf> {
    let dir =
        std::env::var_os("APIMFIX_CORPUS").map_or_else(|| PathBuf::from(FIXTURES), PathBuf::from);
    let files = xml_files(&dir);
    assert!(!files.is_empty(), "no *.xml under {}", dir.display());
    files
}

fn strip_xml_whitespace(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, ' ' | '\t' | '\r' | '\n'))
        .collect()
}

fn expression_texts(doc: &Document) -> Vec<&str> {
    doc.expressions()
        .iter()
        .map(|e| doc.slice(e.range))
        .collect()
}

/// Checks every invariant for one input; returns the formatted text.
fn check_file(name: &str, source: &str, options: &FormatOptions) -> String {
    let doc = parse(source).unwrap_or_else(|e| panic!("{name}: input does not parse: {e:?}"));
    let out = format(&doc, options);
    let again =
        parse(&out).unwrap_or_else(|e| panic!("{name}: output does not parse: {e:?}\n{out}"));
    let twice = format(&again, options);
    assert!(
        twice == out,
        "{name}: not idempotent\n--- once\n{out}\n--- twice\n{twice}"
    );
    assert_eq!(
        strip_xml_whitespace(source),
        strip_xml_whitespace(&out),
        "{name}: non-whitespace text changed"
    );
    assert_eq!(again.has_bom(), doc.has_bom(), "{name}: BOM");
    assert!(
        out.ends_with('\n') && !out.ends_with("\n\n") && !out.ends_with("\n\r\n"),
        "{name}: final newline"
    );
    assert_eq!(
        expression_texts(&doc),
        expression_texts(&again),
        "{name}: expressions"
    );
    // Line breaks outside expressions: the file's own, or the forced one.
    let outside = outside_expressions(&again);
    let crlf = outside.matches("\r\n").count();
    let lf = outside.matches('\n').count() - crlf;
    match options.line_ending {
        LineEndingOption::Auto => assert_eq!(
            again.line_ending(),
            doc.line_ending(),
            "{name}: line ending"
        ),
        LineEndingOption::Lf => assert_eq!(crlf, 0, "{name}: a CRLF left with line-ending: lf"),
        LineEndingOption::Crlf => assert_eq!(lf, 0, "{name}: an LF left with line-ending: crlf"),
    }
    check_trailing_whitespace(name, &doc, &out);
    check_xml_tree(name, source, &out);
    out
}

/// The text with every policy expression cut out.
fn outside_expressions(doc: &Document) -> String {
    let mut ranges: Vec<_> = doc.expressions().iter().map(|e| e.range).collect();
    ranges.sort();
    let mut out = String::new();
    let mut cursor = 0;
    for range in ranges {
        out.push_str(&doc.source()[cursor..range.start()]);
        cursor = range.end();
    }
    out.push_str(&doc.source()[cursor..]);
    out
}

fn has_one_line_ending(text: &str) -> bool {
    let crlf = text.matches("\r\n").count();
    crlf == 0 || crlf == text.matches('\n').count()
}

/// Trailing whitespace survives only inside verbatim text: every output line that ends in
/// whitespace ends like some line of the input (its last word, the same blanks).
fn check_trailing_whitespace(name: &str, doc: &Document, out: &str) {
    for line in out.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let trimmed = line.trim_end_matches([' ', '\t']);
        if trimmed.len() == line.len() {
            continue;
        }
        // The last word before the blanks: indentation before it may have been rewritten.
        let keep_from = trimmed.rfind([' ', '\t']).map_or(0, |i| i + 1);
        let tail = &line[keep_from..];
        let in_source = [format!("{tail}\n"), format!("{tail}\r\n")]
            .iter()
            .any(|t| doc.source().contains(t.as_str()))
            || doc.source().ends_with(tail);
        assert!(in_source, "{name}: new trailing whitespace in {line:?}");
    }
}

/// For well-formed inputs: the same elements, attributes, comments and non-whitespace text,
/// as read by roxmltree.
fn check_xml_tree(name: &str, before: &str, after: &str) {
    let strip_bom = |s: &str| s.strip_prefix('\u{feff}').unwrap_or(s).to_owned();
    let (before, after) = (strip_bom(before), strip_bom(after));
    let options = || roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    let Ok(a) = roxmltree::Document::parse_with_options(&before, options()) else {
        return;
    };
    let b = roxmltree::Document::parse_with_options(&after, options())
        .unwrap_or_else(|e| panic!("{name}: well-formed input, ill-formed output: {e}"));
    assert_eq!(
        xml_signature(&a),
        xml_signature(&b),
        "{name}: XML tree changed"
    );
}

fn xml_signature(doc: &roxmltree::Document<'_>) -> Vec<String> {
    doc.root()
        .descendants()
        .filter_map(|n| match n.node_type() {
            roxmltree::NodeType::Element => {
                let attrs: Vec<String> = n
                    .attributes()
                    .map(|a| format!("{}={:?}", a.name(), a.value()))
                    .collect();
                Some(format!("<{:?} {}>", n.tag_name(), attrs.join(" ")))
            }
            roxmltree::NodeType::Text => {
                let text = n.text().unwrap_or_default();
                (!text.trim().is_empty()).then(|| format!("text {text:?}"))
            }
            roxmltree::NodeType::Comment => Some(format!("comment {:?}", n.text())),
            roxmltree::NodeType::PI => Some(format!("pi {:?}", n.pi())),
            roxmltree::NodeType::Root => None,
        })
        // roxmltree keeps `\r\n` in comments, which XML itself reads as `\n`.
        .map(|s| s.replace("\\r\\n", "\\n"))
        .collect()
}

#[test]
fn fixtures_hold_every_invariant() {
    for path in xml_files(Path::new(FIXTURES)) {
        let source = std::fs::read_to_string(&path).expect("fixture is UTF-8");
        let name = path.display().to_string();
        check_file(&name, &source, &FormatOptions::default());
    }
}

#[test]
fn already_formatted_file_is_unchanged() {
    let path = Path::new(FIXTURES).join("already-formatted.xml");
    let source = std::fs::read_to_string(&path).expect("fixture");
    let doc = parse(&source).expect("parses");
    assert_eq!(format(&doc, &FormatOptions::default()), source);
}

#[test]
fn corpus_holds_every_invariant() {
    let mut formatted = 0;
    let mut unparsed = Vec::new();
    for path in corpus_files() {
        let bytes = std::fs::read(&path).expect("readable");
        let name = path.display().to_string();
        let Ok(source) = String::from_utf8(bytes) else {
            unparsed.push(name);
            continue;
        };
        let Ok(doc) = parse(&source) else {
            // Not a policy, or not parseable: the formatter never sees it.
            unparsed.push(name);
            continue;
        };
        let out = check_file(&name, &source, &FormatOptions::default());
        for (option, ending) in [
            (LineEndingOption::Lf, LineEnding::Lf),
            (LineEndingOption::Crlf, LineEnding::CrLf),
        ] {
            let options = FormatOptions {
                line_ending: option,
                ..FormatOptions::default()
            };
            let forced = check_file(&name, &source, &options);
            if has_one_line_ending(&source) && doc.line_ending() == ending {
                assert_eq!(forced, out, "{name}: forcing the file's own ending is auto");
            }
        }
        formatted += 1;
    }
    assert!(formatted > 0, "nothing formatted; unparsed: {unparsed:?}");
    eprintln!(
        "formatted {formatted} files; {} not parsed: {unparsed:#?}",
        unparsed.len()
    );
}

#[test]
fn deepest_document_the_parser_accepts_formats_iteratively() {
    let depth = apimfix::syntax::Limits::default().max_depth;
    let mut source = String::from("<policies>");
    for _ in 1..depth {
        source.push_str("<a>");
    }
    for _ in 1..depth {
        source.push_str("</a>");
    }
    source.push_str("</policies>");
    let options = FormatOptions::default();
    let out = check_file("deep", &source, &options);
    let deepest = " ".repeat(4 * (depth - 1));
    assert!(
        out.contains(&format!("\n{deepest}<a></a>\n")),
        "innermost element indented {depth} levels"
    );
}

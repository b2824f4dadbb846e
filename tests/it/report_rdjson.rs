//! reviewdog's rdjson.

use crate::report_support::*;
use apimfix::diagnostic::Diagnostic;
use apimfix::fix::{Edit, Fix, apply_edits};
use apimfix::report::{FileReport, OutputFormat, ReportOptions};
use apimfix::rules::Rule;
use apimfix::text::TextRange;
use serde_json::Value;

fn rdjson(files: &[FileReport]) -> Value {
    serde_json::from_str(&render(
        OutputFormat::Rdjson,
        files,
        &ReportOptions::default(),
    ))
    .expect("valid JSON")
}

/// The byte offset of an rdjson position: 1-based line, 1-based UTF-8 byte column.
fn offset(source: &str, position: &Value) -> usize {
    let line = position["line"].as_u64().expect("line") as usize;
    let column = position["column"].as_u64().expect("column") as usize;
    let line_start: usize = source
        .split_inclusive('\n')
        .take(line - 1)
        .map(str::len)
        .sum();
    line_start + column - 1
}

/// Applies the suggestions of one diagnostic the way reviewdog does: replace each range.
fn apply_suggestions(source: &str, diagnostic: &Value) -> String {
    let mut out = source.to_owned();
    let mut suggestions: Vec<&Value> = diagnostic["suggestions"]
        .as_array()
        .expect("suggestions")
        .iter()
        .collect();
    // From the end, so earlier offsets stay valid.
    suggestions.sort_by_key(|s| std::cmp::Reverse(offset(source, &s["range"]["start"])));
    for suggestion in suggestions {
        let start = offset(source, &suggestion["range"]["start"]);
        let end = offset(source, &suggestion["range"]["end"]);
        out.replace_range(start..end, suggestion["text"].as_str().expect("text"));
    }
    out
}

#[test]
fn every_kind_of_finding_and_error() {
    let out = render(
        OutputFormat::Rdjson,
        &all_reports(),
        &ReportOptions::default(),
    );
    insta::assert_snapshot!(out);
}

/// `null` fails the rdjson schema: no field is ever null, and `suggestions` is left out when
/// there is no fix.
#[test]
fn no_nulls_and_no_empty_suggestions() {
    fn walk(value: &Value, path: &str) {
        match value {
            Value::Null => panic!("null at {path}"),
            Value::Array(items) => {
                assert!(
                    !items.is_empty() || path == "/diagnostics",
                    "empty array at {path}"
                );
                for (i, item) in items.iter().enumerate() {
                    walk(item, &format!("{path}/{i}"));
                }
            }
            Value::Object(fields) => {
                for (key, field) in fields {
                    walk(field, &format!("{path}/{key}"));
                }
            }
            _ => {}
        }
    }
    let value = rdjson(&all_reports());
    walk(&value, "");
    let diagnostics = value["diagnostics"].as_array().expect("diagnostics");
    let origin = diagnostics
        .iter()
        .find(|d| d["code"]["value"] == "cors-origins")
        .expect("cors-origins");
    assert!(origin.get("suggestions").is_none(), "{origin}");
    walk(&rdjson(&[]), "");
}

/// Columns are UTF-8 bytes: the origin's text holds `é` (two bytes), so its end column is one
/// more than a char count would give.
#[test]
fn columns_count_bytes() {
    let value = rdjson(&[policy_report()]);
    let origin = value["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .find(|d| d["code"]["value"] == "cors-origins")
        .expect("cors-origins");
    assert_eq!(
        origin["location"]["range"],
        serde_json::json!({
            "start": {"line": 6, "column": 25},
            "end": {"line": 6, "column": 25 + "https://café.example".len()}
        })
    );
    assert_eq!(origin["severity"], "INFO");
}

/// A fix of two edits (delete `<cors>` below, insert it above) is one suggestion, so
/// reviewdog can never post half of it; applying it gives the same text as the fix.
#[test]
fn a_fix_is_one_suggestion_that_applies_like_the_fix() {
    let report = policy_report();
    let value = rdjson(&[policy_report()]);
    let diagnostics = value["diagnostics"].as_array().expect("diagnostics");
    for (diagnostic, original) in diagnostics.iter().zip(&report.diagnostics) {
        let Some(fix) = &original.fix else { continue };
        // Only safe fixes are suggested: a reviewer accepts them with one click.
        if fix.applicability() != apimfix::fix::Applicability::Safe {
            assert!(diagnostic.get("suggestions").is_none(), "{diagnostic}");
            continue;
        }
        assert_eq!(
            diagnostic["suggestions"]
                .as_array()
                .expect("suggestions")
                .len(),
            1
        );
        let edits: Vec<&Edit> = fix.edits().iter().collect();
        let expected = apply_edits(&report.source, &edits).expect("a valid fix");
        assert_eq!(apply_suggestions(&report.source, diagnostic), expected);
    }
}

/// The same holds on a CRLF line with multi-byte chars before the edits.
#[test]
fn suggestions_apply_with_crlf_and_multi_byte_chars() {
    let source = "<policies>\r\n  <!-- ü -->  <a/>  <b/>\r\n</policies>\r\n";
    let a = source.find("<a/>").expect("<a/>");
    let b = source.find("<b/>").expect("<b/>");
    let fix = Fix::safe(
        Edit::replacement(TextRange::new(a, a + 4), "<á/>"),
        [Edit::insertion(b + 4, "\r\n  <c/>")],
    );
    let mut report = FileReport::new("p.xml", None, source.to_owned());
    report.diagnostics = vec![
        Diagnostic::new(Rule::CorsDuplicate, TextRange::new(a, a + 4), "m")
            .with_fix("Do", fix.clone()),
    ];
    let value = rdjson(&[report]);
    let diagnostic = &value["diagnostics"][0];
    let edits: Vec<&Edit> = fix.edits().iter().collect();
    assert_eq!(
        apply_suggestions(source, diagnostic),
        apply_edits(source, &edits).expect("a valid fix")
    );
    // Whole lines (the CR left out), and the finding on the same lines: reviewdog posts a
    // suggestion only on the lines of its comment.
    assert_eq!(
        diagnostic["suggestions"][0]["range"],
        serde_json::json!({
            "start": {"line": 2, "column": 1},
            "end": {"line": 2, "column": 26}
        })
    );
    assert_eq!(
        diagnostic["location"]["range"],
        diagnostic["suggestions"][0]["range"]
    );
}

#[test]
fn file_errors_are_error_diagnostics() {
    let value = rdjson(&all_reports());
    let diagnostics = value["diagnostics"].as_array().expect("diagnostics");
    let codes: Vec<&Value> = diagnostics.iter().map(|d| &d["code"]["value"]).collect();
    assert_eq!(
        codes,
        [
            "base-missing",
            "cors-first",
            "cors-origins",
            "syntax-error",
            "io-error",
            "internal-error"
        ]
    );
    for diagnostic in &diagnostics[3..] {
        assert_eq!(diagnostic["severity"], "ERROR");
    }
    assert!(diagnostics[4]["location"].get("range").is_none());
    assert_eq!(value["source"]["name"], "apimfix");
}

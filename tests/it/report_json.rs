//! The JSON report.

use crate::report_support::*;
use apimfix::report::{OutputFormat, ReportOptions};
use apimfix::syntax;
use serde_json::Value;

fn json(files: &[apimfix::report::FileReport]) -> String {
    render(OutputFormat::Json, files, &ReportOptions::default())
}

#[test]
fn every_kind_of_finding_and_error() {
    insta::assert_snapshot!(json(&all_reports()));
}

#[test]
fn fields_come_in_the_documented_order() {
    let out = json(&[policy_report()]);
    let value: Value = serde_json::from_str(&out).expect("valid JSON");
    let finding = &value["findings"][0];
    let keys: Vec<&str> = finding
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    // serde_json keeps insertion order only with `preserve_order`; check the text instead.
    let positions: Vec<usize> = [
        "\"rule\"",
        "\"severity\"",
        "\"message\"",
        "\"path\"",
        "\"location\"",
        "\"end_location\"",
        "\"range\"",
        "\"fix\"",
    ]
    .iter()
    .map(|key| out.find(key).unwrap_or_else(|| panic!("{key} missing")))
    .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{out}");
    assert_eq!(keys.len(), 8, "{keys:?}");
    assert!(
        out.starts_with("{\n  \"version\": 1,\n  \"findings\": ["),
        "{out}"
    );
}

/// Applying the edits of every safe and unsafe fix, as a script would from the JSON alone,
/// gives a policy that parses and has the fixes in it.
#[test]
fn edits_apply_from_the_json_alone() {
    let report = policy_report();
    let value: Value = serde_json::from_str(&json(&[policy_report()])).expect("valid JSON");
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for finding in value["findings"].as_array().expect("findings") {
        if finding["fix"].is_null() {
            continue;
        }
        for edit in finding["fix"]["edits"].as_array().expect("edits") {
            let start = edit["range"]["start"].as_u64().expect("start") as usize;
            let end = edit["range"]["end"].as_u64().expect("end") as usize;
            let content = edit["content"].as_str().expect("content").to_owned();
            edits.push((start, end, content));
        }
    }
    edits.sort();
    let mut fixed = String::new();
    let mut cursor = 0;
    for (start, end, content) in edits {
        fixed.push_str(&report.source[cursor..start]);
        fixed.push_str(&content);
        cursor = end;
    }
    fixed.push_str(&report.source[cursor..]);
    let doc = syntax::parse(&fixed).expect("the fixed policy parses");
    let inbound = doc.root().child("inbound").expect("<inbound>");
    let names: Vec<&str> = inbound.child_elements().map(|e| e.name()).collect();
    assert_eq!(names, ["base", "cors", "rate-limit"]);
}

/// `location` is derived from `range`: chars for columns, so the end column of the origin
/// (which holds `é`) is one less than a byte count would give.
#[test]
fn locations_count_chars() {
    let value: Value = serde_json::from_str(&json(&[policy_report()])).expect("valid JSON");
    let origin = value["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == "cors-origins")
        .expect("cors-origins");
    assert_eq!(
        origin["location"],
        serde_json::json!({"line": 6, "column": 25})
    );
    let text_len = "https://café.example".chars().count();
    assert_eq!(
        origin["end_location"],
        serde_json::json!({"line": 6, "column": 25 + text_len})
    );
    let range = &origin["range"];
    assert_eq!(
        range["end"].as_u64().expect("end") - range["start"].as_u64().expect("start"),
        "https://café.example".len() as u64
    );
    assert_eq!(origin["fix"], Value::Null);
    assert_eq!(origin["severity"], "info");
}

#[test]
fn fixes_carry_their_applicability() {
    let value: Value = serde_json::from_str(&json(&[policy_report()])).expect("valid JSON");
    let applicability: Vec<&Value> = value["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| &f["fix"]["applicability"])
        .collect();
    assert_eq!(
        applicability,
        [&"safe".into(), &"unsafe".into(), &Value::Null]
    );
}

#[test]
fn an_empty_run_is_still_a_report() {
    assert_eq!(
        json(&[]),
        "{\n  \"version\": 1,\n  \"findings\": [],\n  \"errors\": []\n}\n"
    );
}

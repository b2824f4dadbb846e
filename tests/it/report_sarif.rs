//! The SARIF report: the official schema accepts it, GitHub's required fields are there, and
//! fingerprints survive line shifts.

use crate::report_support::*;
use apimfix::diagnostic::Diagnostic;
use apimfix::report::{FileReport, OutputFormat, ReportOptions};
use apimfix::rules::Rule;
use apimfix::text::TextRange;
use serde_json::Value;

fn sarif(files: &[FileReport]) -> String {
    render(OutputFormat::Sarif, files, &ReportOptions::default())
}

fn sarif_value(files: &[FileReport]) -> Value {
    serde_json::from_str(&sarif(files)).expect("valid JSON")
}

/// The official SARIF 2.1.0 schema (see `tests/fixtures/report/README.md`).
///
/// The vendored file is kept byte for byte. Its two language-tag patterns (`run.language`,
/// `toolComponent.language`), `^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$`, have a stray `]`,
/// which ECMA-262 reads as a literal (Annex B) but which the validator's meta-schema check
/// rejects as a regex, so the schema would not compile. The in-memory copy escapes it: the
/// same language, in properties apimfix never writes.
fn sarif_schema() -> Value {
    const STRAY: &str = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
    const ESCAPED: &str = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$""#;
    let text = include_str!("../fixtures/report/sarif-schema-2.1.0.json");
    assert_eq!(
        text.matches(STRAY).count(),
        2,
        "the schema changed; revisit this fix-up"
    );
    serde_json::from_str(&text.replace(STRAY, ESCAPED)).expect("the schema is JSON")
}

/// Validates `log` against the schema, with formats (`uri`, `uri-reference`, ...) checked too.
fn assert_valid_sarif(log: &Value) {
    let validator = jsonschema::draft7::options()
        .should_validate_formats(true)
        .build(&sarif_schema())
        .expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "schema errors:\n{}", errors.join("\n"));
}

/// The whole log, but for what changes without this module changing: the version, and the
/// rule table (checked against `Rule::ALL` by `driver_lists_every_rule_...`), whose rule
/// indices are then shown as `[index]`. (Parsing sorts the keys; `report_json` shows real
/// field order.)
#[test]
fn every_kind_of_finding_and_error() {
    let mut log = sarif_value(&all_reports());
    let run = &mut log["runs"][0];
    let driver = &mut run["tool"]["driver"];
    driver["version"] = "[version]".into();
    driver["semanticVersion"] = "[version]".into();
    driver["rules"] = "[the rule table]".into();
    for result in run["results"].as_array_mut().expect("results") {
        result["ruleIndex"] = "[index]".into();
    }
    insta::assert_snapshot!(serde_json::to_string_pretty(&log).expect("JSON"));
}

#[test]
fn the_official_schema_accepts_every_report() {
    assert_valid_sarif(&sarif_value(&all_reports()));
    assert_valid_sarif(&sarif_value(&[]));
    assert_valid_sarif(&sarif_value(&[syntax_error_report()]));
    let mut odd = policy_report();
    odd.display_path = "/abs/päth with space/%.xml".to_owned();
    assert_valid_sarif(&sarif_value(&[odd]));
}

/// The schema check is real: it rejects a log that lacks what the spec requires.
#[test]
fn the_schema_check_rejects_broken_logs() {
    let validator = jsonschema::draft7::new(&sarif_schema()).expect("the schema compiles");
    let mut log = sarif_value(&all_reports());
    assert!(validator.is_valid(&log));
    log["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!validator.is_valid(&log));
    let mut log = sarif_value(&all_reports());
    log["runs"][0]["tool"]["driver"]
        .as_object_mut()
        .expect("driver")
        .remove("name");
    assert!(!validator.is_valid(&log));
}

#[test]
fn driver_lists_every_rule_then_the_syntax_error_pseudo_rule() {
    let log = sarif_value(&[]);
    let driver = &log["runs"][0]["tool"]["driver"];
    assert_eq!(driver["name"], "apimfix");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    let rules = driver["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), Rule::ALL.len() + 1);
    for (descriptor, rule) in rules.iter().zip(Rule::ALL) {
        assert_eq!(descriptor["id"], rule.name());
        assert_eq!(descriptor["shortDescription"]["text"], rule.summary());
        assert!(
            descriptor["helpUri"]
                .as_str()
                .expect("helpUri")
                .ends_with(&format!("#{}", rule.name()))
        );
        let level = match rule.default_severity() {
            apimfix::diagnostic::Severity::Error => "error",
            apimfix::diagnostic::Severity::Warning => "warning",
            apimfix::diagnostic::Severity::Info => "note",
        };
        assert_eq!(descriptor["defaultConfiguration"]["level"], level);
    }
    assert_eq!(rules[Rule::ALL.len()]["id"], "syntax-error");
}

#[test]
fn results_point_at_their_rule_and_region() {
    let log = sarif_value(&all_reports());
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    let results = run["results"].as_array().expect("results");
    // Three findings and one syntax error; the I/O and internal errors are notifications.
    assert_eq!(results.len(), 4);
    for result in results {
        let index = result["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
    }
    let origin = &results[2];
    assert_eq!(origin["ruleId"], "cors-origins");
    assert_eq!(origin["level"], "note");
    let location = &origin["locations"][0]["physicalLocation"];
    assert_eq!(
        location["artifactLocation"]["uri"],
        "apis/echo%20api;rev=2/policy.xml"
    );
    assert_eq!(
        location["region"],
        serde_json::json!({"startLine": 6, "startColumn": 25, "endLine": 6, "endColumn": 45})
    );
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    let invocation = &run["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    assert_eq!(
        invocation["toolExecutionNotifications"]
            .as_array()
            .expect("notifications")
            .len(),
        2
    );
    let clean = sarif_value(&[policy_report()]);
    assert_eq!(
        clean["runs"][0]["invocations"][0]["executionSuccessful"],
        true
    );
}

fn fingerprints(log: &Value) -> Vec<String> {
    log["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            r["partialFingerprints"]["apimfix/v1"]
                .as_str()
                .expect("a fingerprint")
                .to_owned()
        })
        .collect()
}

fn start_lines(log: &Value) -> Vec<u64> {
    log["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["region"]["startLine"]
                .as_u64()
                .expect("startLine")
        })
        .collect()
}

/// Lines added above the findings, and a re-indent, move them but keep their fingerprints.
#[test]
fn fingerprints_survive_line_shifts() {
    let before = policy_report();
    let shift = "<!-- a comment -->\n\n";
    let mut after = FileReport::new(
        before.display_path.clone(),
        None,
        format!("{shift}{}", before.source),
    );
    after.diagnostics = before
        .diagnostics
        .iter()
        .map(|d| {
            let range = TextRange::new(d.range.start() + shift.len(), d.range.end() + shift.len());
            Diagnostic::new(d.rule, range, d.message.clone())
        })
        .collect();
    let (before, after) = (sarif_value(&[before]), sarif_value(&[after]));
    assert_eq!(fingerprints(&before), fingerprints(&after));
    assert_ne!(start_lines(&before), start_lines(&after));
    let all = fingerprints(&before);
    assert!(
        all.iter()
            .all(|f| f.len() == 16 && f.chars().all(|c| c.is_ascii_hexdigit()))
    );
}

/// Two findings of one rule on identical lines differ by their occurrence index; the same
/// line in another file or of another rule differs too.
#[test]
fn fingerprints_tell_identical_lines_apart() {
    let source = "<policies>\n    <cors />\n    <cors />\n</policies>\n";
    let first = source.find("<cors />").expect("first");
    let second = source.rfind("<cors />").expect("second");
    let make = |path: &str, rule: Rule| {
        let mut report = FileReport::new(path, None, source.to_owned());
        report.diagnostics = vec![
            Diagnostic::new(rule, TextRange::new(first, first + 8), "m"),
            Diagnostic::new(rule, TextRange::new(second, second + 8), "m"),
        ];
        report
    };
    let a = fingerprints(&sarif_value(&[make("a.xml", Rule::CorsDuplicate)]));
    let b = fingerprints(&sarif_value(&[make("b.xml", Rule::CorsDuplicate)]));
    let c = fingerprints(&sarif_value(&[make("a.xml", Rule::CorsShadowed)]));
    assert_ne!(a[0], a[1]);
    assert_ne!(a[0], b[0]);
    assert_ne!(a[0], c[0]);
    // The recipe is fixed: FNV-1a 64 of rule, path, trimmed line and occurrence, NUL-joined.
    assert_eq!(
        a[0],
        format!(
            "{:016x}",
            apimfix::report::sarif::fingerprint("cors-duplicate", "a.xml", "<cors />", 0)
        )
    );
    assert_eq!(
        a[1],
        format!(
            "{:016x}",
            apimfix::report::sarif::fingerprint("cors-duplicate", "a.xml", "<cors />", 1)
        )
    );
}

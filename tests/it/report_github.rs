//! GitHub workflow commands.

use crate::report_support::*;
use apimfix::diagnostic::{Diagnostic, Severity};
use apimfix::report::{FileReport, OutputFormat, ReportOptions};
use apimfix::rules::Rule;
use apimfix::text::TextRange;

fn github(files: &[FileReport]) -> String {
    render(OutputFormat::Github, files, &ReportOptions::default())
}

#[test]
fn every_kind_of_finding_and_error() {
    insta::assert_snapshot!(github(&all_reports()));
}

#[test]
fn one_line_per_annotation_and_nothing_else() {
    let out = github(&all_reports());
    assert_eq!(out.lines().count(), 6, "{out}");
    assert!(out.lines().all(|l| l.starts_with("::")), "{out}");
    assert!(out.ends_with('\n'));
}

#[test]
fn columns_only_on_single_line_ranges() {
    let source = "<a>\n  <b>\n  </b>\n</a>\n";
    let mut report = FileReport::new("p.xml", None, source.to_owned());
    let b = source.find("<b>").expect("<b>");
    let b_end = source.find("</b>").expect("</b>") + 4;
    report.diagnostics = vec![
        Diagnostic::new(Rule::CorsDuplicate, TextRange::new(b, b_end), "multi"),
        Diagnostic::new(Rule::CorsDuplicate, TextRange::new(b, b + 3), "single"),
    ];
    let out = github(&[report]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "::warning file=p.xml,line=2,endLine=3,title=apimfix (cors-duplicate)::multi"
    );
    assert_eq!(
        lines[1],
        "::warning file=p.xml,line=2,endLine=2,col=3,endColumn=6,title=apimfix (cors-duplicate)::single"
    );
}

#[test]
fn messages_and_properties_are_escaped() {
    let mut report = FileReport::new("a,b:c%.xml", None, "<a/>\n".to_owned());
    report.diagnostics = vec![Diagnostic::new(
        Rule::CorsDuplicate,
        TextRange::new(0, 4),
        "100% a:b,c\r\nnext",
    )];
    let out = github(&[report]);
    assert_eq!(
        out,
        "::warning file=a%2Cb%3Ac%25.xml,line=1,endLine=1,col=1,endColumn=5,\
         title=apimfix (cors-duplicate)::100%25 a:b,c%0D%0Anext\n"
    );
}

#[test]
fn severities_map_to_levels() {
    let source = "<a/>\n";
    let mut report = FileReport::new("p.xml", None, source.to_owned());
    report.diagnostics = [Severity::Error, Severity::Warning, Severity::Info]
        .into_iter()
        .map(|s| Diagnostic::new(Rule::CorsDuplicate, TextRange::new(0, 4), "m").with_severity(s))
        .collect();
    let out = github(&[report]);
    let commands: Vec<&str> = out
        .lines()
        .map(|l| l.split(' ').next().expect("a command"))
        .collect();
    assert_eq!(commands, ["::error", "::warning", "::notice"]);
}

#[test]
fn ten_of_a_level_need_no_notice() {
    let out = github(&[
        many_findings(10, Severity::Warning),
        many_findings(10, Severity::Error),
    ]);
    assert_eq!(out.lines().count(), 20);
    assert!(!out.contains("::notice"), "{out}");
}

#[test]
fn more_than_ten_of_a_level_end_with_a_notice() {
    let out = github(&[
        many_findings(11, Severity::Warning),
        many_findings(2, Severity::Error),
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 14, "{out}");
    assert!(lines[..13].iter().all(|l| !l.starts_with("::notice")));
    assert_eq!(
        lines[13],
        "::notice title=apimfix::apimfix reported 13 findings (2 errors, 11 warnings), but GitHub \
         shows only the first 10 of each level per step. The log lists them all; run with \
         `--output-format sarif` for the full list in code scanning."
    );
}

/// With ten or more notices, a closing notice would be past GitHub's cap, so it comes first.
#[test]
fn the_overflow_notice_comes_first_when_notices_are_many() {
    let out = github(&[many_findings(12, Severity::Info)]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 13);
    assert!(
        lines[0].starts_with("::notice title=apimfix::apimfix reported 12 findings (12 notices)"),
        "{out}"
    );
    assert!(
        lines[1..]
            .iter()
            .all(|l| l.contains("title=apimfix (cors-duplicate)"))
    );
}

#[test]
fn nothing_to_report_writes_nothing() {
    assert_eq!(github(&[]), "");
}

//! The text report and the summary line.

use crate::report_support::*;
use apimfix::diagnostic::Diagnostic;
use apimfix::fix::{Edit, Fix};
use apimfix::report::text::write_summary;
use apimfix::report::{
    Color, FileErrors, FileReport, FixHints, OutputFormat, ReportOptions, UnsafeFixes,
};
use apimfix::rules::Rule;
use apimfix::text::TextRange;

fn text(files: &[FileReport], options: ReportOptions) -> String {
    render(OutputFormat::Text, files, &options)
}

fn summary(files: &[FileReport], options: ReportOptions) -> String {
    let mut out = Vec::new();
    write_summary(&mut out, files, &options).expect("writing to a Vec");
    String::from_utf8(out).expect("UTF-8")
}

#[test]
fn every_kind_of_finding_and_error() {
    insta::assert_snapshot!(text(&all_reports(), ReportOptions::default()));
}

#[test]
fn unsafe_fixes_enabled_mark_unsafe_fixes_as_applicable() {
    let out = text(
        &[policy_report()],
        ReportOptions {
            unsafe_fixes: UnsafeFixes::Enabled,
            ..ReportOptions::default()
        },
    );
    assert!(out.contains("policy.xml:3:9: cors-first [*]: "), "{out}");
    assert!(
        out.contains("= help: Move `<cors>` before `<rate-limit>`\n"),
        "{out}"
    );
    assert!(!out.contains("unsafe"), "{out}");
}

#[test]
fn unsafe_fixes_disabled_say_unsafe_without_the_flag_hint() {
    let out = text(
        &[policy_report()],
        ReportOptions {
            unsafe_fixes: UnsafeFixes::Disabled,
            ..ReportOptions::default()
        },
    );
    assert!(out.contains("policy.xml:3:9: cors-first: "), "{out}");
    assert!(out.contains("(unsafe fix)\n"), "{out}");
    assert!(!out.contains("--unsafe-fixes"), "{out}");
}

#[test]
fn hidden_fix_hints_drop_marks_and_help() {
    let out = text(
        &[policy_report()],
        ReportOptions {
            fix_hints: FixHints::Hide,
            ..ReportOptions::default()
        },
    );
    assert!(!out.contains("[*]"), "{out}");
    assert!(!out.contains("help:"), "{out}");
    assert!(
        out.contains("policy.xml:2:5: base-missing: `<inbound>` lacks"),
        "{out}"
    );
}

#[test]
fn display_only_fixes_are_suggestions_never_marked() {
    let mut report = FileReport::new("p.xml", None, "<policies />\n".to_owned());
    report.diagnostics = vec![
        Diagnostic::new(Rule::BaseForbidden, TextRange::new(0, 12), "m").with_fix(
            "Do something",
            Fix::new(
                apimfix::fix::Applicability::DisplayOnly,
                Edit::deletion(TextRange::new(0, 12)),
                [],
            ),
        ),
    ];
    let out = text(&[report], ReportOptions::default());
    assert!(out.starts_with("p.xml:1:1: base-forbidden: m\n"), "{out}");
    assert!(
        out.contains("= help: Do something (suggestion: apply it by hand)"),
        "{out}"
    );
}

#[test]
fn columns_count_chars_not_bytes() {
    // `é` is two bytes; `<b/>` is the fifth char of the line.
    let source = "<a>é<b/></a>\n";
    let mut report = FileReport::new("x.xml", None, source.to_owned());
    let start = source.find("<b/>").expect("<b/>");
    report.diagnostics = vec![Diagnostic::new(
        Rule::CorsDuplicate,
        TextRange::new(start, start + 4),
        "here",
    )];
    let out = text(&[report], ReportOptions::default());
    assert!(
        out.starts_with("x.xml:1:5: cors-duplicate: here\n"),
        "{out}"
    );
    assert!(out.contains("1 | <a>é<b/></a>\n  |     ^^^^\n"), "{out}");
}

/// A range over several lines, an empty range and a range at the very end, in a CRLF file
/// with tabs: no `\r` shows, and every block points at the right lines.
#[test]
fn multi_line_empty_and_end_of_file_ranges_in_a_crlf_file() {
    let source =
        "<policies>\r\n\t<inbound>\r\n\t\t<cors>\r\n\t\t</cors>\r\n\t</inbound>\r\n</policies>";
    let cors = source.find("<cors>").expect("<cors>");
    let cors_end = source.find("</cors>").expect("</cors>") + "</cors>".len();
    let mut report = FileReport::new("crlf.xml", None, source.to_owned());
    report.diagnostics = vec![
        Diagnostic::new(Rule::CorsDuplicate, TextRange::new(cors, cors_end), "multi"),
        Diagnostic::new(Rule::CorsDuplicate, TextRange::empty(cors), "empty"),
        Diagnostic::new(
            Rule::CorsDuplicate,
            TextRange::empty(source.len()),
            "at the end",
        ),
    ];
    let out = text(&[report], ReportOptions::default());
    assert!(!out.contains('\r'), "{out:?}");
    insta::assert_snapshot!(out);
}

/// A range that ends just after a line break does not drag the next line into the snippet.
#[test]
fn a_range_ending_after_a_line_break_shows_only_its_lines() {
    let source = "<a>\n<b/>\n<c/>\n</a>\n";
    let start = source.find("<b/>").expect("<b/>");
    let mut report = FileReport::new("x.xml", None, source.to_owned());
    report.diagnostics = vec![Diagnostic::new(
        Rule::CorsDuplicate,
        TextRange::new(start, start + "<b/>\n".len()),
        "line",
    )];
    let out = text(&[report], ReportOptions::default());
    assert!(out.contains("2 | <b/>"), "{out}");
    assert!(!out.contains("<c/>"), "{out}");
}

/// Ranges past the end of the source (e.g. computed on undecoded bytes) are clamped, never a
/// panic.
#[test]
fn out_of_bounds_ranges_are_clamped() {
    let mut report = FileReport::new("x.xml", None, "<a>é</a>".to_owned());
    report.diagnostics = vec![
        Diagnostic::new(Rule::CorsDuplicate, TextRange::new(4, 5), "mid-char"),
        Diagnostic::new(Rule::CorsDuplicate, TextRange::new(50, 60), "past the end"),
    ];
    let out = text(&[report], ReportOptions::default());
    assert!(out.contains("x.xml:1:4: cors-duplicate: mid-char"), "{out}");
    assert!(
        out.contains("x.xml:1:9: cors-duplicate: past the end"),
        "{out}"
    );
}

/// A file can hold escape sequences in its name, its text and (through them) the messages; none
/// reaches the terminal, and without colour the output has no ESC byte at all.
#[test]
fn no_escape_byte_without_colour_even_from_hostile_input() {
    let source = "<policies>\x1b[31m\n</policies>\n";
    let mut report = FileReport::new("evil\x1b[2J.xml", None, source.to_owned());
    report.diagnostics = vec![
        Diagnostic::new(
            Rule::CorsDuplicate,
            TextRange::new(0, 15),
            "msg \x1b]0;title\x07",
        )
        .with_fix("Fix \x1b[1m", Fix::safe(Edit::insertion(0, "x"), [])),
    ];
    let mut files = all_reports();
    files.push(report);
    let out = text(&files, ReportOptions::default());
    assert!(!out.contains('\x1b'), "{out:?}");
    assert!(out.contains("evil␛[2J.xml:1:1:"), "{out}");
    let summary = summary(&files, ReportOptions::default());
    assert!(!summary.contains('\x1b'), "{summary:?}");
}

/// With colour, the report is the plain one plus styling: stripping the escapes gives the
/// plain output back.
#[test]
fn colour_only_adds_styling() {
    let colored = ReportOptions {
        color: Color::Always,
        ..ReportOptions::default()
    };
    let styled = text(&all_reports(), colored);
    assert!(styled.contains("\x1b["), "{styled:?}");
    let stripped = anstream::adapter::strip_str(&styled).to_string();
    assert_eq!(stripped, text(&all_reports(), ReportOptions::default()));

    let styled = summary(&all_reports(), colored);
    assert!(styled.contains("\x1b["));
    assert_eq!(
        anstream::adapter::strip_str(&styled).to_string(),
        summary(&all_reports(), ReportOptions::default())
    );
}

#[test]
fn the_syntax_error_of_the_parser_shows_its_related_location() {
    let out = text(&[syntax_error_report()], ReportOptions::default());
    let headline = out.lines().next().expect("a headline");
    assert!(
        headline.starts_with("apis/broken/policy.xml:4:5: error: "),
        "{out}"
    );
    // The related location (where `<inbound>` opened) is annotated on line 2.
    assert!(
        out.contains("2 |     <inbound>\n  |     ---------"),
        "{out}"
    );
    assert!(
        out.contains("4 |     </outbound>\n  |     ^^^^^^^^^^^"),
        "{out}"
    );
}

#[test]
fn summary_counts_and_plurals() {
    let default = ReportOptions::default();
    let with = |unsafe_fixes| ReportOptions {
        unsafe_fixes,
        ..ReportOptions::default()
    };
    let one_safe = {
        let mut report = policy_report();
        report.diagnostics.retain(|d| d.rule == Rule::BaseMissing);
        report
    };
    let two_unsafe = {
        let mut report = policy_report();
        let cors_first = report
            .diagnostics
            .iter()
            .find(|d| d.rule == Rule::CorsFirst)
            .expect("cors-first")
            .clone();
        report.diagnostics = vec![cors_first.clone(), cors_first];
        report
    };
    let cases: Vec<(&str, Vec<FileReport>, ReportOptions, &str)> = vec![
        ("nothing", vec![], default, "No findings\n"),
        (
            "one safe",
            vec![one_safe],
            default,
            "1 finding\n[*] 1 fixable with `apimfix fix --write`\n",
        ),
        (
            "default",
            vec![policy_report()],
            default,
            "3 findings\n[*] 1 fixable with `apimfix fix --write` (1 hidden fix can be enabled with `--unsafe-fixes`)\n",
        ),
        (
            "two hidden",
            vec![two_unsafe],
            default,
            "2 findings\nNo fixes available (2 hidden fixes can be enabled with `--unsafe-fixes`)\n",
        ),
        (
            "enabled",
            vec![policy_report()],
            with(UnsafeFixes::Enabled),
            "3 findings\n[*] 2 fixable with `apimfix fix --write --unsafe-fixes`\n",
        ),
        (
            "disabled",
            vec![policy_report()],
            with(UnsafeFixes::Disabled),
            "3 findings\n[*] 1 fixable with `apimfix fix --write`\n",
        ),
        (
            "hints hidden",
            vec![policy_report()],
            ReportOptions {
                fix_hints: FixHints::Hide,
                ..default
            },
            "3 findings\n",
        ),
        (
            "one error",
            vec![io_error_report()],
            default,
            "No findings; 1 file with errors\n",
        ),
        (
            "all",
            all_reports(),
            default,
            "3 findings; 3 files with errors\n[*] 1 fixable with `apimfix fix --write` \
             (1 hidden fix can be enabled with `--unsafe-fixes`)\n",
        ),
    ];
    for (name, files, options, expected) in cases {
        assert_eq!(summary(&files, options), expected, "case {name}");
    }
}

/// A file that was too large or not UTF-8 may come with no text at all; its error still
/// renders, pointing at 1:1.
#[test]
fn a_syntax_error_in_a_file_without_text() {
    use apimfix::report::FileError;
    use apimfix::syntax::{SyntaxError, SyntaxErrorKind};
    let mut report = FileReport::new("big.xml", None, String::new());
    report.error = Some(FileError::Syntax(SyntaxError::new(
        SyntaxErrorKind::NotUtf8,
        TextRange::new(1000, 1001),
        "not UTF-8: an invalid byte sequence",
    )));
    let files = [report];
    let out = text(&files, ReportOptions::default());
    assert!(
        out.starts_with("big.xml:1:1: error: not UTF-8: an invalid byte sequence\n"),
        "{out}"
    );
    for format in [
        OutputFormat::Json,
        OutputFormat::Sarif,
        OutputFormat::Github,
        OutputFormat::Rdjson,
    ] {
        assert!(!render(format, &files, &ReportOptions::default()).is_empty());
    }
}

#[test]
fn omitted_file_errors_leave_the_findings_as_they_were() {
    let all = text(&all_reports(), ReportOptions::default());
    let findings_only = text(
        &all_reports(),
        ReportOptions {
            file_errors: FileErrors::Omit,
            ..ReportOptions::default()
        },
    );
    let policy_only = text(&[policy_report()], ReportOptions::default());
    assert_eq!(findings_only, policy_only);
    assert!(all.starts_with(&findings_only) && all.len() > findings_only.len());
}

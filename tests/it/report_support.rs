//! Hand-made reports shared by the `report_*` tests: a small policy with findings of every
//! kind (safe, unsafe and no fix; warning, error and info; non-ASCII on the line) and files
//! that could not be checked.

#![allow(dead_code)]

use apimfix::diagnostic::{Diagnostic, Severity};
use apimfix::fix::{Edit, Fix};
use apimfix::report::{FileError, FileReport};
use apimfix::rules::Rule;
use apimfix::syntax::{self, SyntaxError, SyntaxErrorKind};
use apimfix::text::{Ranged, TextRange};

pub const POLICY: &str = include_str!("../fixtures/report/policy.xml");

/// `apis/echo api;rev=2/policy.xml` with three findings:
/// - `cors-first` on `<rate-limit>`, with an unsafe fix of two edits (move `<cors>` up);
/// - `base-missing` on `<inbound>`'s start tag, with a safe insertion;
/// - `cors-origins` (as info) on the origin's text, which holds a non-ASCII char, no fix.
pub fn policy_report() -> FileReport {
    let doc = syntax::parse(POLICY).expect("the fixture parses");
    let inbound = doc.root().child("inbound").expect("<inbound>");
    let rate_limit = inbound.child("rate-limit").expect("<rate-limit>");
    let cors = inbound.child("cors").expect("<cors>");
    let origin = cors
        .descendants()
        .find(|e| e.is("origin"))
        .expect("<origin>");

    // Move `<cors>` (with the indentation before it) above `<rate-limit>`.
    let cors_text = &POLICY[cors.range().to_std()];
    let indent_start = POLICY[..cors.range().start()]
        .rfind('\n')
        .expect("a line break before <cors>");
    let move_cors = Fix::unsafe_(
        Edit::insertion(rate_limit.range().start(), format!("{cors_text}\n        ")),
        [Edit::deletion(TextRange::new(
            indent_start,
            cors.range().end(),
        ))],
    );
    let insert_base = Fix::safe(
        Edit::insertion(inbound.start_tag().end(), "\n        <base />"),
        [],
    );

    let mut report = FileReport::new("apis/echo api;rev=2/policy.xml", None, POLICY.to_owned());
    report.diagnostics = vec![
        Diagnostic::new(
            Rule::BaseMissing,
            inbound.start_tag(),
            "`<inbound>` lacks `<base />`",
        )
        .with_fix("Insert `<base />`", insert_base),
        Diagnostic::new(
            Rule::CorsFirst,
            rate_limit.range(),
            "`<rate-limit>` runs before `<cors>`, so rejected calls lack CORS headers",
        )
        .with_fix("Move `<cors>` before `<rate-limit>`", move_cors),
        Diagnostic::new(
            Rule::CorsOrigins,
            origin.inner_range(),
            "Origin `https://café.example` is not a declared front-end origin",
        )
        .with_severity(Severity::Info),
    ];
    report.diagnostics.sort_by_key(|d| d.range.start());
    report
}

/// A file that does not parse: its `</inbound>` closes `<outbound>`.
pub const BROKEN: &str =
    "<policies>\n    <inbound>\n        <base />\n    </outbound>\n</policies>\n";

pub fn syntax_error_report() -> FileReport {
    let error = syntax::parse(BROKEN).expect_err("the fixture does not parse");
    let mut report = FileReport::new("apis/broken/policy.xml", None, BROKEN.to_owned());
    report.error = Some(FileError::Syntax(error));
    report
}

/// A hand-made syntax error with a label and a related location, so the test does not depend
/// on the parser's wording.
pub fn labelled_syntax_error_report() -> FileReport {
    let open = BROKEN.find("<inbound>").expect("<inbound>");
    let close = BROKEN.find("</outbound>").expect("</outbound>");
    let error = SyntaxError::new(
        SyntaxErrorKind::MismatchedTag,
        TextRange::new(close, close + "</outbound>".len()),
        "expected `</inbound>`, found `</outbound>`",
    )
    .with_label("this closes `<outbound>`")
    .with_related(
        TextRange::new(open, open + "<inbound>".len()),
        "`<inbound>` opens here",
    );
    let mut report = FileReport::new("apis/broken/policy.xml", None, BROKEN.to_owned());
    report.error = Some(FileError::Syntax(error));
    report
}

pub fn io_error_report() -> FileReport {
    let mut report = FileReport::new("apis/gone/policy.xml", None, String::new());
    report.error = Some(FileError::Io(std::io::Error::new(
        std::io::ErrorKind::PermissionDenied,
        "permission denied",
    )));
    report
}

pub fn internal_error_report() -> FileReport {
    let mut report = FileReport::new("apis/echo/policy.xml", None, POLICY.to_owned());
    report.error = Some(FileError::Internal(
        "the fix of `cors-first` produced text that does not parse".to_owned(),
    ));
    report
}

/// Every kind of file: findings, a syntax error, an I/O error and an internal error.
pub fn all_reports() -> Vec<FileReport> {
    vec![
        policy_report(),
        labelled_syntax_error_report(),
        io_error_report(),
        internal_error_report(),
    ]
}

/// `n` findings of `severity`, all in one file.
pub fn many_findings(n: usize, severity: Severity) -> FileReport {
    let doc = syntax::parse(POLICY).expect("the fixture parses");
    let inbound = doc.root().child("inbound").expect("<inbound>");
    let mut report = FileReport::new("apis/many/policy.xml", None, POLICY.to_owned());
    report.diagnostics = (0..n)
        .map(|i| {
            Diagnostic::new(
                Rule::CorsDuplicate,
                inbound.start_tag(),
                format!("finding {i}"),
            )
            .with_severity(severity)
        })
        .collect();
    report
}

pub fn render(
    format: apimfix::report::OutputFormat,
    files: &[FileReport],
    options: &apimfix::report::ReportOptions,
) -> String {
    let mut out = Vec::new();
    apimfix::report::write_report(format, &mut out, files, options).expect("writing to a Vec");
    String::from_utf8(out).expect("reports are UTF-8")
}

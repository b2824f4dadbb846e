//! reviewdog's rdjson (Reviewdog Diagnostic Format, `DiagnosticResult` message), for
//! `reviewdog -f=rdjson`, which can post fixes as GitHub suggestions.
//!
//! ```json
//! {
//!   "source": { "name": "apimfix", "url": "https://github.com/apimfix/apimfix" },
//!   "severity": "WARNING",
//!   "diagnostics": [
//!     {
//!       "message": "`<rate-limit>` runs before `<cors>`",
//!       "location": {
//!         "path": "apis/echo/policy.xml",
//!         "range": { "start": { "line": 4, "column": 9 }, "end": { "line": 4, "column": 54 } }
//!       },
//!       "severity": "WARNING",
//!       "code": { "value": "cors-first", "url": "https://github.com/apimfix/apimfix#cors-first" },
//!       "suggestions": [ { "range": { "start": ..., "end": ... }, "text": "<cors />" } ]
//!     }
//!   ]
//! }
//! ```
//!
//! Positions follow reviewdog's proto (`proto/rdf/reviewdog.proto`): lines and columns start at
//! 1, columns count **UTF-8 bytes** within the line (unlike apimfix's other formats, which count
//! chars), and the end is exclusive. The top-level `severity` is the default for diagnostics
//! without one; every diagnostic carries its own, so it only matters to readers that ignore
//! them.
//!
//! Suggestions: `suggestions` is left out when there is no fix, because `null` fails the rdjson
//! schema (as in ruff's PR #11682). A fix becomes **one** suggestion covering all its edits,
//! whose text is the covered source with the edits applied. reviewdog posts each suggestion of
//! a diagnostic as a separate alternative and requires them all on the first one's lines, so
//! one suggestion per edit would offer half a fix (e.g. the deletion of a moved `<cors>`
//! without its insertion). Every fix is offered whatever its applicability: a reviewer accepts
//! a suggestion by hand. File errors become `ERROR` diagnostics with the codes `syntax-error`,
//! `io-error` and `internal-error`.

use std::io::{self, Write};

use serde::Serialize;

use super::{FileError, FileReport, HOMEPAGE, Position, rule_url};
use crate::diagnostic::{Diagnostic, Severity};
use crate::fix::Fix;
use crate::text::{Ranged, TextRange};

#[derive(Serialize)]
struct DiagnosticResult<'a> {
    source: Source,
    severity: &'static str,
    diagnostics: Vec<RdDiagnostic<'a>>,
}

#[derive(Serialize)]
struct Source {
    name: &'static str,
    url: &'static str,
}

#[derive(Serialize)]
struct RdDiagnostic<'a> {
    message: String,
    location: Location<'a>,
    severity: &'static str,
    code: Code,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suggestions: Vec<Suggestion>,
}

#[derive(Serialize)]
struct Location<'a> {
    path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    range: Option<Range>,
}

#[derive(Serialize)]
struct Range {
    start: RdPosition,
    end: RdPosition,
}

#[derive(Serialize)]
struct RdPosition {
    line: usize,
    column: usize,
}

impl From<Position> for RdPosition {
    fn from(position: Position) -> Self {
        RdPosition {
            line: position.line,
            column: position.byte_column,
        }
    }
}

#[derive(Serialize)]
struct Code {
    value: &'static str,
    url: String,
}

#[derive(Serialize)]
struct Suggestion {
    range: Range,
    text: String,
}

/// Writes the rdjson report of `files`, followed by a newline.
pub fn write(out: &mut dyn Write, files: &[FileReport]) -> io::Result<()> {
    let result = DiagnosticResult {
        source: Source {
            name: "apimfix",
            url: HOMEPAGE,
        },
        severity: "WARNING",
        diagnostics: files
            .iter()
            .flat_map(|file| {
                file.diagnostics
                    .iter()
                    .map(move |d| diagnostic(file, d))
                    .chain(file.error.as_ref().map(|e| file_error(file, e)))
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &result)?;
    out.write_all(b"\n")
}

fn severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "ERROR",
        Severity::Warning => "WARNING",
        Severity::Info => "INFO",
    }
}

fn range(file: &FileReport, range: TextRange) -> Range {
    let range = file.clamp(range);
    Range {
        start: file.position(range.start()).into(),
        end: file.position(range.end()).into(),
    }
}

fn diagnostic<'a>(file: &'a FileReport, diagnostic: &Diagnostic) -> RdDiagnostic<'a> {
    // reviewdog's GitHub reporter posts a suggestion only on the lines of its comment ("GitHub
    // comment range and suggestion line range must be same"): a finding with a fix is placed on
    // the whole lines its one suggestion replaces, so a move arrives whole or not at all.
    // Only safe fixes are suggested: a reviewer accepts a suggestion with one click.
    let fix = diagnostic
        .fix
        .as_ref()
        .filter(|f| f.applicability() == crate::fix::Applicability::Safe);
    let at = match fix {
        Some(fix) => whole_lines(file, fix.range()),
        None => diagnostic.range,
    };
    RdDiagnostic {
        message: diagnostic.message.clone(),
        location: Location {
            path: &file.display_path,
            range: Some(range(file, at)),
        },
        severity: severity(diagnostic.severity),
        code: Code {
            value: diagnostic.rule.name(),
            url: rule_url(diagnostic.rule.name()),
        },
        suggestions: fix.map(|fix| suggestion(file, fix)).into_iter().collect(),
    }
}

/// One suggestion replacing the range all edits cover with that text after the edits.
/// `range` widened to whole lines: from the start of its first line to the end of its last
/// line, the line break left out.
fn whole_lines(file: &FileReport, range: TextRange) -> TextRange {
    let range = file.clamp(range);
    let src = &file.source;
    let start = src[..range.start()].rfind('\n').map_or(0, |n| n + 1);
    let end = src[range.end()..]
        .find('\n')
        .map_or(src.len(), |n| range.end() + n);
    let end = if end > start && src.as_bytes()[end - 1] == b'\r' && end > range.end() {
        end - 1
    } else {
        end
    };
    TextRange::new(start, end.max(range.end()))
}

fn suggestion(file: &FileReport, fix: &Fix) -> Suggestion {
    let cover = whole_lines(file, fix.range());
    let mut text = String::new();
    let mut cursor = cover.start();
    for edit in fix.edits() {
        let edit_range = file.clamp(edit.range());
        // Edits are sorted and disjoint; `max` only guards against a broken fix.
        let start = edit_range.start().max(cursor);
        text.push_str(&file.source[cursor..start]);
        text.push_str(edit.content());
        cursor = edit_range.end().max(start);
    }
    text.push_str(&file.source[cursor..cover.end()]);
    Suggestion {
        range: range(file, cover),
        text,
    }
}

fn file_error<'a>(file: &'a FileReport, error: &FileError) -> RdDiagnostic<'a> {
    let (code, range, message) = match error {
        FileError::Syntax(e) => (
            "syntax-error",
            Some(range(file, e.range)),
            e.message.clone(),
        ),
        FileError::Io(e) => ("io-error", None, e.to_string()),
        FileError::Other(message) => ("io-error", None, message.clone()),
        FileError::Internal(message) => (
            "internal-error",
            None,
            format!("{message} (a bug in apimfix; the file was left unchanged)"),
        ),
    };
    RdDiagnostic {
        message,
        location: Location {
            path: &file.display_path,
            range,
        },
        severity: "ERROR",
        code: Code {
            value: code,
            url: rule_url(code),
        },
        suggestions: Vec::new(),
    }
}

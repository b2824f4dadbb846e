//! apimfix's own JSON report: every finding with every fix, for scripts and bots.
//!
//! The report is one JSON object, pretty-printed, with fields in the order shown. Version 1:
//!
//! ```json
//! {
//!   "version": 1,
//!   "findings": [
//!     {
//!       "rule": "cors-first",
//!       "severity": "warning",
//!       "message": "`<rate-limit>` runs before `<cors>`",
//!       "path": "apis/echo/policy.xml",
//!       "location": { "line": 4, "column": 9 },
//!       "end_location": { "line": 4, "column": 53 },
//!       "range": { "start": 61, "end": 105 },
//!       "fix": {
//!         "applicability": "unsafe",
//!         "title": "Move `<cors>` before `<rate-limit>`",
//!         "edits": [
//!           {
//!             "range": { "start": 61, "end": 61 },
//!             "location": { "line": 4, "column": 9 },
//!             "end_location": { "line": 4, "column": 9 },
//!             "content": "<cors />\n        "
//!           }
//!         ]
//!       }
//!     }
//!   ],
//!   "errors": [
//!     {
//!       "path": "apis/broken/policy.xml",
//!       "kind": "syntax",
//!       "message": "expected `</inbound>`, found `</outbound>`",
//!       "location": { "line": 7, "column": 5 }
//!     }
//!   ]
//! }
//! ```
//!
//! - `findings` lists the files in the order given, each file's findings by position.
//! - `severity`: `"error"`, `"warning"` or `"info"`.
//! - `location`/`end_location`: 1-based line and column; the column counts chars (Unicode
//!   scalar values), a tab as one. `end_location` is the position just after the range.
//! - `range`: UTF-8 byte offsets into the file as read, `end` exclusive.
//! - `fix`: `null` when the rule offers none. `applicability` is `"safe"` (applied by `fix`),
//!   `"unsafe"` (applied with `--unsafe-fixes`) or `"display-only"` (never applied). `title` is
//!   a string (`null` only if a rule forgot it). Every fix is listed whatever the run's
//!   `--unsafe-fixes` setting. `edits` are sorted and never overlap; apply them all together,
//!   each replacing its `range` with `content` (empty range: insertion; empty content: deletion).
//! - `errors`: files that could not be checked. `kind` is `"syntax"` (does not parse; it is
//!   never rewritten), `"io"` (could not be read or written) or `"internal"` (an apimfix bug).
//!   `location` is set for syntax errors and `null` otherwise.
//!
//! Fields are only ever added within a version; a removal or a change of meaning bumps
//! `version`.

use std::io::{self, Write};

use serde::Serialize;

use super::{FileError, FileReport, Position};
use crate::diagnostic::Diagnostic;
use crate::fix::{Applicability, Edit};
use crate::text::{Ranged, TextRange};

/// The schema version written in every report.
pub const VERSION: u32 = 1;

#[derive(Serialize)]
struct Report<'a> {
    version: u32,
    findings: Vec<Finding<'a>>,
    errors: Vec<Error<'a>>,
}

#[derive(Serialize)]
struct Finding<'a> {
    rule: &'static str,
    severity: &'static str,
    message: &'a str,
    path: &'a str,
    location: Location,
    end_location: Location,
    range: Range,
    fix: Option<FixJson<'a>>,
}

#[derive(Serialize)]
struct FixJson<'a> {
    applicability: Applicability,
    title: Option<&'a str>,
    edits: Vec<EditJson<'a>>,
}

#[derive(Serialize)]
struct EditJson<'a> {
    range: Range,
    location: Location,
    end_location: Location,
    content: &'a str,
}

#[derive(Serialize)]
struct Error<'a> {
    path: &'a str,
    kind: &'static str,
    message: String,
    location: Option<Location>,
}

#[derive(Serialize)]
struct Location {
    line: usize,
    column: usize,
}

impl From<Position> for Location {
    fn from(position: Position) -> Self {
        Location {
            line: position.line,
            column: position.column,
        }
    }
}

#[derive(Serialize)]
struct Range {
    start: usize,
    end: usize,
}

impl From<TextRange> for Range {
    fn from(range: TextRange) -> Self {
        Range {
            start: range.start(),
            end: range.end(),
        }
    }
}

/// Writes the JSON report of `files`, followed by a newline.
pub fn write(out: &mut dyn Write, files: &[FileReport]) -> io::Result<()> {
    let report = Report {
        version: VERSION,
        findings: files
            .iter()
            .flat_map(|file| file.diagnostics.iter().map(move |d| finding(file, d)))
            .collect(),
        errors: files.iter().filter_map(error).collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    out.write_all(b"\n")
}

fn finding<'a>(file: &'a FileReport, diagnostic: &'a Diagnostic) -> Finding<'a> {
    let range = file.clamp(diagnostic.range);
    Finding {
        rule: diagnostic.rule.name(),
        severity: diagnostic.severity.as_str(),
        message: &diagnostic.message,
        path: &file.display_path,
        location: file.position(range.start()).into(),
        end_location: file.position(range.end()).into(),
        range: range.into(),
        fix: diagnostic.fix.as_ref().map(|fix| FixJson {
            applicability: fix.applicability(),
            title: diagnostic.fix_title.as_deref(),
            edits: fix
                .edits()
                .iter()
                .map(|edit| edit_json(file, edit))
                .collect(),
        }),
    }
}

fn edit_json<'a>(file: &FileReport, edit: &'a Edit) -> EditJson<'a> {
    let range = file.clamp(edit.range());
    EditJson {
        range: range.into(),
        location: file.position(range.start()).into(),
        end_location: file.position(range.end()).into(),
        content: edit.content(),
    }
}

fn error(file: &FileReport) -> Option<Error<'_>> {
    let (kind, message, location) = match file.error.as_ref()? {
        FileError::Syntax(e) => (
            "syntax",
            e.message.clone(),
            Some(file.position(file.clamp(e.range).start()).into()),
        ),
        FileError::Io(e) => ("io", e.to_string(), None),
        FileError::Other(message) => ("io", message.clone(), None),
        FileError::Internal(message) => ("internal", message.clone(), None),
    };
    Some(Error {
        path: &file.display_path,
        kind,
        message,
        location,
    })
}

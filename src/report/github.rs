//! GitHub Actions workflow commands: each finding becomes an annotation on the run and on the
//! pull request's changed files.
//!
//! ```text
//! ::warning file=apis/echo/policy.xml,line=4,endLine=4,col=9,endColumn=54,title=apimfix (cors-first)::`<rate-limit>` runs before `<cors>`
//! ```
//!
//! - The command is `error`, `warning` or `notice` by severity (info is `notice`).
//! - `line`/`endLine` are 1-based; `col`/`endColumn` count chars from 1 and are given only when
//!   the range starts and ends on one line, as GitHub requires. `endColumn` is the column just
//!   after the range (exclusive, as in ruff's GitHub output).
//! - The message is the finding's message; a fix title follows on its own line as `help: ...`.
//! - Escaping follows actions/toolkit: `%`, CR and LF in the message; additionally `:` and `,`
//!   in property values.
//! - Files that could not be checked are `::error`s with the title `apimfix (syntax-error)`,
//!   `apimfix (io-error)` or `apimfix (internal-error)`.
//!
//! GitHub shows at most 10 annotations of each level per step and silently drops the rest.
//! Every annotation is still written (the log keeps them), and when a level has more than 10,
//! a `::notice` at the end says how many findings exist and points to `--output-format sarif`.
//! When the notices themselves are that many, that closing notice would be dropped too, so it
//! is written first instead.

use std::io::{self, Write};

use super::{FileError, FileReport, Position};
use crate::diagnostic::{Diagnostic, Severity};
use crate::fix::Applicability;

/// Annotations GitHub shows per level and step.
pub const ANNOTATIONS_SHOWN_PER_LEVEL: usize = 10;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Error,
    Warning,
    Notice,
}

impl Level {
    fn of(severity: Severity) -> Level {
        match severity {
            Severity::Error => Level::Error,
            Severity::Warning => Level::Warning,
            Severity::Info => Level::Notice,
        }
    }

    fn command(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Notice => "notice",
        }
    }
}

/// One annotation before it is written.
struct Annotation {
    level: Level,
    path: String,
    /// Start and end position; `None` for a whole-file annotation.
    span: Option<(Position, Position)>,
    title: String,
    message: String,
}

/// Writes one workflow command per finding and per file error, and the overflow notice.
pub fn write(out: &mut dyn Write, files: &[FileReport]) -> io::Result<()> {
    let annotations: Vec<Annotation> = files
        .iter()
        .flat_map(|file| {
            file.diagnostics
                .iter()
                .map(move |d| finding(file, d))
                .chain(file.error.as_ref().map(|e| file_error(file, e)))
        })
        .collect();

    let count = |level: Level| annotations.iter().filter(|a| a.level == level).count();
    let (errors, warnings, notices) = (
        count(Level::Error),
        count(Level::Warning),
        count(Level::Notice),
    );
    let overflow = [errors, warnings, notices]
        .iter()
        .any(|&n| n > ANNOTATIONS_SHOWN_PER_LEVEL);
    let notice = overflow.then(|| overflow_notice(errors, warnings, notices));
    // The closing notice is a notice too: put it first when it would be past GitHub's cap.
    let notice_first = notices >= ANNOTATIONS_SHOWN_PER_LEVEL;

    if let (Some(notice), true) = (&notice, notice_first) {
        write_command(out, notice)?;
    }
    for annotation in &annotations {
        write_command(out, annotation)?;
    }
    if let (Some(notice), false) = (&notice, notice_first) {
        write_command(out, notice)?;
    }
    Ok(())
}

fn finding(file: &FileReport, diagnostic: &Diagnostic) -> Annotation {
    let range = file.clamp(diagnostic.range);
    let mut message = diagnostic.message.clone();
    if let (Some(fix), Some(title)) = (&diagnostic.fix, &diagnostic.fix_title) {
        let kind = match fix.applicability() {
            Applicability::Safe => "",
            Applicability::Unsafe => " (unsafe fix)",
            Applicability::DisplayOnly => " (suggestion)",
        };
        message.push_str(&format!("\nhelp: {title}{kind}"));
    }
    Annotation {
        level: Level::of(diagnostic.severity),
        path: file.display_path.clone(),
        span: Some((file.position(range.start()), file.position(range.end()))),
        title: format!("apimfix ({})", diagnostic.rule.name()),
        message,
    }
}

fn file_error(file: &FileReport, error: &FileError) -> Annotation {
    let (rule, span, message) = match error {
        FileError::Syntax(e) => {
            let range = file.clamp(e.range);
            let span = (file.position(range.start()), file.position(range.end()));
            let message = match &e.label {
                Some(label) => format!("{}\n{label}", e.message),
                None => e.message.clone(),
            };
            ("syntax-error", Some(span), message)
        }
        FileError::Io(e) => ("io-error", None, e.to_string()),
        FileError::Other(message) => ("io-error", None, message.clone()),
        FileError::Internal(message) => (
            "internal-error",
            None,
            format!("{message}\nThis is a bug in apimfix; the file was left unchanged."),
        ),
    };
    Annotation {
        level: Level::Error,
        path: file.display_path.clone(),
        span,
        title: format!("apimfix ({rule})"),
        message,
    }
}

fn overflow_notice(errors: usize, warnings: usize, notices: usize) -> Annotation {
    let total = errors + warnings + notices;
    let mut parts = Vec::new();
    for (n, one, many) in [
        (errors, "error", "errors"),
        (warnings, "warning", "warnings"),
        (notices, "notice", "notices"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {}", if n == 1 { one } else { many }));
        }
    }
    Annotation {
        level: Level::Notice,
        path: String::new(),
        span: None,
        title: "apimfix".to_owned(),
        message: format!(
            "apimfix reported {total} findings ({}), but GitHub shows only the first \
             {ANNOTATIONS_SHOWN_PER_LEVEL} of each level per step. The log lists them all; \
             run with `--output-format sarif` for the full list in code scanning.",
            parts.join(", ")
        ),
    }
}

fn write_command(out: &mut dyn Write, annotation: &Annotation) -> io::Result<()> {
    let mut properties = Vec::new();
    if !annotation.path.is_empty() {
        properties.push(format!("file={}", escape_property(&annotation.path)));
    }
    if let Some((start, end)) = annotation.span {
        properties.push(format!("line={}", start.line));
        properties.push(format!("endLine={}", end.line));
        if start.line == end.line {
            properties.push(format!("col={}", start.column));
            properties.push(format!("endColumn={}", end.column));
        }
    }
    properties.push(format!("title={}", escape_property(&annotation.title)));
    writeln!(
        out,
        "::{} {}::{}",
        annotation.level.command(),
        properties.join(","),
        escape_data(&annotation.message)
    )
}

/// actions/toolkit's `escapeData`: for the message after `::`.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// actions/toolkit's `escapeProperty`: for property values, which `:` and `,` would end.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_the_toolkit() {
        assert_eq!(escape_data("100% a:b,c\r\nd"), "100%25 a:b,c%0D%0Ad");
        assert_eq!(
            escape_property("100% a:b,c\r\nd"),
            "100%25 a%3Ab%2Cc%0D%0Ad"
        );
    }
}

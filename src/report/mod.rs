//! Reports: everything the tool prints about files, in every output format.
//!
//! A report knows nothing about rules beyond [`crate::rules::Rule`]'s metadata, and rules know
//! nothing about reports. Every format writes into a `&mut dyn Write`, so tests print into a
//! `Vec<u8>`.
//!
//! [`write_report`] is the one entry point: it writes the findings and file errors of a run in
//! one [`OutputFormat`]. The machine formats (JSON, SARIF, GitHub, rdjson) write the report and
//! nothing else; the human summary line ([`text::write_summary`]) is a separate call, so the
//! caller decides where it goes (after the text report, on stderr, or nowhere). The unified diff
//! of a fix lives in [`diff`]; the effective policy of `apimfix effective`, in [`effective`].
//!
//! Positions: every format derives lines and columns from byte offsets through the file's
//! [`LineIndex`], in one place ([`Position`]). Lines are 1-based everywhere. Columns are 1-based
//! and count chars (Unicode scalar values) in the text, JSON, SARIF and GitHub formats; rdjson
//! alone counts UTF-8 bytes, as reviewdog's spec demands. Paths are always
//! [`FileReport::display_path`].

pub mod diff;
pub mod effective;
pub mod github;
pub mod json;
pub mod rdjson;
pub mod sarif;
pub mod text;

use std::io::{self, Write};
use std::path::PathBuf;

use crate::diagnostic::Diagnostic;
use crate::fix::{Applicability, Fix};
use crate::syntax::SyntaxError;
use crate::text::{LineIndex, TextRange};

/// Why a file could not be checked.
#[derive(Debug)]
pub enum FileError {
    /// It could not be read (or written).
    Io(std::io::Error),
    /// Another error, in words (a broken config, a repo model, a failed write), shown as the
    /// I/O errors are.
    Other(String),
    /// It does not parse; the file is never rewritten.
    Syntax(SyntaxError),
    /// A fix produced text that does not parse. An apimfix bug; the file is left untouched.
    Internal(String),
}

/// What one run learned about one file.
#[derive(Debug)]
pub struct FileReport {
    /// The path as shown to the user: relative to the working directory when below it,
    /// `/`-separated. For stdin, the `--stdin-filename` or `-`.
    pub display_path: String,
    /// The path on disk, when there is one.
    pub path: Option<PathBuf>,
    /// The source the diagnostics point into (the input, before fixes). Empty when unread.
    pub source: String,
    pub line_index: LineIndex,
    /// Findings, sorted by range start.
    pub diagnostics: Vec<Diagnostic>,
    pub error: Option<FileError>,
}

impl FileReport {
    pub fn new(display_path: impl Into<String>, path: Option<PathBuf>, source: String) -> Self {
        let line_index = LineIndex::new(&source);
        Self {
            display_path: display_path.into(),
            path,
            source,
            line_index,
            diagnostics: Vec::new(),
            error: None,
        }
    }
}

impl FileReport {
    /// Clamps `range` into the source and onto char boundaries.
    ///
    /// Ranges normally lie inside the source; this guards the reports against a range computed
    /// on other text (e.g. a UTF-8 error past the decoded prefix) so no report ever panics on
    /// slicing.
    pub fn clamp(&self, range: TextRange) -> TextRange {
        let start = floor_char_boundary(&self.source, range.start());
        let end = floor_char_boundary(&self.source, range.end()).max(start);
        TextRange::new(start, end)
    }

    /// The 1-based position of byte `offset` (clamped into the source).
    pub fn position(&self, offset: usize) -> Position {
        let offset = floor_char_boundary(&self.source, offset);
        let line_column = self.line_index.line_column(&self.source, offset);
        let line_start = self.line_index.line_start(line_column.line - 1);
        Position {
            line: line_column.line,
            column: line_column.column,
            byte_column: offset - line_start + 1,
        }
    }

    /// The text of the line holding byte `offset`, without its line terminator.
    pub fn line_text(&self, offset: usize) -> &str {
        let offset = floor_char_boundary(&self.source, offset);
        let line = self.line_index.line_of(offset);
        &self.source[self.line_index.line_range(&self.source, line).to_std()]
    }
}

/// The largest char boundary of `text` at or below `offset`, and at most `text.len()`.
fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// A 1-based position in a file, with the column counted both ways the formats need.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: usize,
    /// Chars (Unicode scalar values) from the line start, plus one. A tab counts as one.
    pub column: usize,
    /// UTF-8 bytes from the line start, plus one (rdjson's unit).
    pub byte_column: usize,
}

/// The output formats of `check` and `fix`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Human-readable findings with source snippets (rustc style).
    #[default]
    Text,
    /// apimfix's own JSON, with every fix and its edits.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
    /// GitHub Actions workflow commands, which become annotations on the run and the PR.
    Github,
    /// reviewdog's rdjson, with fixes as suggestions.
    Rdjson,
}

/// Whether the human formats use ANSI colours. Decided by the caller (terminal detection,
/// `NO_COLOR`, `--color`): the library never inspects the environment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Color {
    /// Plain text: no escape sequence at all.
    #[default]
    Never,
    /// ANSI escape sequences.
    Always,
}

/// What the run does with fixes that are [`Applicability::Unsafe`], which decides how the text
/// report marks and counts them. Mirrors ruff's `--unsafe-fixes` / `--no-unsafe-fixes`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UnsafeFixes {
    /// Not applied; the summary says how many could be enabled with `--unsafe-fixes`.
    #[default]
    Hint,
    /// Applied (`--unsafe-fixes`): unsafe fixes count as fixable and get the `[*]` mark.
    Enabled,
    /// Not applied and not mentioned (`--no-unsafe-fixes`).
    Disabled,
}

impl UnsafeFixes {
    /// The least applicability a fix needs to be applied in this run.
    pub fn required_applicability(self) -> Applicability {
        match self {
            UnsafeFixes::Enabled => Applicability::Unsafe,
            UnsafeFixes::Hint | UnsafeFixes::Disabled => Applicability::Safe,
        }
    }

    /// Whether this run applies `fix`.
    pub fn applies(self, fix: &Fix) -> bool {
        fix.applicability() >= self.required_applicability()
    }
}

/// Whether the text report shows fix hints: the `[*]` mark, `help:` lines and the fixable
/// counts of the summary. `fix` hides them for findings it already repaired.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FixHints {
    #[default]
    Show,
    Hide,
}

/// Whether the text report writes file errors. The CLI shows them on stderr and keeps stdout
/// for findings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FileErrors {
    #[default]
    Show,
    Omit,
}

/// How to write a report. Only the text format and the summary read these; the machine
/// formats always carry every fix with its applicability and never colour.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReportOptions {
    pub color: Color,
    pub unsafe_fixes: UnsafeFixes,
    pub fix_hints: FixHints,
    pub file_errors: FileErrors,
}

/// Where a rule is documented. A placeholder until the project has its public home: every
/// format links here, so changing [`HOMEPAGE`] moves them all.
pub const HOMEPAGE: &str = "https://github.com/apimfix/apimfix";

/// The documentation URL of the rule named `name`: an anchor of the README's rule list.
pub fn rule_url(name: &str) -> String {
    format!("{HOMEPAGE}#{name}")
}

/// A pseudo-rule: the id the reports give a file that could not be checked.
#[derive(Clone, Copy, Debug)]
pub struct PseudoRule {
    pub id: &'static str,
    /// One line.
    pub summary: &'static str,
    /// The documentation, in Markdown (as [`crate::rules::Rule::explain`]).
    pub doc: &'static str,
}

/// The pseudo-rules of the reports (SARIF, rdjson, GitHub): `syntax-error`, `io-error`,
/// `internal-error`. `apimfix rule` explains them too.
pub const PSEUDO_RULES: [PseudoRule; 3] = [
    PseudoRule {
        id: "syntax-error",
        summary: "The file does not parse as a policy, so it was neither checked nor fixed",
        doc: "## What it means\n\nThe file does not parse as an APIM policy: a mismatched or \
unclosed tag, an unterminated attribute, expression, comment or CDATA section, bytes that are \
not UTF-8, a NUL byte, nesting too deep, a file too large, or a document whose root is not \
`<policies>` or `<fragment>`.\n\n## What apimfix does\n\nIt checks no rule on the file and \
never rewrites it; the other files are still processed, and the run exits 2. The report points \
at the line and column where parsing stopped, with the source line.\n\n## How to fix it\n\n\
Repair the file by hand (the message says what is wrong), then run apimfix again. Policy \
expressions (`@(...)`, `@{...}`) may hold raw `\"`, `<` and `&&`: apimfix accepts them.\n",
    },
    PseudoRule {
        id: "io-error",
        summary: "The file could not be read or written",
        doc: "## What it means\n\nThe file could not be read or written: it is missing, \
unreadable, read-only, changed on disk since it was read, or a symbolic link that is not \
followed (`--follow-symlinks`). Its configuration may also be broken.\n\n## What apimfix \
does\n\nThe file is left as it was; the other files are still processed, and the run exits \
2.\n",
    },
    PseudoRule {
        id: "internal-error",
        summary: "apimfix produced text that does not hold (a bug in apimfix)",
        doc: "## What it means\n\nA fix or the formatter produced text that does not parse, \
or that changes a policy expression, or the fixes did not converge. This is a bug in apimfix, \
not in the file.\n\n## What apimfix does\n\nThe file is left untouched; the run exits 2. \
Please report it with the file.\n",
    },
];

/// The pseudo-rule called `id`.
pub fn pseudo_rule(id: &str) -> Option<PseudoRule> {
    PSEUDO_RULES.iter().copied().find(|p| p.id == id)
}

/// Markdown as plain text, for the consumers that want no markup (SARIF's `help.text`):
/// headings lose their `#`, code fences their lines, inline code its backticks, emphasis its
/// stars, and a link becomes `text (url)`.
pub fn markdown_to_plain(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            continue;
        }
        let line = match trimmed.strip_prefix('#') {
            Some(_) => trimmed.trim_start_matches('#').trim_start(),
            None => line,
        };
        out.push_str(&plain_inline(line));
        out.push('\n');
    }
    out
}

fn plain_inline(line: &str) -> String {
    let line = line.replace("**", "").replace('`', "");
    // `[text](url)` to `text (url)`.
    let mut out = String::with_capacity(line.len());
    let mut rest = line.as_str();
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let Some(close) = after.find("](") else { break };
        let Some(end) = after[close + 2..].find(')') else {
            break;
        };
        out.push_str(&rest[..open]);
        out.push_str(&after[..close]);
        out.push_str(" (");
        out.push_str(&after[close + 2..close + 2 + end]);
        out.push(')');
        rest = &after[close + 2 + end + 1..];
    }
    out.push_str(rest);
    out
}

/// Writes the findings and file errors of `files`, in order, in `format`.
///
/// The summary is not part of the report: see [`text::write_summary`].
pub fn write_report(
    format: OutputFormat,
    out: &mut dyn Write,
    files: &[FileReport],
    options: &ReportOptions,
) -> io::Result<()> {
    match format {
        OutputFormat::Text => text::write(out, files, options),
        OutputFormat::Json => json::write(out, files),
        OutputFormat::Sarif => sarif::write(out, files),
        OutputFormat::Github => github::write(out, files),
        OutputFormat::Rdjson => rdjson::write(out, files),
    }
}

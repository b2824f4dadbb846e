//! The human report: one block per finding, rustc style, and a summary line.
//!
//! ```text
//! apis/echo/policy.xml:4:9: cors-first [*]: `<rate-limit>` runs before `<cors>`
//!   |
//! 4 |         <rate-limit calls="10" renewal-period="60" />
//!   |         ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
//!   |
//!   = help: Move `<cors>` first
//! ```
//!
//! The headline is `path:line:col: rule: message`, so editors and terminals can jump to it;
//! `[*]` after the rule marks a fix this run would apply (ruff's mark: safe fixes, and unsafe
//! ones too under `--unsafe-fixes`). The snippet is rendered by annotate-snippets from the
//! lines the range covers. `help:` gives the fix title, saying when the fix is unsafe or only a
//! suggestion. A file that could not be checked gets `path:line:col: error: message` with a
//! snippet (syntax errors, with the related location as a second annotation), `path: error:
//! message` (I/O), or a block marked as an apimfix bug (internal errors).
//!
//! Lines and columns are 1-based; columns count chars, a tab as one. Control characters in
//! paths, messages and source are shown as visible symbols, so a hostile file cannot send
//! escape sequences to the terminal; with [`Color::Never`] the output holds no escape byte.

use std::io::{self, Write};

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet, normalize_untrusted_str};
use anstyle::{AnsiColor, Effects, Style};

use super::{Color, FileError, FileErrors, FileReport, FixHints, ReportOptions, UnsafeFixes};
use crate::diagnostic::{Diagnostic, Severity};
use crate::fix::Applicability;
use crate::syntax::SyntaxError;
use crate::text::TextRange;

const PATH_STYLE: Style = Style::new().effects(Effects::BOLD);
const FIX_MARK_STYLE: Style = AnsiColor::Cyan.on_default().effects(Effects::BOLD);
const ERROR_STYLE: Style = AnsiColor::Red.on_default().effects(Effects::BOLD);
const WARNING_STYLE: Style = AnsiColor::Yellow.on_default().effects(Effects::BOLD);
const INFO_STYLE: Style = AnsiColor::Blue.on_default().effects(Effects::BOLD);

/// Writes every finding and file error of `files`, each block followed by a blank line.
pub fn write(out: &mut dyn Write, files: &[FileReport], options: &ReportOptions) -> io::Result<()> {
    let renderer = match options.color {
        Color::Never => Renderer::plain(),
        Color::Always => Renderer::styled(),
    };
    // Rendering snippets is most of the work on a bulk run: files are rendered in parallel,
    // each into its own buffer, and written in order; a chunk at a time, so that the text
    // of a whole run is never held at once.
    use rayon::prelude::*;
    const CHUNK: usize = 512;
    for chunk in files.chunks(CHUNK) {
        let rendered: Vec<Vec<u8>> = chunk
            .par_iter()
            .filter(|file| {
                !file.diagnostics.is_empty()
                    || (file.error.is_some() && options.file_errors == FileErrors::Show)
            })
            .map(|file| {
                let mut buffer = Vec::new();
                let printer = Printer {
                    out: &mut buffer,
                    renderer: renderer.clone(),
                    options,
                };
                printer.write_files(std::slice::from_ref(file))?;
                Ok(buffer)
            })
            .collect::<io::Result<_>>()?;
        for buffer in rendered {
            out.write_all(&buffer)?;
        }
    }
    Ok(())
}

struct Printer<'a> {
    out: &'a mut dyn Write,
    renderer: Renderer,
    options: &'a ReportOptions,
}

impl Printer<'_> {
    fn write_files(mut self, files: &[FileReport]) -> io::Result<()> {
        for file in files {
            for diagnostic in &file.diagnostics {
                self.write_finding(file, diagnostic)?;
            }
            if let Some(error) = &file.error
                && self.options.file_errors == FileErrors::Show
            {
                self.write_error(file, error)?;
            }
        }
        Ok(())
    }

    fn write_finding(&mut self, file: &FileReport, diagnostic: &Diagnostic) -> io::Result<()> {
        let range = file.clamp(diagnostic.range);
        let position = file.position(range.start());
        let show_hints = self.options.fix_hints == FixHints::Show;
        let applied = diagnostic
            .fix
            .as_ref()
            .is_some_and(|fix| self.options.unsafe_fixes.applies(fix));

        self.write_location(file, position)?;
        self.out.write_all(b" ")?;
        self.paint(severity_style(diagnostic.severity), diagnostic.rule.name())?;
        if show_hints && applied {
            self.out.write_all(b" ")?;
            self.paint(FIX_MARK_STYLE, "[*]")?;
        }
        writeln!(self.out, ": {}", clean(&diagnostic.message))?;
        if super::source_hidden(file.path.as_deref()) {
            return self.write_source_hidden();
        }

        let excerpt = Excerpt::new(file, &[range]);
        let mut group = Group::with_level(severity_level(diagnostic.severity)).element(
            excerpt
                .snippet()
                .annotation(AnnotationKind::Primary.span(excerpt.span(range))),
        );
        let help = match (&diagnostic.fix, &diagnostic.fix_title) {
            (Some(fix), Some(title)) if show_hints => {
                Some(self.help_text(title, fix.applicability()))
            }
            _ => None,
        };
        if let Some(help) = &help {
            group = group.element(Level::HELP.message(help.as_str()));
        }
        self.write_rendered(&[group])
    }

    fn help_text(&self, title: &str, applicability: Applicability) -> String {
        let title = clean(title);
        match (applicability, self.options.unsafe_fixes) {
            (Applicability::Safe, _) | (Applicability::Unsafe, UnsafeFixes::Enabled) => title,
            (Applicability::Unsafe, UnsafeFixes::Hint) => {
                format!("{title} (unsafe fix: enable it with `--unsafe-fixes`)")
            }
            (Applicability::Unsafe, UnsafeFixes::Disabled) => format!("{title} (unsafe fix)"),
            (Applicability::DisplayOnly, _) => format!("{title} (suggestion: apply it by hand)"),
        }
    }

    /// `path: error: message`, then a blank line.
    fn write_plain_error(&mut self, file: &FileReport, message: &str) -> io::Result<()> {
        self.paint(PATH_STYLE, &format!("{}:", clean(&file.display_path)))?;
        self.out.write_all(b" ")?;
        self.paint(ERROR_STYLE, "error")?;
        writeln!(self.out, ": {}", clean(message))?;
        self.out.write_all(b"\n")
    }

    fn write_error(&mut self, file: &FileReport, error: &FileError) -> io::Result<()> {
        match error {
            FileError::Syntax(error) => self.write_syntax_error(file, error),
            FileError::Io(error) => self.write_plain_error(file, &error.to_string()),
            FileError::Other(message) => self.write_plain_error(file, message),
            FileError::Internal(message) => {
                self.paint(PATH_STYLE, &format!("{}:", clean(&file.display_path)))?;
                self.out.write_all(b" ")?;
                self.paint(ERROR_STYLE, "internal error")?;
                writeln!(self.out, ": {}", clean(message))?;
                let note = format!(
                    "this is a bug in apimfix, not in the file; the file was left unchanged. \
                     Please report it at {}/issues",
                    super::HOMEPAGE
                );
                self.write_rendered(&[
                    Group::with_level(Level::ERROR).element(Level::NOTE.message(note.as_str()))
                ])
            }
        }
    }

    /// The `path:line:column:` that starts a headline.
    fn write_location(&mut self, file: &FileReport, position: super::Position) -> io::Result<()> {
        self.paint(
            PATH_STYLE,
            &format!(
                "{}:{}:{}:",
                clean(&file.display_path),
                position.line,
                position.column
            ),
        )
    }

    fn write_syntax_error(&mut self, file: &FileReport, error: &SyntaxError) -> io::Result<()> {
        let range = file.clamp(error.range);
        let position = file.position(range.start());
        self.write_location(file, position)?;
        self.out.write_all(b" ")?;
        self.paint(ERROR_STYLE, "error")?;
        writeln!(self.out, ": {}", clean(&error.message))?;
        if super::source_hidden(file.path.as_deref()) {
            return self.write_source_hidden();
        }

        let related = error
            .related
            .as_ref()
            .map(|(range, label)| (file.clamp(*range), clean(label)));
        let mut ranges = vec![range];
        ranges.extend(related.iter().map(|(range, _)| *range));
        let excerpt = Excerpt::new(file, &ranges);
        let label = error.label.as_deref().map(clean);
        let mut snippet = excerpt.snippet().annotation(
            AnnotationKind::Primary
                .span(excerpt.span(range))
                .label(label.as_deref()),
        );
        if let Some((range, label)) = &related {
            snippet = snippet.annotation(
                AnnotationKind::Context
                    .span(excerpt.span(*range))
                    .label(label.as_str()),
            );
        }
        self.write_rendered(&[Group::with_level(Level::ERROR).element(snippet)])
    }

    /// What stands for the snippet of a file whose source must not be shown.
    fn write_source_hidden(&mut self) -> io::Result<()> {
        self.out.write_all(
            b"  = note: source not shown: the file was reached through a symbolic link \
              (pass --follow-symlinks to show it)\n\n",
        )
    }

    /// Writes a rendered snippet group and the blank line that ends a block.
    fn write_rendered(&mut self, groups: &[Group<'_>]) -> io::Result<()> {
        let rendered = self.renderer.render(groups);
        self.out.write_all(rendered.as_bytes())?;
        self.out.write_all(b"\n\n")
    }

    fn paint(&mut self, style: Style, text: &str) -> io::Result<()> {
        match self.options.color {
            Color::Never => self.out.write_all(text.as_bytes()),
            Color::Always => write!(self.out, "{style}{text}{style:#}"),
        }
    }
}

/// The whole lines of a file that some ranges cover, as annotate-snippets wants them.
struct Excerpt<'a> {
    /// Lone `\r` line breaks made `\n` (same length, so offsets hold): annotate-snippets
    /// splits lines at `\n` only, and the line numbers count lone `\r` as breaks.
    text: std::borrow::Cow<'a, str>,
    /// Byte offset of `text` in the file.
    start: usize,
    /// 1-based number of the first line.
    first_line: usize,
}

impl<'a> Excerpt<'a> {
    /// The lines from the first range's first line to the last range's last line. A range
    /// that ends just after a line break does not pull in the next line.
    fn new(file: &'a FileReport, ranges: &[TextRange]) -> Self {
        let index = &file.line_index;
        let first = ranges
            .iter()
            .map(|r| index.line_of(r.start()))
            .min()
            .unwrap_or(0);
        let last = ranges
            .iter()
            .map(|r| index.line_of(r.end().saturating_sub(1).max(r.start())))
            .max()
            .unwrap_or(0);
        let start = index.line_start(first);
        let end = index.line_range(&file.source, last).end().max(start);
        let text = &file.source[start..end];
        let bytes = text.as_bytes();
        let lone_cr = |i: usize| bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n');
        let text = if memchr::memchr_iter(b'\r', bytes).any(lone_cr) {
            let fixed: Vec<u8> = (0..bytes.len())
                .map(|i| if lone_cr(i) { b'\n' } else { bytes[i] })
                .collect();
            std::borrow::Cow::Owned(String::from_utf8(fixed).unwrap_or_else(|_| text.to_owned()))
        } else {
            std::borrow::Cow::Borrowed(text)
        };
        Excerpt {
            text,
            start,
            first_line: first + 1,
        }
    }

    fn snippet(&self) -> Snippet<'_, annotate_snippets::Annotation<'_>> {
        Snippet::source(&*self.text)
            .line_start(self.first_line)
            .fold(true)
    }

    /// `range` relative to the excerpt, cut to its end (a range may run into a line break).
    fn span(&self, range: TextRange) -> std::ops::Range<usize> {
        let start = range
            .start()
            .saturating_sub(self.start)
            .min(self.text.len());
        let end = range
            .end()
            .saturating_sub(self.start)
            .clamp(start, self.text.len());
        start..end
    }
}

fn severity_level(severity: Severity) -> Level<'static> {
    match severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Info => Level::INFO,
    }
}

fn severity_style(severity: Severity) -> Style {
    match severity {
        Severity::Error => ERROR_STYLE,
        Severity::Warning => WARNING_STYLE,
        Severity::Info => INFO_STYLE,
    }
}

/// Shows control characters (ESC above all) as visible symbols.
fn clean(text: &str) -> String {
    normalize_untrusted_str(text)
}

/// The counts behind the summary line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub findings: usize,
    /// Findings whose fix this run applies (see [`UnsafeFixes::applies`]).
    pub fixable: usize,
    /// Findings with an unsafe fix that `--unsafe-fixes` would apply; counted only under
    /// [`UnsafeFixes::Hint`].
    pub hidden_unsafe_fixes: usize,
    /// Files that could not be checked.
    pub files_with_errors: usize,
}

impl Summary {
    pub fn new(files: &[FileReport], options: &ReportOptions) -> Self {
        let mut summary = Summary::default();
        for file in files {
            summary.files_with_errors += usize::from(file.error.is_some());
            for diagnostic in &file.diagnostics {
                summary.findings += 1;
                let Some(fix) = &diagnostic.fix else { continue };
                if options.unsafe_fixes.applies(fix) {
                    summary.fixable += 1;
                } else if options.unsafe_fixes == UnsafeFixes::Hint
                    && fix.applicability() == Applicability::Unsafe
                {
                    summary.hidden_unsafe_fixes += 1;
                }
            }
        }
        summary
    }
}

/// Writes the summary of `files`, ruff style: the count, then how to apply the fixes, e.g.
///
/// ```text
/// 3 findings; 1 file with errors
/// [*] 1 fixable with `apimfix fix --write` (2 hidden fixes can be enabled with `--unsafe-fixes`)
/// ```
///
/// `[*]` is the mark of the findings the command fixes. The second line is left out when no
/// fix applies and none is hidden, or when fix hints are hidden.
pub fn write_summary(
    out: &mut dyn Write,
    files: &[FileReport],
    options: &ReportOptions,
) -> io::Result<()> {
    write_summary_counting(out, files, options, 0)
}

/// [`write_summary`], counting on its first line the files of unknown scope the
/// scope-dependent rules passed over (`; 2 files of unknown scope`).
pub fn write_summary_counting(
    out: &mut dyn Write,
    files: &[FileReport],
    options: &ReportOptions,
    unknown_scope: usize,
) -> io::Result<()> {
    let summary = Summary::new(files, options);
    let mut line = match summary.findings {
        0 => "No findings".to_owned(),
        n => plural(n, "finding", "findings"),
    };
    if unknown_scope > 0 {
        line.push_str(&format!(
            "; {} of unknown scope",
            plural(unknown_scope, "file", "files")
        ));
    }
    if summary.files_with_errors > 0 {
        line.push_str(&format!(
            "; {} with errors",
            plural(summary.files_with_errors, "file", "files")
        ));
    }
    let style = Style::new().effects(Effects::BOLD);
    match options.color {
        Color::Never => writeln!(out, "{line}")?,
        Color::Always => writeln!(out, "{style}{line}{style:#}")?,
    }
    if options.fix_hints == FixHints::Hide || summary.findings == 0 {
        return Ok(());
    }
    let hidden = match summary.hidden_unsafe_fixes {
        0 => String::new(),
        n => format!(
            " ({} can be enabled with `--unsafe-fixes`)",
            plural(n, "hidden fix", "hidden fixes")
        ),
    };
    if summary.fixable > 0 {
        let command = match options.unsafe_fixes {
            UnsafeFixes::Enabled => "apimfix fix --write --unsafe-fixes",
            _ => "apimfix fix --write",
        };
        let mark = match options.color {
            Color::Never => "[*]".to_owned(),
            Color::Always => format!("{FIX_MARK_STYLE}[*]{FIX_MARK_STYLE:#}"),
        };
        writeln!(
            out,
            "{mark} {} fixable with `{command}`{hidden}",
            summary.fixable
        )
    } else if !hidden.is_empty() {
        writeln!(out, "No fixes available{hidden}")
    } else {
        Ok(())
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

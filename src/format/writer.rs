//! The output buffer: indentation, line breaks, and verbatim source slices.
//!
//! The formatter writes two kinds of text. *Layout* is what it owns: indentation, the line
//! breaks between items, the spaces between attributes. *Verbatim* text is a slice of the
//! source it must not change: attribute values, element text, comments, expressions. Keeping
//! the two apart in one type is what guarantees that only layout whitespace ever changes.

use crate::syntax::{Document, LineEnding};
use crate::text::TextRange;

use super::{FormatOptions, IndentStyle};

/// What happens to the line breaks inside verbatim slices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum VerbatimBreaks {
    /// Copied as written, so verbatim text keeps its bytes (`line-ending: auto`).
    AsWritten,
    /// Rewritten to the output's line ending (`line-ending: lf|crlf`), except inside policy
    /// expressions, which keep every byte. XML parsers read every line break as `\n` (XML 1.0
    /// §2.11), so in text and comments this is not a content change.
    ConvertOutsideExpressions,
}

pub(super) struct Writer<'d> {
    out: String,
    source: &'d str,
    newline: &'static str,
    verbatim_breaks: VerbatimBreaks,
    /// The ranges of every policy expression, sorted, when line breaks are converted.
    expressions: Vec<TextRange>,
    unit: String,
    /// Display columns of one indentation level, for line-width decisions.
    unit_columns: usize,
}

impl<'d> Writer<'d> {
    pub(super) fn new(
        doc: &'d Document,
        options: &FormatOptions,
        ending: LineEnding,
        verbatim_breaks: VerbatimBreaks,
    ) -> Self {
        let unit = match options.indent_style {
            IndentStyle::Spaces => " ".repeat(options.indent_width),
            IndentStyle::Tabs => "\t".to_owned(),
        };
        let expressions = match verbatim_breaks {
            VerbatimBreaks::AsWritten => Vec::new(),
            VerbatimBreaks::ConvertOutsideExpressions => {
                let mut ranges: Vec<TextRange> =
                    doc.expressions().iter().map(|e| e.range).collect();
                ranges.sort();
                ranges
            }
        };
        let capacity = doc.source().len();
        Self {
            out: String::with_capacity(capacity + capacity / 8),
            source: doc.source(),
            newline: ending.as_str(),
            verbatim_breaks,
            expressions,
            unit,
            // A tab is as wide as `indent-width` spaces when measuring lines.
            unit_columns: options.indent_width,
        }
    }

    /// Display columns taken by the indentation of `depth`.
    pub(super) fn indent_columns(&self, depth: usize) -> usize {
        depth.saturating_mul(self.unit_columns)
    }

    pub(super) fn line_break(&mut self) {
        self.out.push_str(self.newline);
    }

    pub(super) fn indent(&mut self, depth: usize) {
        for _ in 0..depth {
            self.out.push_str(&self.unit);
        }
    }

    /// Layout text the formatter generates: tag punctuation, names, single spaces. Never
    /// holds a line break.
    pub(super) fn token(&mut self, text: &str) {
        debug_assert!(!text.contains('\n'), "layout tokens hold no line break");
        self.out.push_str(text);
    }

    /// The source text of `range`, unchanged apart from its line breaks outside expressions
    /// when the options force a line ending.
    pub(super) fn verbatim(&mut self, range: TextRange) {
        match self.verbatim_breaks {
            VerbatimBreaks::AsWritten => self.out.push_str(&self.source[range.to_std()]),
            VerbatimBreaks::ConvertOutsideExpressions => {
                let mut cursor = range.start();
                // Expressions never overlap, so the first one ending after the cursor is the
                // only one that can hold it.
                let first = self.expressions.partition_point(|e| e.end() <= cursor);
                for i in first..self.expressions.len() {
                    let expression = self.expressions[i];
                    if expression.start() >= range.end() {
                        break;
                    }
                    let start = expression.start().max(cursor);
                    let end = expression.end().min(range.end());
                    self.convert_breaks(cursor, start);
                    self.out.push_str(&self.source[start..end]);
                    cursor = end;
                }
                self.convert_breaks(cursor, range.end());
            }
        }
    }

    /// Copies `source[start..end]` with every `\n` and `\r\n` written as the output's ending.
    fn convert_breaks(&mut self, start: usize, end: usize) {
        let mut rest = &self.source[start..end];
        while let Some(n) = rest.find('\n') {
            let line = &rest[..n];
            self.out.push_str(line.strip_suffix('\r').unwrap_or(line));
            self.out.push_str(self.newline);
            rest = &rest[n + 1..];
        }
        self.out.push_str(rest);
    }

    /// The text, ending with exactly one line break.
    pub(super) fn finish(mut self) -> String {
        self.line_break();
        self.out
    }
}

//! The output buffer: indentation, line breaks, and verbatim source slices.
//!
//! The formatter writes two kinds of text. *Layout* is what it owns: indentation, the line
//! breaks between items, the spaces between attributes. *Verbatim* text is a slice of the
//! source it must not change: attribute values, element text, comments, expressions. Keeping
//! the two apart in one type is what guarantees that only layout whitespace ever changes.

use crate::syntax::LineEnding;

use super::{FormatOptions, IndentStyle};

/// What happens to the line breaks inside verbatim slices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum VerbatimBreaks {
    /// Copied as written, so verbatim text keeps its bytes (`line-ending: auto`).
    AsWritten,
    /// Rewritten to the output's line ending (`line-ending: lf|crlf`). XML parsers normalise
    /// every line break to `\n` on reading (XML 1.0 §2.11), so this is not a content change.
    Convert,
}

pub(super) struct Writer {
    out: String,
    newline: &'static str,
    verbatim_breaks: VerbatimBreaks,
    unit: String,
    /// Display columns of one indentation level, for line-width decisions.
    unit_columns: usize,
}

impl Writer {
    pub(super) fn new(
        options: &FormatOptions,
        ending: LineEnding,
        verbatim_breaks: VerbatimBreaks,
        capacity: usize,
    ) -> Self {
        let unit = match options.indent_style {
            IndentStyle::Spaces => " ".repeat(options.indent_width),
            IndentStyle::Tabs => "\t".to_owned(),
        };
        Self {
            out: String::with_capacity(capacity + capacity / 8),
            newline: ending.as_str(),
            verbatim_breaks,
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

    /// A slice of the source, written unchanged apart from its line breaks when the options
    /// force a line ending.
    pub(super) fn verbatim(&mut self, text: &str) {
        match self.verbatim_breaks {
            VerbatimBreaks::AsWritten => self.out.push_str(text),
            VerbatimBreaks::Convert => {
                let mut rest = text;
                while let Some(n) = rest.find('\n') {
                    let line = &rest[..n];
                    self.out.push_str(line.strip_suffix('\r').unwrap_or(line));
                    self.out.push_str(self.newline);
                    rest = &rest[n + 1..];
                }
                self.out.push_str(rest);
            }
        }
    }

    /// The text, ending with exactly one line break.
    pub(super) fn finish(mut self) -> String {
        self.line_break();
        self.out
    }
}

//! The formatter: one canonical layout for policy files, printed over the lossless tree.
//!
//! # Design
//!
//! A direct printer, chosen once: the walk in `layout` visits the tree with an explicit
//! stack and writes into an indentation-aware `writer::Writer`. The only width-dependent
//! decision, whether a start tag's attributes go one per line, is local to that tag
//! (`tag`), so a document IR with groups would buy nothing here.
//!
//! What the formatter owns is the whitespace *between* items: indentation, line breaks,
//! blank lines, the spaces inside tags. Everything else leaves as a verbatim slice of the
//! source: attribute values and their quotes, element text, entity references, CDATA,
//! comments, declarations, and so every policy expression, byte for byte. An element whose
//! content is text (alone or mixed with elements), CDATA, a payload (`set-body`, `value`,
//! `set-variable`, `xsl-transform`) or under `xml:space="preserve"` keeps its whole inside.
//!
//! # Layout
//!
//! - One item (element, comment, declaration) per line, indented one unit per level; the
//!   end tag of a block lines up with its start tag.
//! - A blank line between two items in the source stays as one blank line; none at the start
//!   or the end of a block.
//! - A comment that the source put on the line where an element ended stays there, after one
//!   space; any other comment gets a line of its own.
//! - `<x/>` is written `<x />`; `<x></x>` stays; whitespace-only content with a line break is
//!   layout, so `<outbound>\n  </outbound>` becomes two lines aligned at the tag.
//! - A start tag longer than `line-width` with two or more attributes goes one attribute per
//!   line (see `tag`).
//! - Line endings: `auto` writes the layout line breaks in the file's majority ending and
//!   leaves verbatim text as written (unless that would flip the majority, see [`format()`]);
//!   `lf`/`crlf` rewrite every line break in the file. A BOM is kept. The file ends with
//!   exactly one line break.

mod layout;
mod tag;
mod writer;

use crate::syntax::{Document, LineEnding, SyntaxError};

use writer::{VerbatimBreaks, Writer};

/// The indentation unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IndentStyle {
    Spaces,
    Tabs,
}

/// Which line ending the formatter writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LineEndingOption {
    /// Keep the file's own: the majority ending for a mixed file.
    #[default]
    Auto,
    Lf,
    Crlf,
}

/// Every formatting option, complete, with its default.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct FormatOptions {
    /// Spaces (default) or tabs.
    pub indent_style: IndentStyle,
    /// Spaces per level when `indent-style` is `spaces` (default 4).
    pub indent_width: usize,
    /// A start tag longer than this goes one attribute per line (default 120).
    pub line_width: usize,
    /// `auto` (default) keeps the file's line ending; `lf` or `crlf` forces one.
    pub line_ending: LineEndingOption,
}

impl Default for FormatOptions {
    fn default() -> Self {
        Self {
            indent_style: IndentStyle::Spaces,
            indent_width: 4,
            line_width: 120,
            line_ending: LineEndingOption::Auto,
        }
    }
}

/// Formats a parsed policy file, returning the whole new text.
///
/// Only layout whitespace changes: the output parses again, has the same text once XML
/// whitespace is removed, and formatting it again changes nothing. With `line-ending: auto`
/// the expressions keep their bytes, except in one rare case: when a mixed file's verbatim
/// line breaks would outnumber the ones the formatter writes (say, once runs of blank lines
/// are gone), every line break is written in the file's ending, so that the next run does
/// not read the output as a file of the other ending.
pub fn format(doc: &Document, options: &FormatOptions) -> String {
    match options.line_ending {
        LineEndingOption::Auto => {
            let ending = doc.line_ending();
            let out = write(doc, options, ending, VerbatimBreaks::AsWritten);
            // In a mixed file, dropping blank lines can leave the verbatim text's line breaks
            // in the majority, and the next run would then pick the other ending. Writing
            // every break in the file's ending keeps the output a fixed point.
            if LineEnding::detect(&out) == ending {
                out
            } else {
                write(doc, options, ending, VerbatimBreaks::Convert)
            }
        }
        LineEndingOption::Lf => write(doc, options, LineEnding::Lf, VerbatimBreaks::Convert),
        LineEndingOption::Crlf => write(doc, options, LineEnding::CrLf, VerbatimBreaks::Convert),
    }
}

fn write(
    doc: &Document,
    options: &FormatOptions,
    ending: LineEnding,
    verbatim_breaks: VerbatimBreaks,
) -> String {
    let mut w = Writer::new(options, ending, verbatim_breaks, doc.source().len());
    layout::write_document(&mut w, doc, options.line_width);
    w.finish()
}

/// Parses `source` and formats it; a file that does not parse is returned as its error.
pub fn format_source(source: &str, options: &FormatOptions) -> Result<String, SyntaxError> {
    crate::syntax::parse(source).map(|doc| format(&doc, options))
}

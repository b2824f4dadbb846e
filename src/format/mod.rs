//! The formatter: one canonical layout for policy files, printed over the lossless tree.
//!
//! # Design
//!
//! A direct printer, chosen once: the walk in `layout` visits the tree with an explicit
//! stack (no recursion, whatever the nesting depth) and writes into an indentation-aware
//! `writer::Writer`. The only width-dependent
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
//! - Line endings: `auto` writes the layout line breaks in the file's majority ending (see
//!   [`format()`] for one exception) and leaves verbatim text as written; `lf`/`crlf` rewrite
//!   every line break in the file except inside policy expressions, which keep every byte.
//!   A BOM is kept. The file ends with exactly one line break.

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
#[serde(
    rename_all = "kebab-case",
    deny_unknown_fields,
    default,
    expecting = "a map of format options"
)]
pub struct FormatOptions {
    /// Spaces (default) or tabs.
    pub indent_style: IndentStyle,
    /// Spaces per level when `indent-style` is `spaces` (default 4; 1 to 16).
    #[serde(deserialize_with = "indent_width")]
    pub indent_width: usize,
    /// A start tag longer than this goes one attribute per line (default 120; 20 to 1000).
    #[serde(deserialize_with = "line_width")]
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
/// Only layout whitespace changes: the output parses again, keeps every policy expression
/// byte for byte, has the same text once XML whitespace is removed, and formatting it again
/// changes nothing.
///
/// With `line-ending: auto` the formatter writes its line breaks in the file's majority
/// ending and leaves those of verbatim text alone. In a mixed file where dropping blank lines
/// would leave the verbatim line breaks in the majority, the next run would read the output
/// as a file of the other ending and rewrite it; then the output's own majority ending is
/// used for every line break the formatter writes, so the output is a fixed point.
pub fn format(doc: &Document, options: &FormatOptions) -> String {
    match options.line_ending {
        LineEndingOption::Auto => {
            let ending = doc.line_ending();
            let out = write(doc, options, ending, VerbatimBreaks::AsWritten);
            // Writing layout breaks in the output's majority can only strengthen it, so the
            // second text reads back with the ending it was written with.
            match LineEnding::detect(&out) {
                detected if detected == ending => out,
                detected => write(doc, options, detected, VerbatimBreaks::AsWritten),
            }
        }
        LineEndingOption::Lf => write(
            doc,
            options,
            LineEnding::Lf,
            VerbatimBreaks::ConvertOutsideExpressions,
        ),
        LineEndingOption::Crlf => write(
            doc,
            options,
            LineEnding::CrLf,
            VerbatimBreaks::ConvertOutsideExpressions,
        ),
    }
}

fn write(
    doc: &Document,
    options: &FormatOptions,
    ending: LineEnding,
    verbatim_breaks: VerbatimBreaks,
) -> String {
    let mut w = Writer::new(doc, options, ending, verbatim_breaks);
    layout::write_document(&mut w, doc, options.line_width);
    w.finish()
}

/// The most bytes [`format`] can write for `doc`, whatever the options: a bound in
/// proportion to the input, for the check that reads the output back (the input size limit
/// would refuse valid input whose layout adds much indentation).
///
/// Every line written holds at least one byte of the source (a tag, an attribute, a line
/// break kept as a blank line), so there are at most `len + 2` lines; each gets at most the
/// deepest nesting times the widest indentation unit (16), a two-byte line ending and the
/// space of `<x />`.
pub fn max_output_len(doc: &Document) -> usize {
    const WIDEST_INDENT: usize = 16;
    let len = doc.source().len();
    let per_line = max_depth(doc)
        .saturating_add(1)
        .saturating_mul(WIDEST_INDENT)
        .saturating_add(3);
    len.saturating_add(2)
        .saturating_mul(per_line)
        .saturating_add(len)
}

/// The deepest nesting of any node, the root element's children at 1.
fn max_depth(doc: &Document) -> usize {
    // A node's parent comes before it in the arena, so one pass in order suffices.
    let mut depths: Vec<u16> = Vec::with_capacity(doc.nodes.len());
    let mut deepest = 0;
    for (_, node) in doc.nodes() {
        let depth = match node.parent {
            Some(parent) => depths
                .get(parent.index())
                .map_or(u16::MAX, |d| d.saturating_add(1)),
            None => 0,
        };
        deepest = deepest.max(depth);
        depths.push(depth);
    }
    usize::from(deepest)
}

/// Parses `source` and formats it; a file that does not parse is returned as its error.
pub fn format_source(source: &str, options: &FormatOptions) -> Result<String, SyntaxError> {
    crate::syntax::parse(source).map(|doc| format(&doc, options))
}

/// Reads a whole number within `min..=max`: a width of 0 or 100,000 is a typo, not a layout.
fn bounded<'de, D: serde::Deserializer<'de>>(
    d: D,
    name: &str,
    min: usize,
    max: usize,
) -> Result<usize, D::Error> {
    let value = <usize as serde::Deserialize>::deserialize(d)?;
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(serde::de::Error::custom(format!(
            "{name}: {value} is out of range: expected {min} to {max}"
        )))
    }
}

fn indent_width<'de, D: serde::Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    bounded(d, "indent-width", 1, 16)
}

fn line_width<'de, D: serde::Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    bounded(d, "line-width", 20, 1000)
}

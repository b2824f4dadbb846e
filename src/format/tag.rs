//! Start tags: on one line when that line fits, else one attribute per line.
//!
//! One-line form: `<name a="1" b="2">`, or `<name a="1" />` when self-closing. Whitespace
//! around `=` and between attributes becomes one space; names, values and quote characters
//! are copied from the source.
//!
//! Attribute-per-line form, used when the one-line form, indentation included, would run past
//! `line-width` columns (a tab counts `indent-width`) and the tag has at least two attributes:
//!
//! ```text
//! <send-request
//!     mode="new"
//!     response-variable-name="token"
//!     timeout="20"
//! >
//! ```
//!
//! The closing `>` (or `/>`) gets a line of its own, aligned with `<`, so the attributes are
//! never mistaken for children, which sit at the same indentation. A lone attribute never
//! wraps: moving it to its own line gains only the width of the tag name.

use crate::syntax::{Attribute, Document, ElementRef};

use super::writer::Writer;

/// How a start tag ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TagEnd {
    /// `>`: content and an end tag follow.
    Open,
    /// ` />`.
    SelfClosing,
}

impl TagEnd {
    fn one_line(self) -> &'static str {
        match self {
            TagEnd::Open => ">",
            TagEnd::SelfClosing => " />",
        }
    }

    fn own_line(self) -> &'static str {
        match self {
            TagEnd::Open => ">",
            TagEnd::SelfClosing => "/>",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TagLayout {
    OneLine,
    AttributePerLine,
}

/// Writes the start tag of `el`, whose `<` stands at indentation `depth`.
pub(super) fn write_start_tag(
    w: &mut Writer<'_>,
    doc: &Document,
    el: ElementRef<'_>,
    depth: usize,
    end: TagEnd,
    line_width: usize,
) {
    let layout = choose_layout(w, doc, el, depth, end, line_width);
    w.token("<");
    w.token(el.name());
    for attr in el.attributes() {
        match layout {
            TagLayout::OneLine => w.token(" "),
            TagLayout::AttributePerLine => {
                w.line_break();
                w.indent(depth + 1);
            }
        }
        write_attribute(w, doc, attr);
    }
    match layout {
        TagLayout::OneLine => w.token(end.one_line()),
        TagLayout::AttributePerLine => {
            w.line_break();
            w.indent(depth);
            w.token(end.own_line());
        }
    }
}

fn write_attribute(w: &mut Writer<'_>, doc: &Document, attr: &Attribute) {
    let quote = quote_str(attr.quote);
    w.token(doc.slice(attr.name));
    w.token("=");
    w.token(quote);
    w.verbatim(attr.value);
    w.token(quote);
}

fn quote_str(quote: u8) -> &'static str {
    if quote == b'\'' { "'" } else { "\"" }
}

/// Measures the one-line form. Only the lines the formatter lays out count: the first line,
/// and the last one when a multi-line attribute value splits the tag; the lines inside such a
/// value are the author's and no layout can shorten them.
fn choose_layout(
    w: &Writer<'_>,
    doc: &Document,
    el: ElementRef<'_>,
    depth: usize,
    end: TagEnd,
    line_width: usize,
) -> TagLayout {
    let attributes = el.attributes();
    if attributes.len() < 2 {
        return TagLayout::OneLine;
    }
    let mut measure = LineMeasure::default();
    measure.add("<");
    measure.add(el.name());
    for attr in attributes {
        let quote = quote_str(attr.quote);
        for piece in [
            " ",
            doc.slice(attr.name),
            "=",
            quote,
            doc.slice(attr.value),
            quote,
        ] {
            measure.add(piece);
        }
    }
    measure.add(end.one_line());
    let first = w.indent_columns(depth) + measure.first;
    let too_long = first > line_width || measure.split && measure.last > line_width;
    if too_long {
        TagLayout::AttributePerLine
    } else {
        TagLayout::OneLine
    }
}

/// Widths, in chars, of the first and last line of a text given in pieces.
#[derive(Default)]
struct LineMeasure {
    first: usize,
    last: usize,
    split: bool,
}

impl LineMeasure {
    fn add(&mut self, piece: &str) {
        match (piece.find('\n'), piece.rfind('\n')) {
            (Some(first_break), Some(last_break)) => {
                if !self.split {
                    self.first += piece[..first_break].trim_end_matches('\r').chars().count();
                    self.split = true;
                }
                self.last = piece[last_break + 1..].chars().count();
            }
            _ => {
                let n = piece.chars().count();
                if self.split {
                    self.last += n;
                } else {
                    self.first += n;
                }
            }
        }
    }
}

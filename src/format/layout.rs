//! The walk over the tree: which elements are re-laid out, and where each item goes.
//!
//! Blocks are walked with an explicit stack of frames, one per open element, so a deeply
//! nested document cannot overflow the call stack.

use crate::syntax::{Document, ElementRef, NodeId, NodeKind};

use super::tag::{TagEnd, write_start_tag};
use super::writer::Writer;

/// Elements whose content is a payload rather than layout: a request or response body, a
/// header value, a variable, an XSLT sheet. Their inside is kept byte for byte even when it
/// holds only elements and whitespace (a Liquid SOAP template in `<set-body>`, say), since
/// that whitespace ends up in the message.
const PAYLOAD_ELEMENTS: &[&str] = &["set-body", "value", "set-variable", "xsl-transform"];

/// How an element's content is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Content {
    /// `<x />`.
    SelfClosing,
    /// `<x></x>`: nothing at all between the tags.
    Empty,
    /// The inside is copied as written: text (alone or mixed with elements), CDATA, a
    /// payload element, `xml:space="preserve"`, or whitespace without a line break.
    Verbatim,
    /// Children one per line, one level deeper; the whitespace between them is rewritten.
    Block,
}

fn classify(doc: &Document, el: ElementRef<'_>) -> Content {
    if el.is_self_closing() {
        return Content::SelfClosing;
    }
    let children = el.children();
    if children.is_empty() {
        return Content::Empty;
    }
    if PAYLOAD_ELEMENTS.iter().any(|name| el.is(name)) || el.attr("xml:space") == Some("preserve") {
        return Content::Verbatim;
    }
    let mut has_items = false;
    let mut has_line_break = false;
    for &child in children {
        let node = doc.node(child);
        match node.kind {
            NodeKind::Text {
                whitespace_only: true,
            } => has_line_break |= doc.slice(node.range).contains('\n'),
            // Like xmllint: any text beside (or instead of) child elements means the
            // whitespace inside may matter, so none of it is touched.
            NodeKind::Text {
                whitespace_only: false,
            }
            | NodeKind::CData => return Content::Verbatim,
            NodeKind::Element(_)
            | NodeKind::Comment
            | NodeKind::ProcessingInstruction
            | NodeKind::Doctype
            | NodeKind::Bom => has_items = true,
        }
    }
    // `<x> </x>` may be a deliberate space; `<inbound>\n    </inbound>` is layout.
    if has_items || has_line_break {
        Content::Block
    } else {
        Content::Verbatim
    }
}

/// What the last thing written in a block was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Previous {
    /// Nothing yet: the block's parent start tag, or the start of the file.
    Opening,
    Element,
    /// A comment, processing instruction or other verbatim item.
    Other,
}

/// One block being laid out: the top level of the file, or the children of one element.
struct Frame<'a> {
    /// `None` for the top level.
    element: Option<ElementRef<'a>>,
    children: &'a [NodeId],
    next: usize,
    /// Indentation of the children.
    depth: usize,
    previous: Previous,
    /// Line breaks in the whitespace since the previous item.
    line_breaks: usize,
}

impl<'a> Frame<'a> {
    fn new(element: Option<ElementRef<'a>>, children: &'a [NodeId], depth: usize) -> Self {
        Self {
            element,
            children,
            next: 0,
            depth,
            previous: Previous::Opening,
            line_breaks: 0,
        }
    }

    /// Starts a new line for the next item: at most one blank line kept from the source,
    /// and none at the start of a block.
    fn begin_line(&mut self, w: &mut Writer<'_>) {
        let at_file_start = self.element.is_none() && self.previous == Previous::Opening;
        if !at_file_start {
            w.line_break();
            if self.line_breaks >= 2 && self.previous != Previous::Opening {
                w.line_break();
            }
        }
        w.indent(self.depth);
        self.line_breaks = 0;
    }

    /// A comment stays on the line where the previous element ended, when the source had it
    /// there: it usually annotates that element. After a start tag it goes to its own line,
    /// as the block's first item.
    fn comment_trails(&self) -> bool {
        self.line_breaks == 0 && self.previous == Previous::Element
    }
}

/// Writes the whole document into `w`, up to (not including) the final line break.
pub(super) fn write_document(w: &mut Writer<'_>, doc: &Document, line_width: usize) {
    let mut stack = vec![Frame::new(None, doc.top_level(), 0)];
    while let Some(frame) = stack.last_mut() {
        let Some(&id) = frame.children.get(frame.next) else {
            if let Some(el) = frame.element {
                let depth = frame.depth.saturating_sub(1);
                w.line_break();
                w.indent(depth);
                write_end_tag(w, el);
            }
            stack.pop();
            continue;
        };
        frame.next += 1;
        let node = doc.node(id);
        match node.kind {
            NodeKind::Bom => w.token("\u{feff}"),
            NodeKind::Text {
                whitespace_only: true,
            } => {
                frame.line_breaks += doc.slice(node.range).matches('\n').count();
            }
            NodeKind::Element(_) => {
                let Some(el) = doc.element(id) else { continue };
                frame.begin_line(w);
                frame.previous = Previous::Element;
                let depth = frame.depth;
                match classify(doc, el) {
                    Content::SelfClosing => {
                        write_start_tag(w, doc, el, depth, TagEnd::SelfClosing, line_width);
                    }
                    Content::Empty => {
                        write_start_tag(w, doc, el, depth, TagEnd::Open, line_width);
                        write_end_tag(w, el);
                    }
                    Content::Verbatim => {
                        write_start_tag(w, doc, el, depth, TagEnd::Open, line_width);
                        w.verbatim(el.inner_range());
                        write_end_tag(w, el);
                    }
                    Content::Block => {
                        write_start_tag(w, doc, el, depth, TagEnd::Open, line_width);
                        stack.push(Frame::new(Some(el), el.children(), depth + 1));
                    }
                }
            }
            NodeKind::Comment => {
                if frame.comment_trails() {
                    w.token(" ");
                } else {
                    frame.begin_line(w);
                }
                w.verbatim(node.range);
                frame.previous = Previous::Other;
            }
            // Declarations and processing instructions; CDATA and text reach here only at
            // the top level (inside an element they make its content verbatim), where the
            // parser allows nothing but whitespace beside them.
            NodeKind::ProcessingInstruction
            | NodeKind::Doctype
            | NodeKind::CData
            | NodeKind::Text {
                whitespace_only: false,
            } => {
                frame.begin_line(w);
                w.verbatim(node.range);
                frame.previous = Previous::Other;
            }
        }
    }
}

fn write_end_tag(w: &mut Writer<'_>, el: ElementRef<'_>) {
    w.token("</");
    w.token(el.name());
    w.token(">");
}

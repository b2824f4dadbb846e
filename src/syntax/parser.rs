//! The parser: one forward pass over the source, building the arena with an explicit stack
//! of open elements (no recursion, so nesting depth is bounded only by [`Limits`]).

use super::Limits;
use super::csharp::{ScanError, scan_expression, scan_expression_tolerant, starts_expression};
use super::error::{SyntaxError, SyntaxErrorKind as Kind};
use super::tree::{Attribute, Document, Element, Expression, Node, NodeId, NodeKind, RootKind};
use crate::text::{LineIndex, TextRange};

pub(super) fn parse_str(source: String, limits: &Limits) -> Result<Document, SyntaxError> {
    let mut parser = Parser {
        src: source.as_bytes(),
        pos: 0,
        nodes: Vec::new(),
        top_level: Vec::new(),
        open: Vec::new(),
        expressions: Vec::new(),
        limits,
    };
    parser.run()?;
    let Parser {
        nodes,
        top_level,
        expressions,
        ..
    } = parser;
    let root = find_root(&source, &nodes, &top_level)?;
    let NodeKind::Element(root_el) = &nodes[root.index()].kind else {
        unreachable!()
    };
    let root_name = &source[root_el.name.to_std()];
    let root_kind = match root_name {
        "policies" => RootKind::Policies,
        "fragment" => RootKind::Fragment,
        _ => {
            return Err(SyntaxError::new(
                Kind::NotAPolicy,
                root_el.name,
                format!(
                    "not an APIM policy document: the root element is `<{root_name}>`, expected `<policies>` or `<fragment>`"
                ),
            ));
        }
    };
    let line_index = LineIndex::new(&source);
    Ok(Document {
        source,
        nodes,
        top_level,
        root,
        root_kind,
        expressions,
        line_index,
    })
}

/// The one element at the top level; anything but trivia beside it is an error.
fn find_root(source: &str, nodes: &[Node], top_level: &[NodeId]) -> Result<NodeId, SyntaxError> {
    let mut root: Option<NodeId> = None;
    for &id in top_level {
        let node = &nodes[id.index()];
        match node.kind {
            NodeKind::Element(ref el) => {
                if let Some(first) = root {
                    let first_range = match &nodes[first.index()].kind {
                        NodeKind::Element(f) => f.start_tag,
                        _ => unreachable!(),
                    };
                    return Err(SyntaxError::new(
                        Kind::ContentOutsideRoot,
                        el.start_tag,
                        "a second root element; a policy document has exactly one",
                    )
                    .with_related(first_range, "the root element"));
                }
                root = Some(id);
            }
            NodeKind::Text {
                whitespace_only: false,
            } => {
                let text = &source[node.range.to_std()];
                let skip = text.len() - text.trim_start().len();
                let start = node.range.start() + skip;
                let end = start + text.trim().len();
                return Err(SyntaxError::new(
                    Kind::ContentOutsideRoot,
                    TextRange::new(start, end),
                    "text outside the root element",
                )
                .with_label("only comments and whitespace may stand here"));
            }
            _ => {}
        }
    }
    root.ok_or_else(|| {
        SyntaxError::new(
            Kind::Empty,
            TextRange::empty(source.len()),
            "no root element: expected `<policies>` or `<fragment>`",
        )
    })
}

struct Parser<'s, 'l> {
    src: &'s [u8],
    pos: usize,
    nodes: Vec<Node>,
    top_level: Vec<NodeId>,
    /// Open elements, innermost last.
    open: Vec<NodeId>,
    expressions: Vec<Expression>,
    limits: &'l Limits,
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b':' || b >= 0x80
}

fn is_name_char(b: u8) -> bool {
    is_name_start(b) || b.is_ascii_digit() || b == b'-' || b == b'.'
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

impl Parser<'_, '_> {
    fn run(&mut self) -> Result<(), SyntaxError> {
        if self.src.starts_with("\u{feff}".as_bytes()) {
            self.push(NodeKind::Bom, TextRange::new(0, 3));
            self.pos = 3;
        }
        while self.pos < self.src.len() {
            if self.src[self.pos] == b'<' {
                self.markup()?;
            } else {
                self.text()?;
            }
        }
        if let Some(&innermost) = self.open.last() {
            let el = self.element_data(innermost);
            let name = self.str(el.name).to_owned();
            let start_tag = el.start_tag;
            return Err(SyntaxError::new(
                Kind::UnclosedTag,
                start_tag,
                format!(
                    "unclosed element `<{name}>`: expected `</{name}>` before the end of the file"
                ),
            )
            .with_label("opened here, never closed"));
        }
        Ok(())
    }

    fn str(&self, range: TextRange) -> &str {
        // The source is a `String`, and every range ends on an ASCII delimiter or the end.
        std::str::from_utf8(&self.src[range.to_std()]).unwrap_or("")
    }

    fn element_data(&self, id: NodeId) -> &Element {
        match &self.nodes[id.index()].kind {
            NodeKind::Element(el) => el,
            _ => unreachable!("only elements are opened"),
        }
    }

    /// Adds a node as the next child of the innermost open element (or the document).
    fn push(&mut self, kind: NodeKind, range: TextRange) -> NodeId {
        let id = NodeId(self.nodes.len() as u32);
        let parent = self.open.last().copied();
        self.nodes.push(Node {
            kind,
            range,
            parent,
        });
        match parent {
            Some(p) => match &mut self.nodes[p.index()].kind {
                NodeKind::Element(el) => el.children.push(id),
                _ => unreachable!(),
            },
            None => self.top_level.push(id),
        }
        id
    }

    fn find(&self, from: usize, needle: &[u8]) -> Option<usize> {
        memchr::memmem::find(&self.src[from..], needle).map(|n| from + n)
    }

    fn markup(&mut self) -> Result<(), SyntaxError> {
        let start = self.pos;
        let rest = &self.src[start..];
        if rest.starts_with(b"<!--") {
            let end = self.find(start + 4, b"-->").ok_or_else(|| {
                SyntaxError::new(
                    Kind::UnterminatedComment,
                    TextRange::new(start, start + 4),
                    "unterminated comment: expected `-->`",
                )
                .with_label("comment opened here")
            })? + 3;
            self.push(NodeKind::Comment, TextRange::new(start, end));
            self.pos = end;
        } else if rest.starts_with(b"<![CDATA[") {
            let end = self.find(start + 9, b"]]>").ok_or_else(|| {
                SyntaxError::new(
                    Kind::UnterminatedCData,
                    TextRange::new(start, start + 9),
                    "unterminated CDATA section: expected `]]>`",
                )
                .with_label("CDATA opened here")
            })? + 3;
            self.push(NodeKind::CData, TextRange::new(start, end));
            self.pos = end;
        } else if rest.starts_with(b"<?") {
            let end = self.find(start + 2, b"?>").ok_or_else(|| {
                SyntaxError::new(
                    Kind::UnterminatedDeclaration,
                    TextRange::new(start, start + 2),
                    "unterminated processing instruction: expected `?>`",
                )
            })? + 2;
            self.push(NodeKind::ProcessingInstruction, TextRange::new(start, end));
            self.pos = end;
        } else if rest.starts_with(b"<!") {
            let end = self.doctype_end(start)?;
            self.push(NodeKind::Doctype, TextRange::new(start, end));
            self.pos = end;
        } else if rest.starts_with(b"</") {
            self.end_tag()?;
        } else {
            self.start_tag()?;
        }
        Ok(())
    }

    fn doctype_end(&self, start: usize) -> Result<usize, SyntaxError> {
        let mut depth = 0usize;
        for (i, &b) in self.src[start..].iter().enumerate() {
            match b {
                b'[' => depth += 1,
                b']' => depth = depth.saturating_sub(1),
                b'>' if depth == 0 => return Ok(start + i + 1),
                _ => {}
            }
        }
        Err(SyntaxError::new(
            Kind::UnterminatedDeclaration,
            TextRange::new(start, start + 2),
            "unterminated declaration: expected `>`",
        ))
    }

    fn name_end(&self, from: usize) -> usize {
        let mut i = from;
        while i < self.src.len() && is_name_char(self.src[i]) {
            i += 1;
        }
        i
    }

    fn skip_space(&self, mut i: usize) -> usize {
        while i < self.src.len() && is_space(self.src[i]) {
            i += 1;
        }
        i
    }

    /// A `TextRange` of one char at `i` (or empty at the end), for pointing at what was found.
    fn char_at(&self, i: usize) -> TextRange {
        if i >= self.src.len() {
            return TextRange::empty(self.src.len());
        }
        let len = match self.src[i] {
            b if b < 0x80 => 1,
            b if b >= 0xF0 => 4,
            b if b >= 0xE0 => 3,
            _ => 2,
        };
        TextRange::new(i, (i + len).min(self.src.len()))
    }

    fn found(&self, i: usize) -> String {
        match self.src.get(i) {
            None => "the end of the file".to_owned(),
            Some(b'\n' | b'\r') => "a line break".to_owned(),
            Some(_) => format!("`{}`", self.str(self.char_at(i))),
        }
    }

    fn start_tag(&mut self) -> Result<(), SyntaxError> {
        let start = self.pos;
        let name_start = start + 1;
        if !self.src.get(name_start).is_some_and(|&b| is_name_start(b)) {
            return Err(SyntaxError::new(
                Kind::MalformedTag,
                self.char_at(start),
                format!("expected an element name after `<`, found {}", self.found(name_start)),
            )
            .with_label("a `<` in text must be written `&lt;`, or stand inside a policy expression `@(...)`"));
        }
        let name = TextRange::new(name_start, self.name_end(name_start));
        let mut attributes = Vec::new();
        let mut i = name.end();
        let self_closing = loop {
            let after_space = self.skip_space(i);
            match self.src.get(after_space) {
                Some(b'>') => {
                    i = after_space + 1;
                    break false;
                }
                Some(b'/') if self.src.get(after_space + 1) == Some(&b'>') => {
                    i = after_space + 2;
                    break true;
                }
                Some(&b)
                    if is_name_start(b)
                        && (after_space > i
                            || attributes.is_empty() && after_space > name.end()) =>
                {
                    let attr = self.attribute(after_space, TextRange::new(start, name.end()))?;
                    i = attr.range.end();
                    attributes.push(attr);
                }
                Some(&b) if is_name_start(b) => {
                    // Attributes run together (`a="1"b="2"`): XML wants a space, APIM does
                    // not care; accept it, since the tree is still unambiguous.
                    let attr = self.attribute(after_space, TextRange::new(start, name.end()))?;
                    i = attr.range.end();
                    attributes.push(attr);
                }
                _ => {
                    let tag_name = self.str(name).to_owned();
                    return Err(SyntaxError::new(
                        Kind::MalformedTag,
                        self.char_at(after_space),
                        format!("expected an attribute, `>` or `/>` in the start tag of `<{tag_name}>`, found {}", self.found(after_space)),
                    )
                    .with_related(TextRange::new(start, name.end()), "the tag starts here"));
                }
            }
        };
        let start_tag = TextRange::new(start, i);
        let element = Element {
            name,
            start_tag,
            end_tag: None,
            attributes,
            children: Vec::new(),
        };
        let id = self.push(NodeKind::Element(element), start_tag);
        self.pos = i;
        if !self_closing {
            if self.open.len() >= self.limits.max_depth {
                return Err(SyntaxError::new(
                    Kind::TooDeep,
                    TextRange::new(start, name.end()),
                    format!("elements nest deeper than {} levels", self.limits.max_depth),
                )
                .with_label("this element is one level too deep"));
            }
            self.open.push(id);
        }
        Ok(())
    }

    fn attribute(&mut self, start: usize, tag: TextRange) -> Result<Attribute, SyntaxError> {
        let name = TextRange::new(start, self.name_end(start));
        let eq = self.skip_space(name.end());
        if self.src.get(eq) != Some(&b'=') {
            return Err(SyntaxError::new(
                Kind::MalformedTag,
                self.char_at(eq),
                format!(
                    "expected `=` after attribute name `{}`, found {}",
                    self.str(name),
                    self.found(eq)
                ),
            )
            .with_related(tag, "in this tag"));
        }
        let open = self.skip_space(eq + 1);
        let quote = match self.src.get(open) {
            Some(&q @ (b'"' | b'\'')) => q,
            _ => {
                return Err(SyntaxError::new(
                    Kind::MalformedTag,
                    self.char_at(open),
                    format!(
                        "expected a quoted value for attribute `{}`, found {}",
                        self.str(name),
                        self.found(open)
                    ),
                ));
            }
        };
        let close = self.attribute_value_end(open, quote, name)?;
        Ok(Attribute {
            range: TextRange::new(start, close + 1),
            name,
            value: TextRange::new(open + 1, close),
            quote,
        })
    }

    /// The offset of the closing quote of a value opened at `open`.
    ///
    /// A value holding a policy expression may hold its own quotes (`"@(f("x"))"`), so the
    /// expression is skipped as C#. When that fails, or the expression is not followed by the
    /// closing quote, the value is read again as plain XML (the first matching quote closes
    /// it): that is right for files whose expressions are entity-escaped (`&quot;`).
    fn attribute_value_end(
        &mut self,
        open: usize,
        quote: u8,
        name: TextRange,
    ) -> Result<usize, SyntaxError> {
        let mut found = Vec::new();
        let mut i = open + 1;
        let expression_aware = loop {
            let Some(n) = memchr::memchr2(quote, b'@', &self.src[i..]) else {
                break None;
            };
            i += n;
            if self.src[i] == quote {
                break Some(i);
            }
            if starts_expression(self.src, i) {
                let closes_value =
                    |end: usize| self.src[end..].iter().find(|b| !is_space(**b)) == Some(&quote);
                let end = match scan_expression(self.src, i) {
                    Ok(end) if closes_value(end) => Ok(end),
                    _ => scan_expression_tolerant(self.src, i),
                };
                match end {
                    Ok(end) if closes_value(end) => {
                        found.push(Expression {
                            range: TextRange::new(i, end),
                            block: self.src[i + 1] == b'{',
                            in_attribute: true,
                        });
                        i = end;
                    }
                    _ => break None,
                }
            } else {
                i += 1;
            }
        };
        if let Some(close) = expression_aware {
            self.expressions.extend(found);
            return Ok(close);
        }
        match memchr::memchr(quote, &self.src[open + 1..]) {
            Some(n) => {
                let close = open + 1 + n;
                // Expressions that close inside the plain value are still expressions.
                let mut j = open + 1;
                while let Some(m) = memchr::memchr(b'@', &self.src[j..close]) {
                    j += m;
                    if starts_expression(self.src, j)
                        && let Ok(end) = scan_expression(&self.src[..close], j)
                    {
                        self.expressions.push(Expression {
                            range: TextRange::new(j, end),
                            block: self.src[j + 1] == b'{',
                            in_attribute: true,
                        });
                        j = end;
                    } else {
                        j += 1;
                    }
                }
                Ok(close)
            }
            None => Err(SyntaxError::new(
                Kind::UnterminatedAttribute,
                self.char_at(open),
                format!(
                    "unterminated value of attribute `{}`: expected a closing `{}`",
                    self.str(name),
                    quote as char
                ),
            )
            .with_label("the value opens here and never closes")),
        }
    }

    fn end_tag(&mut self) -> Result<(), SyntaxError> {
        let start = self.pos;
        let name = TextRange::new(start + 2, self.name_end(start + 2));
        let close = self.skip_space(name.end());
        if name.is_empty() || self.src.get(close) != Some(&b'>') {
            return Err(SyntaxError::new(
                Kind::MalformedTag,
                self.char_at(if name.is_empty() { name.start() } else { close }),
                format!(
                    "expected {} in a closing tag, found {}",
                    if name.is_empty() {
                        "an element name"
                    } else {
                        "`>`"
                    },
                    self.found(if name.is_empty() { name.start() } else { close })
                ),
            ));
        }
        let end_tag = TextRange::new(start, close + 1);
        let found_name = self.str(name).to_owned();
        let Some(&innermost) = self.open.last() else {
            return Err(SyntaxError::new(
                Kind::UnexpectedClosingTag,
                end_tag,
                format!("unexpected closing tag `</{found_name}>`: no element is open"),
            ));
        };
        let open_el = self.element_data(innermost);
        let expected = self.str(open_el.name).to_owned();
        if expected != found_name {
            let opened = open_el.start_tag;
            return Err(SyntaxError::new(
                Kind::MismatchedTag,
                end_tag,
                format!(
                    "mismatched closing tag: expected `</{expected}>`, found `</{found_name}>`"
                ),
            )
            .with_related(opened, format!("`<{expected}>` opened here")));
        }
        self.open.pop();
        let node = &mut self.nodes[innermost.index()];
        node.range = TextRange::new(node.range.start(), end_tag.end());
        if let NodeKind::Element(el) = &mut node.kind {
            el.end_tag = Some(end_tag);
        }
        self.pos = end_tag.end();
        Ok(())
    }

    /// Character data up to the next tag, with its policy expressions skipped as C#.
    fn text(&mut self) -> Result<(), SyntaxError> {
        let start = self.pos;
        let mut i = start;
        let mut found = Vec::new();
        let end = loop {
            let Some(n) = memchr::memchr2(b'<', b'@', &self.src[i..]) else {
                break self.src.len();
            };
            i += n;
            if self.src[i] == b'<' {
                break i;
            }
            if !starts_expression(self.src, i) {
                i += 1;
                continue;
            }
            match scan_expression(self.src, i) {
                // In valid policies an expression is the whole text, so a tag follows it.
                Ok(end)
                    if self.src[end..]
                        .iter()
                        .find(|b| !is_space(**b))
                        .is_none_or(|&b| b == b'<') =>
                {
                    found.push(Expression {
                        range: TextRange::new(i, end),
                        block: self.src[i + 1] == b'{',
                        in_attribute: false,
                    });
                    i = end;
                }
                Err(ScanError::Eof) => {
                    return Err(SyntaxError::new(
                        Kind::UnterminatedExpression,
                        TextRange::new(i, i + 2),
                        format!(
                            "unterminated policy expression: `{}` is never closed",
                            self.str(TextRange::new(i, i + 2))
                        ),
                    )
                    .with_label("the expression starts here"));
                }
                // Not balanced as C# (e.g. entity-escaped strings): read it as plain text.
                _ => {
                    found.clear();
                    let plain_end = memchr::memchr(b'<', &self.src[start..])
                        .map_or(self.src.len(), |n| start + n);
                    break plain_end;
                }
            }
        };
        let range = TextRange::new(start, end);
        let whitespace_only = self.src[start..end].iter().all(|&b| is_space(b));
        self.expressions.extend(found);
        self.push(NodeKind::Text { whitespace_only }, range);
        self.pos = end;
        Ok(())
    }
}

//! The parser: one forward pass over the source, building the arena with an explicit stack
//! of open elements (no recursion, so nesting depth is bounded only by [`Limits`]).
//!
//! Text and attribute values are read two ways. The plain-XML reading ends them at the first
//! `<` or closing quote, with entities decoded (`&quot;` is `"`): that is right for files whose
//! expressions are entity-escaped, and for every value without an expression. The raw reading
//! lets a policy expression `@(...)` run past that point, for rawxml files whose C# holds raw
//! `"` and `<`. The plain reading wins whenever its first expression balances: a raw
//! expression always holds the `<` or quote that ends the plain reading, so its plain prefix
//! never balances, while reading an escaped expression raw could run on into the next element.

use std::borrow::Cow;
use std::collections::HashMap;

use super::Limits;
use super::csharp::{ScanError, Scanner, starts_expression};
use super::error::{SyntaxError, SyntaxErrorKind as Kind};
use super::tree::{
    Attribute, Document, Element, Expression, Node, NodeId, NodeKind, RootKind, Span,
};
use crate::text::{LineIndex, TextRange};

/// On an error the source comes back, for callers that show it.
pub(super) fn parse_str(
    source: String,
    limits: &Limits,
) -> Result<Document, (SyntaxError, String)> {
    // Sized once: growing these vectors was a tenth of a bulk run. Every node but text and
    // the BOM starts at a `<` of its own, and text never follows text, so this bound holds;
    // real files come to about 1.5 nodes per `<`, which a tighter guess would have to grow.
    let tags = memchr::memchr_iter(b'<', source.as_bytes()).count();
    let node_bound = 2 * tags + 2;
    let mut parser = Parser {
        src: source.as_bytes(),
        pos: 0,
        nodes: Vec::with_capacity(node_bound),
        // Every node is listed once, as a child or at the top level.
        children: Vec::with_capacity(node_bound),
        // Real files have about one attribute per three tags.
        attributes: Vec::with_capacity(tags / 2 + 4),
        unclaimed: Vec::with_capacity(64),
        open: Vec::new(),
        expressions: Vec::new(),
        limits,
        scanner: Scanner::new(source.as_bytes()),
        tolerant_budget: source.len().saturating_mul(2).saturating_add(4096),
        suspect: None,
        suspects_in_text: HashMap::new(),
    };
    if let Err(e) = parser.run() {
        drop(parser);
        return Err((e, source));
    }
    let Parser {
        nodes,
        mut children,
        attributes,
        unclaimed,
        expressions,
        ..
    } = parser;
    // With every element closed, what is left unclaimed is the top level.
    let top_level = Span::new(children.len(), children.len() + unclaimed.len());
    children.extend_from_slice(&unclaimed);
    let root = match find_root(&source, &nodes, top_level.of(&children)) {
        Ok(root) => root,
        Err(e) => return Err((e, source)),
    };
    let NodeKind::Element(root_el) = &nodes[root.index()].kind else {
        unreachable!("find_root returns an element")
    };
    let root_name = &source[root_el.name.to_std()];
    let root_kind = match root_name {
        "policies" => RootKind::Policies,
        "fragment" => RootKind::Fragment,
        _ => {
            let error = SyntaxError::new(
                Kind::NotAPolicy,
                root_el.name,
                format!(
                    "not an APIM policy document: the root element is `<{root_name}>`, expected `<policies>` or `<fragment>`"
                ),
            );
            return Err((error, source));
        }
    };
    Ok(Document {
        source,
        nodes,
        children,
        attributes,
        top_level,
        root,
        root_kind,
        expressions,
        line_index: std::sync::OnceLock::new(),
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
                        _ => unreachable!("root only ever holds an element"),
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
            // CDATA is text, however it is written.
            NodeKind::CData => {
                return Err(SyntaxError::new(
                    Kind::ContentOutsideRoot,
                    node.range,
                    "a CDATA section outside the root element",
                )
                .with_label("only comments and whitespace may stand here"));
            }
            _ => {}
        }
    }
    root.ok_or_else(|| {
        let only_trivia = top_level
            .iter()
            .any(|&id| !matches!(nodes[id.index()].kind, NodeKind::Bom));
        let message = if only_trivia {
            "no root element: the file holds only comments, declarations or whitespace; expected `<policies>` or `<fragment>`"
        } else {
            "the file is empty: expected a `<policies>` or `<fragment>` root element"
        };
        SyntaxError::new(Kind::Empty, TextRange::empty(source.len()), message)
    })
}

/// A policy expression that did not balance, so its text or value was read as plain XML.
/// Kept to explain the error that such a misreading usually causes a little later.
#[derive(Clone, Copy)]
struct Suspect {
    /// The `@`.
    at: usize,
    why: Unbalanced,
    /// The name of the attribute whose value holds it; `None` in text.
    attribute: Option<TextRange>,
}

#[derive(Clone, Copy)]
enum Unbalanced {
    /// A closing bracket at this offset does not match.
    Mismatch(usize),
    /// The file ends inside the expression.
    Eof,
    /// It balances, closing at this offset, but more text follows inside the value or text.
    EndsEarly(usize),
}

#[derive(Clone, Copy)]
struct Open {
    id: NodeId,
    /// Where its children start in [`Parser::unclaimed`].
    first_child: usize,
}

/// The outcome of reading a text or attribute value as plain XML.
struct PlainReading {
    /// Every expression that balances within the plain text, with source ranges.
    expressions: Vec<Expression>,
    /// Whether the first expression start balances.
    first_balanced: bool,
}

struct Parser<'s, 'l> {
    src: &'s [u8],
    pos: usize,
    nodes: Vec<Node>,
    /// The arena of [`Element`]'s children: an element's run is copied in when it closes.
    children: Vec<NodeId>,
    attributes: Vec<Attribute>,
    /// Nodes whose parent has not closed yet, in order: each open element's children are
    /// the tail from its [`Open::first_child`] on, and below the outermost lies the top level.
    unclaimed: Vec<NodeId>,
    /// Open elements, innermost last.
    open: Vec<Open>,
    expressions: Vec<Expression>,
    limits: &'l Limits,
    /// Scans raw expressions, remembering brackets already balanced (linear time).
    scanner: Scanner<'s>,
    /// Bytes that tolerant scans may still read. A failed tolerant scan may read to the end of
    /// the file, and tolerant outcomes cannot be remembered like strict ones, so one failing
    /// attribute per element would make parsing quadratic. Real files use a tiny part of it;
    /// once spent, broken C# values are read as plain XML, which is what a failed scan gives.
    tolerant_budget: usize,
    /// The unbalanced expression of the text or attribute just read, if any.
    suspect: Option<Suspect>,
    /// Unbalanced expressions in text, by the offset where their plain reading ended: a tag
    /// opened there is C# (`As<JObject>`) misread as markup.
    suspects_in_text: HashMap<usize, Suspect>,
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

/// The bytes of `src[start..end]` with XML's predefined entities and ASCII character
/// references decoded, and the source offset of each decoded byte (one more for the end).
/// Other references stay as written: their bytes mean nothing to the C# scanner.
fn decode_entities(src: &[u8], start: usize, end: usize) -> (Cow<'_, [u8]>, Option<Vec<usize>>) {
    let raw = &src[start..end];
    if memchr::memchr(b'&', raw).is_none() {
        return (Cow::Borrowed(raw), None);
    }
    let mut bytes = Vec::with_capacity(raw.len());
    let mut offsets = Vec::with_capacity(raw.len() + 1);
    let mut i = 0;
    while i < raw.len() {
        let (byte, len) = if raw[i] == b'&' {
            decode_reference(&raw[i..]).unwrap_or((b'&', 1))
        } else {
            (raw[i], 1)
        };
        bytes.push(byte);
        offsets.push(start + i);
        i += len;
    }
    offsets.push(end);
    (Cow::Owned(bytes), Some(offsets))
}

/// The ASCII byte an entity or character reference at the start of `s` stands for, and the
/// reference's length.
fn decode_reference(s: &[u8]) -> Option<(u8, usize)> {
    for (name, byte) in [
        (&b"&quot;"[..], b'"'),
        (b"&apos;", b'\''),
        (b"&lt;", b'<'),
        (b"&gt;", b'>'),
        (b"&amp;", b'&'),
    ] {
        if s.starts_with(name) {
            return Some((byte, name.len()));
        }
    }
    let rest = s.strip_prefix(b"&#")?;
    let (radix, digits) = match rest.strip_prefix(b"x") {
        Some(hex) => (16, hex),
        None => (10, rest),
    };
    // An ASCII code point has at most three decimal digits; leading zeros are rare enough.
    let n = digits
        .iter()
        .take(8)
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    if n == 0 || digits.get(n) != Some(&b';') {
        return None;
    }
    let value = u32::from_str_radix(std::str::from_utf8(&digits[..n]).ok()?, radix).ok()?;
    let byte = u8::try_from(value).ok().filter(u8::is_ascii)?;
    Some((byte, s.len() - digits.len() + n + 1))
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
        if let Some(innermost) = self.open.last() {
            let el = self.element_data(innermost.id);
            let name = self.str(el.name).to_owned();
            let start_tag = el.start_tag;
            let label = match self.suspects_in_text.get(&start_tag.start()) {
                Some(&suspect) => format!(
                    "opened here, never closed; {}",
                    self.misread_as_markup(suspect)
                ),
                None => "opened here, never closed".to_owned(),
            };
            return Err(SyntaxError::new(
                Kind::UnclosedTag,
                start_tag,
                format!(
                    "unclosed element `<{name}>`: expected `</{name}>` before the end of the file"
                ),
            )
            .with_label(label)
            .with_related(self.at_the_end().0, self.at_the_end().1));
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
        let parent = self.open.last().map(|open| open.id);
        self.nodes.push(Node {
            kind,
            range,
            parent,
        });
        self.unclaimed.push(id);
        id
    }

    /// The first `needle` at or after `from`, where `needle` ends in `>` and holds no other:
    /// each match then ends at its own `>`. `memmem::find` would build a searcher per call,
    /// which cost more than the search for the short comments of real files.
    fn find(&self, from: usize, needle: &[u8]) -> Option<usize> {
        debug_assert!(
            needle.ends_with(b">") && memchr::memchr(b'>', needle) == Some(needle.len() - 1)
        );
        let head = &needle[..needle.len() - 1];
        memchr::memchr_iter(b'>', &self.src[from..])
            .map(|n| from + n)
            .find(|&gt| gt >= from + head.len() && self.src[gt - head.len()..gt] == *head)
            .map(|gt| gt - head.len())
    }

    /// 1-based `line:column` of `offset`, for messages that mention a second place. Built on
    /// demand: it is only needed on the way to an error.
    fn line_column(&self, offset: usize) -> String {
        let text = std::str::from_utf8(self.src).unwrap_or("");
        LineIndex::new(text).line_column(text, offset).to_string()
    }

    /// Why the expression of `suspect` was read as plain XML, for a label.
    fn why_plain(&self, suspect: Suspect) -> String {
        match suspect.why {
            Unbalanced::Mismatch(at) => format!(
                "its `{}` at {} does not match the bracket open before it",
                self.str(self.char_at(at)),
                self.line_column(at)
            ),
            Unbalanced::Eof => "its brackets never close".to_owned(),
            Unbalanced::EndsEarly(at) => {
                format!("it closes at {} and more follows it", self.line_column(at))
            }
        }
    }

    /// The note that a tag is C# inside the unbalanced expression `suspect`.
    fn misread_as_markup(&self, suspect: Suspect) -> String {
        format!(
            "it may be C# inside the policy expression at {}, which was read as plain XML because {}",
            self.line_column(suspect.at),
            self.why_plain(suspect)
        )
    }

    /// The error to report instead of one met after an attribute value whose policy
    /// expression, read as C#, runs to the end of the file or closes where no quote follows:
    /// read as plain XML, the value ended at the first quote inside the expression, and the
    /// error found next lies inside the expression's lines, far from the cause. Reported
    /// where the C# reading gave up, with where the expression opened.
    ///
    /// Only when the error found next, at `found_at`, is on a later line than the `@`: on the
    /// same line it is close to the cause already (`value="@(f("a)" />`).
    fn gave_up_in_value(&self, suspect: Suspect, found_at: usize) -> Option<SyntaxError> {
        let name = self.str(suspect.attribute?);
        let between = &self.src[suspect.at..found_at.clamp(suspect.at, self.src.len())];
        memchr::memchr2(b'\n', b'\r', between)?;
        let opened = TextRange::new(suspect.at, suspect.at + 2);
        let bracket = self.str(opened);
        match suspect.why {
            Unbalanced::Eof => Some(
                SyntaxError::new(
                    Kind::UnterminatedExpression,
                    TextRange::empty(self.src.len()),
                    format!(
                        "unterminated policy expression in the value of attribute `{name}`: `{bracket}` is never closed before the end of the file; is a bracket or a string in it left open?"
                    ),
                )
                .with_label("the file ends here, inside the expression")
                .with_related(opened, format!("`{bracket}` opens here")),
            ),
            Unbalanced::EndsEarly(end) => Some(
                SyntaxError::new(
                    Kind::UnterminatedAttribute,
                    self.char_at(end),
                    format!(
                        "unterminated value of attribute `{name}`: its policy expression closes before this, and no closing quote follows it; is the closing quote missing?"
                    ),
                )
                .with_label("expected the value's closing quote here")
                .with_related(opened, format!("`{bracket}` opens the value here")),
            ),
            Unbalanced::Mismatch(_) => None,
        }
    }

    /// "the file ends here", the second place of an error about something never closed.
    fn at_the_end(&self) -> (TextRange, &'static str) {
        (TextRange::empty(self.src.len()), "the file ends here")
    }

    /// Points an error at the unbalanced expression that probably caused it.
    fn explain(&self, error: SyntaxError, suspect: Option<Suspect>) -> SyntaxError {
        if let Some(instead) = suspect.and_then(|s| self.gave_up_in_value(s, error.range.start())) {
            return instead;
        }
        match suspect {
            Some(suspect) => {
                let label = format!(
                    "this policy expression was read as plain XML because {}",
                    self.why_plain(suspect)
                );
                error.with_related(TextRange::new(suspect.at, suspect.at + 2), label)
            }
            None => error,
        }
    }

    fn markup(&mut self) -> Result<(), SyntaxError> {
        // The suspect of the text before this tag explains only an error at this tag.
        let suspect = self.suspect.take();
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
                .with_related(self.at_the_end().0, self.at_the_end().1)
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
                .with_related(self.at_the_end().0, self.at_the_end().1)
            })? + 3;
            // `<![CDATA[@{ ... }]]>` is an expression too: APIM sees the text inside.
            let reading = self.read_plain(start + 9, end - 3, false, false);
            self.expressions.extend(reading.expressions);
            self.push(NodeKind::CData, TextRange::new(start, end));
            self.pos = end;
        } else if rest.starts_with(b"<?") {
            let end = self.find(start + 2, b"?>").ok_or_else(|| {
                let what = if rest.starts_with(b"<?xml") && rest.get(5).is_none_or(|&b| is_space(b))
                {
                    "XML declaration"
                } else {
                    "processing instruction"
                };
                SyntaxError::new(
                    Kind::UnterminatedDeclaration,
                    TextRange::new(start, start + 2),
                    format!("unterminated {what}: expected `?>`"),
                )
                .with_label("opened here")
            })? + 2;
            self.push(NodeKind::ProcessingInstruction, TextRange::new(start, end));
            self.pos = end;
        } else if rest.starts_with(b"<!DOCTYPE") {
            if !self.open.is_empty() {
                return Err(SyntaxError::new(
                    Kind::MalformedTag,
                    TextRange::new(start, start + 9),
                    "a `<!DOCTYPE>` declaration inside an element: it may only stand before the root element",
                ));
            }
            let end = self.doctype_end(start)?;
            self.push(NodeKind::Doctype, TextRange::new(start, end));
            self.pos = end;
        } else if rest.starts_with(b"<!") {
            // Without this, a typo such as `<!- x -->` would pass as a declaration, and the
            // policies after it would silently be lost from the tree.
            return Err(SyntaxError::new(
                Kind::MalformedTag,
                TextRange::new(start, start + 2),
                format!(
                    "expected `<!--`, `<![CDATA[` or `<!DOCTYPE` after `<!`, found {}",
                    self.found(start + 2)
                ),
            ));
        } else if rest.starts_with(b"</") {
            self.end_tag()?;
        } else {
            self.start_tag(suspect)?;
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
            TextRange::new(start, start + 9),
            "unterminated `<!DOCTYPE` declaration: expected `>`",
        )
        .with_label("opened here"))
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

    /// What stands at `i`, for "found ..." in a message.
    fn found(&self, i: usize) -> String {
        match self.src.get(i) {
            None => "the end of the file".to_owned(),
            Some(b'\n' | b'\r') => "a line break".to_owned(),
            Some(b' ') => "a space".to_owned(),
            Some(b'\t') => "a tab".to_owned(),
            Some(_) => format!("`{}`", self.str(self.char_at(i))),
        }
    }

    fn start_tag(&mut self, suspect: Option<Suspect>) -> Result<(), SyntaxError> {
        let start = self.pos;
        let name_start = start + 1;
        if !self.src.get(name_start).is_some_and(|&b| is_name_start(b)) {
            let error = SyntaxError::new(
                Kind::MalformedTag,
                self.char_at(start),
                format!("expected an element name after `<`, found {}", self.found(name_start)),
            )
            .with_label("a `<` in text must be written `&lt;`, or stand inside a policy expression `@(...)`");
            return Err(self.explain(error, suspect));
        }
        let name = TextRange::new(name_start, self.name_end(name_start));
        let tag = TextRange::new(start, name.end());
        let first_attribute = self.attributes.len();
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
                // Right after the name, `is_name_char` has consumed every name byte, so an
                // attribute here follows a space or, run together (`a="1"b="2"`), a value.
                // XML wants a space there; APIM does not care, and the tree stays unambiguous.
                Some(&b) if is_name_start(b) => {
                    let previous = self.attributes[first_attribute..].last().copied();
                    let attr = self.attribute(after_space, tag, previous)?;
                    i = attr.range.end();
                    self.attributes.push(attr);
                }
                _ => {
                    let tag_name = self.str(name).to_owned();
                    let error = SyntaxError::new(
                        Kind::MalformedTag,
                        self.char_at(after_space),
                        format!("expected an attribute, `>` or `/>` in the start tag of `<{tag_name}>`, found {}", self.found(after_space)),
                    )
                    .with_related(tag, "the tag starts here");
                    return Err(self.explain(error, self.suspect));
                }
            }
        };
        self.suspect = None;
        let start_tag = TextRange::new(start, i);
        let element = Element {
            name,
            start_tag,
            end_tag: None,
            attributes: Span::new(first_attribute, self.attributes.len()),
            children: Span::default(),
        };
        let id = self.push(NodeKind::Element(element), start_tag);
        self.pos = i;
        if !self_closing {
            if self.open.len() >= self.limits.max_depth {
                return Err(SyntaxError::new(
                    Kind::TooDeep,
                    tag,
                    format!(
                        "elements nest deeper than {} levels, the limit",
                        self.limits.max_depth
                    ),
                )
                .with_label("this element is one level too deep"));
            }
            self.open.push(Open {
                id,
                first_child: self.unclaimed.len(),
            });
        }
        Ok(())
    }

    fn attribute(
        &mut self,
        start: usize,
        tag: TextRange,
        previous: Option<Attribute>,
    ) -> Result<Attribute, SyntaxError> {
        let name = TextRange::new(start, self.name_end(start));
        let eq = self.skip_space(name.end());
        if self.src.get(eq) != Some(&b'=') {
            if let Some(instead) = self.suspect.and_then(|s| self.gave_up_in_value(s, eq)) {
                return Err(instead);
            }
            // `name="a value="b"`: the value of `name` lacks its closing quote, so it took the
            // next attribute's opening quote, and `b` reads as a name. Say so.
            let error = SyntaxError::new(
                Kind::MalformedTag,
                self.char_at(eq),
                format!(
                    "expected `=` after attribute name `{}`, found {}",
                    self.str(name),
                    self.found(eq)
                ),
            );
            if let Some(previous) = previous
                && self.str(previous.value).trim_end().ends_with('=')
            {
                return Err(error.with_related(
                    previous.value,
                    format!(
                        "the value of `{}` ends in `=`: is its closing quote missing?",
                        self.str(previous.name)
                    ),
                ));
            }
            let error = error.with_related(tag, "in this tag");
            return Err(self.explain(error, self.suspect));
        }
        let open = self.skip_space(eq + 1);
        let quote = match self.src.get(open) {
            Some(&q @ (b'"' | b'\'')) => q,
            _ => {
                let error = SyntaxError::new(
                    Kind::MalformedTag,
                    self.char_at(open),
                    format!(
                        "expected a quoted value for attribute `{}`, found {}",
                        self.str(name),
                        self.found(open)
                    ),
                )
                .with_label("attribute values must be in `\"` or `'` quotes")
                .with_related(tag, "in this tag");
                return Err(self.explain(error, self.suspect));
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

    /// The first policy expression start in `start..end`.
    fn first_expression(&self, start: usize, end: usize) -> Option<usize> {
        memchr::memchr_iter(b'@', &self.src[start..end])
            .map(|n| start + n)
            .find(|&at| starts_expression(self.src, at))
    }

    /// Reads `start..end` as plain XML: every policy expression that balances inside it, with
    /// entities decoded first when `decode` (text and attribute values, not CDATA).
    fn read_plain(
        &self,
        start: usize,
        end: usize,
        in_attribute: bool,
        decode: bool,
    ) -> PlainReading {
        let (bytes, offsets) = if decode {
            decode_entities(self.src, start, end)
        } else {
            (Cow::Borrowed(&self.src[start..end]), None)
        };
        let source_offset = |k: usize| offsets.as_ref().map_or(start + k, |o| o[k]);
        // A scanner of its own: the decoded bytes are not the source the parser's one knows.
        let mut scanner = Scanner::new(&bytes);
        let mut expressions = Vec::new();
        let mut first_balanced = None;
        let mut k = 0;
        while let Some(n) = memchr::memchr(b'@', &bytes[k..]) {
            k += n;
            if !starts_expression(&bytes, k) {
                k += 1;
                continue;
            }
            let scanned = scanner.strict(k);
            first_balanced.get_or_insert(scanned.is_ok());
            match scanned {
                Ok(e) => {
                    expressions.push(Expression {
                        range: TextRange::new(source_offset(k), source_offset(e)),
                        block: bytes[k + 1] == b'{',
                        in_attribute,
                    });
                    k = e;
                }
                Err(_) => k += 1,
            }
        }
        PlainReading {
            expressions,
            first_balanced: first_balanced.unwrap_or(true),
        }
    }

    /// The offset of the closing quote of a value opened at `open`.
    ///
    /// The value is read as plain XML (the first matching quote closes it) unless it holds a
    /// policy expression that balances only when read raw, as C# holding its own quotes
    /// (`"@(f("x"))"`); see the module documentation.
    fn attribute_value_end(
        &mut self,
        open: usize,
        quote: u8,
        name: TextRange,
    ) -> Result<usize, SyntaxError> {
        let Some(plain_close) = memchr::memchr(quote, &self.src[open + 1..]).map(|n| open + 1 + n)
        else {
            // Every reading closes the value with a quote, so none closes it.
            return Err(SyntaxError::new(
                Kind::UnterminatedAttribute,
                self.char_at(open),
                format!(
                    "unterminated value of attribute `{}`: expected a closing `{}`",
                    self.str(name),
                    quote as char
                ),
            )
            .with_label("the value opens here and never closes")
            .with_related(self.at_the_end().0, self.at_the_end().1));
        };
        let Some(at) = self.first_expression(open + 1, plain_close) else {
            return Ok(plain_close);
        };
        let plain = self.read_plain(open + 1, plain_close, true, true);
        if plain.first_balanced {
            self.expressions.extend(plain.expressions);
            return Ok(plain_close);
        }
        let src = self.src;
        let closing_quote = |end: usize| {
            let next = end + src[end..].iter().take_while(|b| is_space(**b)).count();
            (src.get(next) == Some(&quote)).then_some(next)
        };
        let why = match self.scanner.strict(at) {
            Ok(end) => match closing_quote(end) {
                Some(close) => {
                    return Ok(self.raw_expression_in_value(at, end, close));
                }
                None => Unbalanced::EndsEarly(end),
            },
            // A tolerant scan repeats the strict one up to its first mismatch, so it can only
            // differ, and be worth its cost, after a mismatch.
            Err(ScanError::Mismatch(m)) => {
                let limit = at.saturating_add(self.tolerant_budget);
                let (tolerant, reached) = self.scanner.tolerant(at, limit);
                self.tolerant_budget = self.tolerant_budget.saturating_sub(reached - at);
                if let Ok(end) = tolerant
                    && let Some(close) = closing_quote(end)
                {
                    return Ok(self.raw_expression_in_value(at, end, close));
                }
                Unbalanced::Mismatch(m)
            }
            Err(ScanError::Eof) => Unbalanced::Eof,
        };
        self.suspect = Some(Suspect {
            at,
            why,
            attribute: Some(name),
        });
        self.expressions.extend(plain.expressions);
        Ok(plain_close)
    }

    /// Records the raw expression `at..end` that ends a value closed at `close`.
    fn raw_expression_in_value(&mut self, at: usize, end: usize, close: usize) -> usize {
        self.expressions.push(Expression {
            range: TextRange::new(at, end),
            block: self.src[at + 1] == b'{',
            in_attribute: true,
        });
        close
    }

    fn end_tag(&mut self) -> Result<(), SyntaxError> {
        let start = self.pos;
        let name = TextRange::new(start + 2, self.name_end(start + 2));
        let close = self.skip_space(name.end());
        if name.is_empty() {
            return Err(SyntaxError::new(
                Kind::MalformedTag,
                self.char_at(name.start()),
                format!(
                    "expected an element name after `</`, found {}",
                    self.found(name.start())
                ),
            ));
        }
        if self.src.get(close) != Some(&b'>') {
            return Err(SyntaxError::new(
                Kind::MalformedTag,
                self.char_at(close),
                format!(
                    "expected `>` to end the closing tag `</{}`, found {}",
                    self.str(name),
                    self.found(close)
                ),
            )
            .with_related(
                TextRange::new(start, name.end()),
                "the closing tag starts here",
            ));
        }
        let end_tag = TextRange::new(start, close + 1);
        let Some(&Open {
            id: innermost,
            first_child,
        }) = self.open.last()
        else {
            return Err(SyntaxError::new(
                Kind::UnexpectedClosingTag,
                end_tag,
                format!(
                    "unexpected closing tag `</{}>`: no element is open",
                    self.str(name)
                ),
            ));
        };
        let open_el = self.element_data(innermost);
        // Names are compared as bytes: both end on an ASCII delimiter, so they are whole
        // UTF-8, and the strings for the message are only built on the way to the error.
        if self.src[open_el.name.to_std()] != self.src[name.to_std()] {
            let found_name = self.str(name).to_owned();
            let expected = self.str(open_el.name).to_owned();
            let opened = open_el.start_tag;
            let label = match self.suspects_in_text.get(&opened.start()) {
                Some(&suspect) => format!(
                    "`<{expected}>` opened here; {}",
                    self.misread_as_markup(suspect)
                ),
                None => format!("`<{expected}>` opened here"),
            };
            // Say which of the two tags is likely wrong: an outer element closed early means
            // the inner one lacks its end tag; otherwise the closing tag is the stray one.
            let closes_outer = self.open.iter().rev().skip(1).any(|open| {
                let outer = self.element_data(open.id).name;
                self.str(outer) == found_name
            });
            let end_label = if closes_outer {
                format!("`<{expected}>` must be closed before `</{found_name}>`")
            } else {
                format!("no open element is named `{found_name}`")
            };
            return Err(SyntaxError::new(
                Kind::MismatchedTag,
                end_tag,
                format!(
                    "mismatched closing tag: expected `</{expected}>`, found `</{found_name}>`"
                ),
            )
            .with_label(end_label)
            .with_related(opened, label));
        }
        self.open.pop();
        let children = Span::new(
            self.children.len(),
            self.children.len() + self.unclaimed.len() - first_child,
        );
        self.children
            .extend_from_slice(&self.unclaimed[first_child..]);
        self.unclaimed.truncate(first_child);
        let node = &mut self.nodes[innermost.index()];
        node.range = TextRange::new(node.range.start(), end_tag.end());
        if let NodeKind::Element(el) = &mut node.kind {
            el.end_tag = Some(end_tag);
            el.children = children;
        }
        self.pos = end_tag.end();
        Ok(())
    }

    /// Character data up to the next tag. It ends at the first `<` unless a policy expression
    /// that balances only when read raw runs past it (see the module documentation).
    fn text(&mut self) -> Result<(), SyntaxError> {
        let start = self.pos;
        let plain_end =
            memchr::memchr(b'<', &self.src[start..]).map_or(self.src.len(), |n| start + n);
        self.suspect = None;
        let end = match self.first_expression(start, plain_end) {
            None => plain_end,
            Some(at) => {
                let plain = self.read_plain(start, plain_end, false, true);
                let why = if plain.first_balanced {
                    None
                } else {
                    match self.scanner.strict(at) {
                        Ok(end) => {
                            // In valid policies an expression is the whole text, so a tag
                            // follows it.
                            let next =
                                end + self.src[end..].iter().take_while(|b| is_space(**b)).count();
                            if next == self.src.len() || self.src[next] == b'<' {
                                self.expressions.push(Expression {
                                    range: TextRange::new(at, end),
                                    block: self.src[at + 1] == b'{',
                                    in_attribute: false,
                                });
                                self.push_text(start, next);
                                return Ok(());
                            }
                            Some(Unbalanced::EndsEarly(end))
                        }
                        Err(ScanError::Eof) => {
                            return Err(SyntaxError::new(
                                Kind::UnterminatedExpression,
                                TextRange::new(at, at + 2),
                                format!(
                                    "unterminated policy expression: `{}` is never closed",
                                    self.str(TextRange::new(at, at + 2))
                                ),
                            )
                            .with_label("the expression starts here; its brackets never balance before the end of the file")
                            .with_related(self.at_the_end().0, self.at_the_end().1));
                        }
                        Err(ScanError::Mismatch(m)) => Some(Unbalanced::Mismatch(m)),
                    }
                };
                if let Some(why) = why {
                    let suspect = Suspect {
                        at,
                        why,
                        attribute: None,
                    };
                    self.suspect = Some(suspect);
                    self.suspects_in_text.insert(plain_end, suspect);
                }
                self.expressions.extend(plain.expressions);
                plain_end
            }
        };
        self.push_text(start, end);
        Ok(())
    }

    fn push_text(&mut self, start: usize, end: usize) {
        let whitespace_only = self.src[start..end].iter().all(|&b| is_space(b));
        self.push(
            NodeKind::Text { whitespace_only },
            TextRange::new(start, end),
        );
        self.pos = end;
    }
}

#[cfg(test)]
mod tests {
    use super::super::csharp::steps;
    use crate::syntax::parse;

    /// Scanner steps a parse takes: counted, not timed, so the check is deterministic.
    fn steps_to_parse(text: &str) -> usize {
        let before = steps();
        let _ = parse(text);
        steps() - before
    }

    /// Each of these made parsing quadratic (or worse) at some point: a failed or tolerant
    /// scan ran to the end of the file from every element.
    #[test]
    fn hostile_documents_parse_in_linear_steps() {
        let units = [
            "<a>@(x</a>",
            "<a b=\"@(x]\"/>",
            "<a b=\"@(x\"/>",
            "<a b='@(\"'/>",
            "<a b='@(\\\"'/>",
            "<a b=\"@(/*\"/>",
            "<a b=\"@(//\"/>",
            "<a b=\"@(x'\"/>",
            "<a b=\"@(&quot;(&quot;\"/>",
            "<a b=\"@(x]\" c='@{y)'/>",
            "<a>@(x) y</a>",
            "<a>@(&quot;</a>",
            "<v>@(@(</v>",
        ];
        for unit in units {
            for tail in ["", "]", ")", "\n"] {
                let text = format!("<policies>{}{tail}</policies>", unit.repeat(2000));
                let taken = steps_to_parse(&text);
                assert!(
                    taken <= 8 * text.len(),
                    "{taken} steps for {} bytes of {unit:?} + {tail:?}",
                    text.len()
                );
            }
        }
        let text = format!("<policies a=\"{}\"/>", "@(".repeat(10_000));
        assert!(steps_to_parse(&text) <= 8 * text.len());
    }

    /// Broken C# in an attribute is read by the tolerant scan. Once hostile input has spent
    /// the tolerant budget (here: 3000 values whose failed tolerant scans each read to the end
    /// of the file), the same value is read as plain XML instead: an error, never a hang.
    #[test]
    fn tolerant_scans_stay_within_their_budget() {
        let broken = "<b v=\"@{ var x = P((string)v[\"a\"; return x;}\"/>";
        let doc = parse(&format!("<policies>{broken}</policies>")).unwrap();
        let b = doc.root().child("b").unwrap();
        assert!(b.attr("v").unwrap().ends_with("return x;}"));
        assert_eq!(doc.expressions().len(), 1);

        let hostile = format!(
            "<policies>{}{broken}</policies>",
            "<a b=\"@(x]\"/>".repeat(3000)
        );
        let before = steps();
        let error = parse(&hostile).unwrap_err();
        assert!(steps() - before <= 8 * hostile.len());
        assert_eq!(error.kind, crate::syntax::SyntaxErrorKind::MalformedTag);
        let (related, _) = error.related.unwrap();
        assert_eq!(&hostile[related.to_std()], "@{");
    }
}

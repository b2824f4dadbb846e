//! The lossless tree: an arena of nodes holding byte ranges into the source.
//!
//! Every byte of the source belongs to exactly one top-level node, or to a descendant of one:
//! the children of a node tile the bytes between its start and end tags, and the attributes of
//! a start tag lie inside it in order, separated only by whitespace. [`Document::print`]
//! rebuilds the source from the tree, and [`Document::check_tiling`] asserts the invariant.
//! Nodes live in one `Vec`, so walking the tree never needs recursion.

use crate::syntax::LineEnding;
use crate::text::{LineIndex, Ranged, TextRange};

/// Index of a node in [`Document`]'s arena.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub(crate) u32);

impl NodeId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// The root element of a policy file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RootKind {
    /// `<policies>`, holding sections.
    Policies,
    /// `<fragment>`, holding policy statements directly.
    Fragment,
}

/// What a node is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// The UTF-8 byte order mark, always the first node when present.
    Bom,
    /// `<name attr="v">...</name>` or `<name />`.
    Element(Element),
    /// Character data between tags: plain text, entity references, named values `{{x}}`,
    /// Liquid, and policy expressions (listed in [`Document::expressions`]).
    Text { whitespace_only: bool },
    /// `<!-- ... -->`.
    Comment,
    /// `<![CDATA[ ... ]]>`.
    CData,
    /// `<? ... ?>`, the XML declaration included.
    ProcessingInstruction,
    /// `<!DOCTYPE ...>`.
    Doctype,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub kind: NodeKind,
    pub range: TextRange,
    pub parent: Option<NodeId>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Element {
    /// The tag name, e.g. `set-header` or `soap:Envelope`.
    pub name: TextRange,
    /// `<name ...>` or `<name ... />`.
    pub start_tag: TextRange,
    /// `</name>`; `None` when self-closing.
    pub end_tag: Option<TextRange>,
    /// Into [`Document`]'s attribute arena: read them with [`ElementRef::attributes`].
    pub(crate) attributes: Span,
    /// Into [`Document`]'s child arena: read them with [`ElementRef::children`].
    pub(crate) children: Span,
}

/// A run of entries in one of [`Document`]'s arenas. The arenas spare every element two
/// allocations of its own, which were a fifth of parsing and dropping a document.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Span {
    start: u32,
    end: u32,
}

impl Span {
    pub(crate) fn new(start: usize, end: usize) -> Self {
        // Both arenas hold fewer entries than the source has bytes, which fits `u32`.
        Self {
            start: start as u32,
            end: end as u32,
        }
    }

    pub(crate) fn of<T>(self, arena: &[T]) -> &[T] {
        &arena[self.start as usize..self.end as usize]
    }
}

/// `name="value"`, with the whitespace around `=` inside `range`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attribute {
    pub range: TextRange,
    pub name: TextRange,
    /// The raw value between the quotes: entities and expressions as written.
    pub value: TextRange,
    /// `"` or `'`.
    pub quote: u8,
}

impl Ranged for Attribute {
    fn range(&self) -> TextRange {
        self.range
    }
}

/// Whether a policy expression is `@(...)` or `@{...}`, and where it stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expression {
    pub range: TextRange,
    /// `true` for `@{ ... }`, `false` for `@( ... )`.
    pub block: bool,
    /// Inside an attribute value rather than element text.
    pub in_attribute: bool,
}

/// A parsed policy file: its source, and the tree over it.
#[derive(Clone, Debug)]
pub struct Document {
    pub(crate) source: String,
    pub(crate) nodes: Vec<Node>,
    /// The children of every element, each element's in one run, and the top level's.
    pub(crate) children: Vec<NodeId>,
    pub(crate) attributes: Vec<Attribute>,
    pub(crate) top_level: Span,
    pub(crate) root: NodeId,
    pub(crate) root_kind: RootKind,
    pub(crate) expressions: Vec<Expression>,
    /// Built on first use: most documents of a bulk run never need a line number.
    pub(crate) line_index: std::sync::OnceLock<LineIndex>,
}

impl Document {
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The source text of `range`.
    pub fn slice(&self, range: TextRange) -> &str {
        &self.source[range.to_std()]
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    pub fn nodes(&self) -> impl Iterator<Item = (NodeId, &Node)> {
        self.nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (NodeId(i as u32), n))
    }

    /// Nodes outside the root element too: BOM, declaration, comments, whitespace.
    pub fn top_level(&self) -> &[NodeId] {
        self.top_level.of(&self.children)
    }

    pub fn root(&self) -> ElementRef<'_> {
        ElementRef {
            doc: self,
            id: self.root,
        }
    }

    pub fn root_kind(&self) -> RootKind {
        self.root_kind
    }

    /// Every policy expression, in source order: in attribute values, in text and in CDATA
    /// sections. A value or text read as plain XML lists each expression that balances in it,
    /// with entities decoded first, so the range of `@(x == &quot;)&quot;)` is all of it.
    pub fn expressions(&self) -> &[Expression] {
        &self.expressions
    }

    pub fn line_index(&self) -> &LineIndex {
        self.line_index.get_or_init(|| LineIndex::new(&self.source))
    }

    pub fn has_bom(&self) -> bool {
        self.source.starts_with('\u{feff}')
    }

    /// The element `id`, when that node is an element.
    pub fn element(&self, id: NodeId) -> Option<ElementRef<'_>> {
        matches!(self.node(id).kind, NodeKind::Element(_)).then_some(ElementRef { doc: self, id })
    }

    /// The line ending most lines use: CRLF when at least half of them do.
    pub fn line_ending(&self) -> LineEnding {
        LineEnding::detect(&self.source)
    }

    /// The whitespace at the start of the line holding `offset`.
    pub fn indent_of_line(&self, offset: usize) -> &str {
        let index = self.line_index();
        let line = index.line_of(offset);
        let start = index.line_start(line);
        let rest = &self.source[start..];
        let len = rest
            .bytes()
            .take_while(|b| *b == b' ' || *b == b'\t')
            .count();
        &rest[..len]
    }

    /// Whether only spaces and tabs stand between the start of `offset`'s line and `offset`.
    pub fn starts_line(&self, offset: usize) -> bool {
        let index = self.line_index();
        let line_start = index.line_start(index.line_of(offset));
        self.source[line_start..offset]
            .bytes()
            .all(|b| b == b' ' || b == b'\t')
    }

    /// Rebuilds the source from the tree: each element from its start tag, its children and
    /// its end tag. Equal to [`Document::source`] for every parsed document.
    pub fn print(&self) -> String {
        enum Step {
            Node(NodeId),
            Close(TextRange),
        }
        let mut out = String::with_capacity(self.source.len());
        let mut stack: Vec<Step> = self
            .top_level()
            .iter()
            .rev()
            .map(|&id| Step::Node(id))
            .collect();
        while let Some(step) = stack.pop() {
            match step {
                Step::Close(range) => out.push_str(self.slice(range)),
                Step::Node(id) => match &self.node(id).kind {
                    NodeKind::Element(el) => {
                        out.push_str(self.slice(el.start_tag));
                        if let Some(end) = el.end_tag {
                            stack.push(Step::Close(end));
                        }
                        stack.extend(
                            el.children
                                .of(&self.children)
                                .iter()
                                .rev()
                                .map(|&c| Step::Node(c)),
                        );
                    }
                    _ => out.push_str(self.slice(self.node(id).range)),
                },
            }
        }
        out
    }

    /// Checks that the tree tiles the source, returning the first gap or overlap found.
    pub fn check_tiling(&self) -> Result<(), String> {
        fn tile(
            ranges: impl Iterator<Item = TextRange>,
            start: usize,
            end: usize,
            what: &str,
        ) -> Result<(), String> {
            let mut cursor = start;
            for r in ranges {
                if r.start() != cursor {
                    return Err(format!("{what}: expected a node at {cursor}, found {r:?}"));
                }
                cursor = r.end();
            }
            if cursor != end {
                return Err(format!("{what}: nodes end at {cursor}, expected {end}"));
            }
            Ok(())
        }
        tile(
            self.top_level().iter().map(|&id| self.node(id).range),
            0,
            self.source.len(),
            "document",
        )?;
        for (id, node) in self.nodes() {
            let NodeKind::Element(el) = &node.kind else {
                continue;
            };
            let end = el.end_tag.map_or(el.start_tag.end(), |t| t.end());
            if node.range != TextRange::new(el.start_tag.start(), end) {
                return Err(format!(
                    "element {id:?}: range {:?} is not its tags'",
                    node.range
                ));
            }
            if let Some(end_tag) = el.end_tag {
                tile(
                    el.children
                        .of(&self.children)
                        .iter()
                        .map(|&c| self.node(c).range),
                    el.start_tag.end(),
                    end_tag.start(),
                    "children",
                )?;
            } else if !el.children.of(&self.children).is_empty() {
                return Err(format!("self-closing element {id:?} has children"));
            }
            if el.name.start() != el.start_tag.start() + 1 || el.name.is_empty() {
                return Err(format!(
                    "element {id:?}: name {:?} does not follow `<`",
                    el.name
                ));
            }
            let mut cursor = el.name.end();
            for attr in el.attributes.of(&self.attributes) {
                if attr.range.start() < cursor || attr.range.end() > el.start_tag.end() {
                    return Err(format!(
                        "attribute at {:?} lies outside its start tag",
                        attr.range
                    ));
                }
                let gap = &self.source[cursor..attr.range.start()];
                // Whitespace must part the name from the first attribute; attributes may run
                // together after a closing quote (`a="1"b="2"`), which the parser accepts.
                if gap.is_empty() && cursor == el.name.end()
                    || !gap.bytes().all(|b| b.is_ascii_whitespace())
                {
                    return Err(format!(
                        "attribute at {:?}: gap {gap:?} before it",
                        attr.range
                    ));
                }
                let bytes = self.source.as_bytes();
                let quoted = attr.name.start() == attr.range.start()
                    && attr.value.end() + 1 == attr.range.end()
                    && attr.value.start() > attr.name.end()
                    && bytes[attr.value.start() - 1] == attr.quote
                    && bytes[attr.value.end()] == attr.quote;
                if !quoted {
                    return Err(format!(
                        "attribute at {:?}: name {:?} and quoted value {:?} do not fill it",
                        attr.range, attr.name, attr.value
                    ));
                }
                cursor = attr.range.end();
            }
            let rest = self.source[cursor..el.start_tag.end()].trim_start();
            let tag_end = if el.end_tag.is_some() { ">" } else { "/>" };
            if rest != tag_end {
                return Err(format!(
                    "element {id:?}: start tag ends with {rest:?}, expected {tag_end:?}"
                ));
            }
            if let Some(end_tag) = el.end_tag {
                let name = self.slice(el.name);
                let end_text = self.slice(end_tag);
                let closes = end_text
                    .strip_prefix("</")
                    .and_then(|t| t.strip_prefix(name))
                    .is_some_and(|t| t.trim_start() == ">");
                if !closes {
                    return Err(format!(
                        "element {id:?}: end tag {end_text:?} does not close `{name}`"
                    ));
                }
            }
        }
        Ok(())
    }
}

/// An element of a [`Document`], with navigation helpers.
#[derive(Clone, Copy, Debug)]
pub struct ElementRef<'a> {
    doc: &'a Document,
    id: NodeId,
}

impl<'a> ElementRef<'a> {
    pub fn id(self) -> NodeId {
        self.id
    }

    pub fn document(self) -> &'a Document {
        self.doc
    }

    pub fn data(self) -> &'a Element {
        match &self.doc.node(self.id).kind {
            NodeKind::Element(el) => el,
            _ => unreachable!("ElementRef always points at an element"),
        }
    }

    pub fn name(self) -> &'a str {
        self.doc.slice(self.data().name)
    }

    /// Whether the element is named `name`, ASCII case-insensitively (APIM matches policy
    /// names case-insensitively).
    pub fn is(self, name: &str) -> bool {
        self.name().eq_ignore_ascii_case(name)
    }

    pub fn start_tag(self) -> TextRange {
        self.data().start_tag
    }

    pub fn end_tag(self) -> Option<TextRange> {
        self.data().end_tag
    }

    pub fn is_self_closing(self) -> bool {
        self.data().end_tag.is_none()
    }

    /// The attributes of the start tag, in source order.
    pub fn attributes(self) -> &'a [Attribute] {
        self.data().attributes.of(&self.doc.attributes)
    }

    /// The raw value of attribute `name`, if present.
    pub fn attr(self, name: &str) -> Option<&'a str> {
        self.attributes()
            .iter()
            .find(|a| self.doc.slice(a.name) == name)
            .map(|a| self.doc.slice(a.value))
    }

    pub fn parent(self) -> Option<ElementRef<'a>> {
        self.doc
            .node(self.id)
            .parent
            .and_then(|p| self.doc.element(p))
    }

    /// All child nodes, elements and text and comments alike.
    pub fn children(self) -> &'a [NodeId] {
        self.data().children.of(&self.doc.children)
    }

    pub fn child_elements(self) -> impl Iterator<Item = ElementRef<'a>> + 'a {
        let doc = self.doc;
        self.children().iter().filter_map(move |&c| doc.element(c))
    }

    /// The first child element named `name`.
    pub fn child(self, name: &str) -> Option<ElementRef<'a>> {
        self.child_elements().find(|c| c.is(name))
    }

    /// All elements below this one, in document order (iterative, any depth).
    pub fn descendants(self) -> impl Iterator<Item = ElementRef<'a>> + 'a {
        let doc = self.doc;
        let mut stack: Vec<NodeId> = self.children().iter().rev().copied().collect();
        std::iter::from_fn(move || {
            while let Some(id) = stack.pop() {
                if let Some(el) = doc.element(id) {
                    stack.extend(el.children().iter().rev().copied());
                    return Some(el);
                }
            }
            None
        })
    }

    /// The text between the tags (empty when self-closing).
    pub fn inner_range(self) -> TextRange {
        let data = self.data();
        match data.end_tag {
            Some(end) => TextRange::new(data.start_tag.end(), end.start()),
            None => TextRange::empty(data.start_tag.end()),
        }
    }
}

impl Ranged for ElementRef<'_> {
    fn range(&self) -> TextRange {
        self.doc.node(self.id).range
    }
}

#[cfg(test)]
mod tests {
    use crate::syntax::{NodeKind, parse};
    use crate::text::TextRange;

    fn first_element_mut<'a>(doc: &'a mut super::Document, name: &str) -> &'a mut super::Element {
        let source = doc.source.clone();
        doc.nodes
            .iter_mut()
            .find_map(|n| match &mut n.kind {
                NodeKind::Element(el) if &source[el.name.to_std()] == name => Some(el),
                _ => None,
            })
            .expect("element present")
    }

    #[test]
    fn tiling_accepts_attributes_run_together_but_not_a_name_run_into_one() {
        let doc = parse(r#"<policies a="1"b='2'/>"#).unwrap();
        assert_eq!(doc.check_tiling(), Ok(()));
        let mut doc = doc;
        // Move the first attribute onto the name: `<policiesa="1"` would not re-parse.
        let el = first_element_mut(&mut doc, "policies");
        el.name = TextRange::new(1, 10);
        assert!(doc.check_tiling().unwrap_err().contains("gap"));
    }

    #[test]
    fn tiling_reports_gaps_and_broken_tags() {
        let text = r#"<policies><x k="v"/></policies>"#;
        let mut doc = parse(text).unwrap();
        let first = first_element_mut(&mut doc, "x").attributes.start as usize;
        doc.attributes[first].value = TextRange::new(16, 18);
        assert!(doc.check_tiling().unwrap_err().contains("quoted value"));

        let mut doc = parse(text).unwrap();
        first_element_mut(&mut doc, "x").end_tag = Some(TextRange::new(20, 31));
        assert!(doc.check_tiling().is_err());

        let mut doc = parse(text).unwrap();
        let last = *doc.top_level().last().unwrap();
        doc.nodes[last.index()].range = TextRange::new(0, text.len() - 1);
        assert!(doc.check_tiling().unwrap_err().contains("document"));
    }
}

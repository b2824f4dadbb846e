//! Policy-level helpers shared by the rules: sections, indentation, and the edits that insert
//! or move elements as whole lines.
//!
//! Edits made here follow the file's own conventions, so a reviewer sees only the change: an
//! inserted line copies the indentation of its new siblings (tabs stay tabs) and the file's
//! line ending; a moved element moves as whole lines, with the comments directly above it.

use crate::fix::Edit;
use crate::syntax::{Document, ElementRef, NodeKind};
use crate::text::{Ranged, TextRange};

/// A section of a `<policies>` document, in the order APIM runs them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Section {
    Inbound,
    Backend,
    Outbound,
    OnError,
}

impl Section {
    pub const ALL: [Section; 4] = [
        Section::Inbound,
        Section::Backend,
        Section::Outbound,
        Section::OnError,
    ];

    /// The element name.
    pub fn tag(self) -> &'static str {
        match self {
            Section::Inbound => "inbound",
            Section::Backend => "backend",
            Section::Outbound => "outbound",
            Section::OnError => "on-error",
        }
    }

    pub fn from_tag(name: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|s| s.tag() == name)
    }
}

/// The sections present in a `<policies>` document, in document order.
pub fn sections(doc: &Document) -> impl Iterator<Item = (Section, ElementRef<'_>)> {
    doc.root()
        .child_elements()
        .filter_map(|el| Section::from_tag(el.name()).map(|s| (s, el)))
}

/// The section holding `el` (the section itself included), if any.
pub fn section_of(el: ElementRef<'_>) -> Option<Section> {
    let mut current = Some(el);
    while let Some(e) = current {
        if e.parent()
            .is_some_and(|p| p.id() == e.document().root().id())
        {
            return Section::from_tag(e.name());
        }
        current = e.parent();
    }
    None
}

/// Whether `el` is a `<base />` element. Comments and expression text are not elements, so a
/// commented-out `<base />` never counts.
pub fn is_base(el: ElementRef<'_>) -> bool {
    el.name() == "base"
}

/// The indentation unit the file uses: what a child adds to its parent's indentation. Read
/// from the first element that starts a line inside a parent that starts a line; four spaces
/// when the file gives no example.
pub fn indent_unit(doc: &Document) -> String {
    let root = doc.root();
    let mut stack = vec![root];
    while let Some(parent) = stack.pop() {
        for child in parent.child_elements() {
            let (ps, cs) = (parent.range().start(), child.range().start());
            if doc.starts_line(ps)
                && doc.starts_line(cs)
                && doc.line_index().line_of(ps) != doc.line_index().line_of(cs)
            {
                let (pi, ci) = (doc.indent_of_line(ps), doc.indent_of_line(cs));
                if ci.len() > pi.len() && ci.starts_with(pi) {
                    return ci[pi.len()..].to_owned();
                }
            }
            if stack.len() < 64 {
                stack.push(child);
            }
        }
    }
    "    ".to_owned()
}

/// The indentation of `el`'s line when `el` starts it, else `None`.
pub fn own_line_indent<'d>(doc: &'d Document, el: ElementRef<'_>) -> Option<&'d str> {
    let start = el.range().start();
    doc.starts_line(start).then(|| doc.indent_of_line(start))
}

/// The first child node that is not whitespace-only text.
fn first_content_child(doc: &Document, parent: ElementRef<'_>) -> Option<TextRange> {
    parent.children().iter().find_map(|&id| {
        let node = doc.node(id);
        match node.kind {
            NodeKind::Text {
                whitespace_only: true,
            } => None,
            _ => Some(node.range),
        }
    })
}

/// An edit that makes `text` (one element, no line break) the first child of `parent`, on a
/// line of its own when the parent's children stand on their own lines.
pub fn insert_first_child(doc: &Document, parent: ElementRef<'_>, text: &str) -> Edit {
    insert_child_at(doc, parent, first_content_child(doc, parent), text)
}

/// An edit that inserts `text` (one element) into `parent` just before the child node at
/// `before` (the range of a child), or as the only content when `before` is `None`.
pub fn insert_child_at(
    doc: &Document,
    parent: ElementRef<'_>,
    before: Option<TextRange>,
    text: &str,
) -> Edit {
    let eol = doc.line_ending().as_str();
    let parent_indent = own_line_indent(doc, parent).unwrap_or("");
    let unit = indent_unit(doc);
    match before {
        Some(child) if doc.starts_line(child.start()) => {
            let line_start = child.start() - doc.indent_of_line(child.start()).len();
            let indent = doc.indent_of_line(child.start());
            Edit::insertion(line_start, format!("{indent}{text}{eol}"))
        }
        Some(child) => Edit::insertion(child.start(), text.to_owned()),
        None => {
            let child_indent = format!("{parent_indent}{unit}");
            let body = format!("{eol}{child_indent}{text}{eol}{parent_indent}");
            match parent.end_tag() {
                Some(_) => Edit::replacement(parent.inner_range(), body),
                None => {
                    // `<inbound />` is opened only now that something must go inside it.
                    let tag = parent.start_tag();
                    let head = doc.slice(tag).trim_end_matches("/>").trim_end();
                    Edit::replacement(tag, format!("{head}>{body}</{}>", parent.name()))
                }
            }
        }
    }
}

/// An edit that appends `text` (one element) as the last child of `parent`, after `after`
/// (the range of its current last element child), on its own line when that one is.
pub fn insert_after(doc: &Document, after: ElementRef<'_>, text: &str) -> Edit {
    let eol = doc.line_ending().as_str();
    let end = after.range().end();
    match own_line_indent(doc, after) {
        Some(indent) => Edit::insertion(end, format!("{eol}{indent}{text}")),
        None => Edit::insertion(end, text.to_owned()),
    }
}

/// The range to cut when moving `el` as whole lines: from the start of its line (or of the
/// comments directly above it, with no blank line between) to the end of its last line,
/// line break included. `None` when `el` shares a line with something else.
pub fn line_block(doc: &Document, el: ElementRef<'_>) -> Option<TextRange> {
    let src = doc.source();
    let range = el.range();
    if !doc.starts_line(range.start()) {
        return None;
    }
    let after = &src[range.end()..];
    let rest_of_line = after.find('\n').map_or(after, |n| &after[..n]);
    // The rest of the line must be blank, or one comment about this element, which moves
    // with it (`<rate-limit ... /> <!-- per IP -->`).
    let rest = rest_of_line.trim_matches([' ', '\t', '\r']);
    let one_comment = rest.starts_with("<!--") && rest.find("-->") == Some(rest.len() - 3);
    if !rest.is_empty() && !one_comment {
        return None;
    }
    let end = after.find('\n').map_or(src.len(), |n| range.end() + n + 1);
    let mut start = range.start() - doc.indent_of_line(range.start()).len();
    // Take the comments directly above, each alone on its line, with no blank line between.
    if let Some(parent) = el.parent() {
        let siblings = parent.children();
        let pos = siblings.iter().position(|&id| id == el.id())?;
        let mut i = pos;
        while i >= 2 {
            let gap = doc.node(siblings[i - 1]);
            let prev = doc.node(siblings[i - 2]);
            let gap_text = doc.slice(gap.range);
            let single_break = matches!(
                gap.kind,
                NodeKind::Text {
                    whitespace_only: true
                }
            ) && gap_text.matches('\n').count() == 1;
            if !(single_break
                && matches!(prev.kind, NodeKind::Comment)
                && doc.starts_line(prev.range.start()))
            {
                break;
            }
            start = prev.range.start() - doc.indent_of_line(prev.range.start()).len();
            i -= 2;
        }
    }
    Some(TextRange::new(start, end))
}

/// The start of the line block of `el` (its comments above included) when it starts a line.
pub fn block_start(doc: &Document, el: ElementRef<'_>) -> Option<usize> {
    line_block(doc, el).map(|b| b.start())
}

/// Edits that move `moved` to stand directly before `target` (both children of one parent,
/// `target` first), as whole lines when both stand on their own lines. Lines of the moved
/// block are re-indented to `target`'s indentation when the two differ.
pub fn move_before(doc: &Document, moved: ElementRef<'_>, target: ElementRef<'_>) -> (Edit, Edit) {
    // A target behind comments on its line (`<!-- x --><rate-limit />`): the block goes above
    // that line, so no line is left holding only whitespace.
    let target_start = block_start(doc, target).or_else(|| after_comments_only(doc, target));
    if let (Some(block), Some(target_start)) = (line_block(doc, moved), target_start) {
        let mut text = doc.slice(block).to_owned();
        let from = doc.indent_of_line(moved.range().start());
        let to = doc.indent_of_line(target.range().start());
        if from != to {
            text = text
                .split_inclusive('\n')
                .map(|line| match line.strip_prefix(from) {
                    Some(rest) => format!("{to}{rest}"),
                    None => line.to_owned(),
                })
                .collect();
        }
        if !text.ends_with('\n') {
            text.push_str(doc.line_ending().as_str());
        }
        return (Edit::insertion(target_start, text), Edit::deletion(block));
    }
    // Not on lines of their own: move just the element's text, and the blanks around it
    // that would be left at the end of a line or alone on one.
    let text = doc.slice(moved.range()).to_owned();
    (
        Edit::insertion(target.range().start(), text),
        Edit::deletion(without_stray_blanks(doc, moved.range())),
    )
}

/// The start of `el`'s line when only indentation and comments precede `el` on it.
fn after_comments_only(doc: &Document, el: ElementRef<'_>) -> Option<usize> {
    let src = doc.source();
    let start = el.range().start();
    let line_start = src[..start].rfind('\n').map_or(0, |n| n + 1);
    let mut rest = src[line_start..start].trim_start_matches([' ', '\t']);
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let body = rest.strip_prefix("<!--")?;
        let end = body.find("-->")?;
        rest = body[end + 3..].trim_start_matches([' ', '\t']);
    }
    Some(line_start)
}

/// `range` widened so that deleting it leaves no trailing blanks and no blank-only line:
/// with the whole line when nothing else is on it, else with the blanks before it when
/// nothing follows it on its line.
fn without_stray_blanks(doc: &Document, range: TextRange) -> TextRange {
    let src = doc.source();
    let line_start = src[..range.start()].rfind('\n').map_or(0, |n| n + 1);
    let line_end = src[range.end()..]
        .find('\n')
        .map_or(src.len(), |n| range.end() + n);
    let blank = |t: &str| t.chars().all(|c| matches!(c, ' ' | '\t' | '\r'));
    let (before, after) = (&src[line_start..range.start()], &src[range.end()..line_end]);
    match (blank(before), blank(after)) {
        (true, true) => TextRange::new(line_start, (line_end + 1).min(src.len())),
        (false, true) => {
            let kept = before.trim_end_matches([' ', '\t']).len();
            TextRange::new(
                line_start + kept,
                range.end() + after.trim_end_matches('\r').len(),
            )
        }
        _ => range,
    }
}

/// Whether an element's expressions mention `context.Variables` (a coarse test: enough to
/// decide that moving the element past a `set-variable` may change what it reads).
pub fn reads_variables(doc: &Document, el: ElementRef<'_>) -> bool {
    let range = el.range();
    doc.expressions()
        .iter()
        .filter(|e| range.contains_range(e.range))
        .any(|e| doc.slice(e.range).contains("Variables"))
}

/// The variables `el` (or an element inside it) sets: `<set-variable name>`, and every
/// attribute naming an output variable (`variable-name`, `remaining-calls-variable-name`,
/// `output-token-variable-name`, `response-variable-name`, ...).
pub fn variables_set(el: ElementRef<'_>) -> Vec<String> {
    let doc = el.document();
    let mut out = Vec::new();
    for e in std::iter::once(el).chain(el.descendants()) {
        for a in e.attributes() {
            let name = doc.slice(a.name);
            let sets = name.ends_with("variable-name") || (e.is("set-variable") && name == "name");
            if sets {
                out.push(doc.slice(a.value).trim().to_owned());
            }
        }
    }
    out
}

/// The variables that the text of an element (its expressions) reads, by name
/// (`context.Variables["x"]`, `context.Variables.GetValueOrDefault<string>("x")`), and
/// whether it reads some whose name is not written out (a name built at runtime).
pub fn variable_reads(text: &str) -> (Vec<String>, bool) {
    let mut names = Vec::new();
    let mut unknown = false;
    for (at, _) in text.match_indices("Variables") {
        let rest = &text[at + "Variables".len()..];
        // `Variables["x"]`, or `Variables.Method<T>("x"` / `Variables.Method("x"`.
        let after = if let Some(r) = rest.strip_prefix('[') {
            Some(r)
        } else if let Some(r) = rest.strip_prefix('.') {
            r.find('(')
                .filter(|open| {
                    r[..*open]
                        .chars()
                        .all(|c| c.is_alphanumeric() || "<>_ ,.?".contains(c))
                })
                .map(|open| &r[open + 1..])
        } else {
            None
        };
        let name = after.and_then(|r| {
            let r = r.trim_start();
            let quote = ["\"", "&quot;", "'"]
                .into_iter()
                .find(|q| r.starts_with(q))?;
            let body = &r[quote.len()..];
            body.find(quote).map(|end| body[..end].to_owned())
        });
        match name {
            Some(n) => names.push(n),
            None => unknown = true,
        }
    }
    (names, unknown)
}

/// The spans of template blocks in `doc`'s text: Terraform's `%{ for ... }` ... `%{ endfor }`
/// and `%{ if ... }` ... `%{ endif }`, each from its opening directive to the end of its
/// closing one (an unclosed block runs to the end of the text). What lies inside is
/// repeated or chosen when the template renders: apimfix never edits there.
pub fn template_blocks(doc: &Document) -> Vec<TextRange> {
    let text = doc.source();
    let mut out = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    let mut at = 0;
    while let Some(found) = text[at..].find("%{") {
        let start = at + found;
        let end = text[start..]
            .find('}')
            .map_or(text.len(), |e| start + e + 1);
        let word: String = text[start + 2..end.min(text.len())]
            .trim_start_matches(['~', ' ', '\t'])
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        match word.as_str() {
            "for" | "if" => open.push(start),
            "endfor" | "endif" => {
                if let Some(from) = open.pop()
                    && open.is_empty()
                {
                    out.push(TextRange::new(from, end));
                }
            }
            _ => {}
        }
        at = end.max(start + 2);
    }
    if let Some(&from) = open.first() {
        out.push(TextRange::new(from, text.len()));
    }
    out
}

/// Whether `range` of `doc` touches a template block (see [`template_blocks`]).
pub fn in_template_block(doc: &Document, range: TextRange) -> bool {
    template_blocks(doc)
        .iter()
        .any(|b| range.start() < b.end() && b.start() < range.end().max(range.start() + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::apply_edits;
    use crate::syntax::parse;

    fn inbound(doc: &Document) -> ElementRef<'_> {
        doc.root().child("inbound").unwrap()
    }

    #[test]
    fn variables_set_and_read_by_name() {
        let doc = parse("<policies><inbound><choose><when><rate-limit calls=\"1\" remaining-calls-variable-name=\"left\" /><set-variable name=\"x\" value=\"1\" /></when></choose><validate-jwt output-token-variable-name=\"jwt\" /></inbound></policies>").unwrap();
        let inbound = inbound(&doc);
        let choose = inbound.child("choose").unwrap();
        assert_eq!(variables_set(choose), ["left", "x"]);
        assert_eq!(
            variables_set(inbound.child("validate-jwt").unwrap()),
            ["jwt"]
        );
        let (names, unknown) = variable_reads(
            "@(context.Variables[\"left\"] + context.Variables.GetValueOrDefault<Jwt>(&quot;jwt&quot;) + context.Variables.ContainsKey('a'))",
        );
        assert_eq!(names, ["left", "jwt", "a"]);
        assert!(!unknown);
        assert!(variable_reads("@(context.Variables[name])").1);
    }

    #[test]
    fn indent_unit_is_read_from_the_file() {
        let doc =
            parse("<policies>\n\t<inbound>\n\t\t<base />\n\t</inbound>\n</policies>\n").unwrap();
        assert_eq!(indent_unit(&doc), "\t");
        let doc = parse("<policies>\n  <inbound />\n</policies>").unwrap();
        assert_eq!(indent_unit(&doc), "  ");
        let doc = parse("<policies><inbound /></policies>").unwrap();
        assert_eq!(indent_unit(&doc), "    ");
    }

    #[test]
    fn inserts_first_child_on_its_own_line_with_sibling_indent_and_crlf() {
        let src = "<policies>\r\n  <inbound>\r\n    <!-- c -->\r\n    <rate-limit />\r\n  </inbound>\r\n</policies>";
        let doc = parse(src).unwrap();
        let edit = insert_first_child(&doc, inbound(&doc), "<base />");
        assert_eq!(
            apply_edits(src, &[&edit]).unwrap(),
            "<policies>\r\n  <inbound>\r\n    <base />\r\n    <!-- c -->\r\n    <rate-limit />\r\n  </inbound>\r\n</policies>"
        );
    }

    #[test]
    fn opens_a_self_closing_section_only_to_insert() {
        let src = "<policies>\n    <inbound />\n</policies>\n";
        let doc = parse(src).unwrap();
        let edit = insert_first_child(&doc, inbound(&doc), "<base />");
        assert_eq!(
            apply_edits(src, &[&edit]).unwrap(),
            "<policies>\n    <inbound>\n        <base />\n    </inbound>\n</policies>\n"
        );
    }

    #[test]
    fn fills_an_empty_section() {
        let src = "<policies>\n\t<inbound>\n\t</inbound>\n\t<backend>\n\t\t<base />\n\t</backend>\n</policies>";
        let doc = parse(src).unwrap();
        let edit = insert_first_child(&doc, inbound(&doc), "<base />");
        assert!(
            apply_edits(src, &[&edit])
                .unwrap()
                .starts_with("<policies>\n\t<inbound>\n\t\t<base />\n\t</inbound>\n")
        );
    }

    #[test]
    fn inline_children_get_an_inline_insertion() {
        let src = "<policies><inbound><rate-limit /></inbound></policies>";
        let doc = parse(src).unwrap();
        let edit = insert_first_child(&doc, inbound(&doc), "<base />");
        assert_eq!(
            apply_edits(src, &[&edit]).unwrap(),
            "<policies><inbound><base /><rate-limit /></inbound></policies>"
        );
    }

    #[test]
    fn moves_whole_lines_with_the_comments_directly_above() {
        let src = "<policies>\n  <inbound>\n    <rate-limit calls=\"1\" />\n\n    <!-- allow the SPA -->\n    <cors>\n      <allowed-origins><origin>*</origin></allowed-origins>\n    </cors>\n    <base />\n  </inbound>\n</policies>\n";
        let doc = parse(src).unwrap();
        let inbound = inbound(&doc);
        let gate = inbound.child("rate-limit").unwrap();
        let cors = inbound.child("cors").unwrap();
        let (a, b) = move_before(&doc, cors, gate);
        assert_eq!(
            apply_edits(src, &[&a, &b]).unwrap(),
            "<policies>\n  <inbound>\n    <!-- allow the SPA -->\n    <cors>\n      <allowed-origins><origin>*</origin></allowed-origins>\n    </cors>\n    <rate-limit calls=\"1\" />\n\n    <base />\n  </inbound>\n</policies>\n"
        );
    }

    #[test]
    fn a_trailing_comment_moves_with_its_element() {
        // Review finding: the move left a blank line and split the comment from its element.
        let src = "<policies>\n  <inbound>\n    <rate-limit calls=\"1\" /> <!-- gate note -->\n    <cors>\n      <allowed-origins />\n    </cors> <!-- cors note -->\n  </inbound>\n</policies>\n";
        let doc = parse(src).unwrap();
        let inbound = inbound(&doc);
        let (a, b) = move_before(
            &doc,
            inbound.child("cors").unwrap(),
            inbound.child("rate-limit").unwrap(),
        );
        assert_eq!(
            apply_edits(src, &[&a, &b]).unwrap(),
            "<policies>\n  <inbound>\n    <cors>\n      <allowed-origins />\n    </cors> <!-- cors note -->\n    <rate-limit calls=\"1\" /> <!-- gate note -->\n  </inbound>\n</policies>\n"
        );
    }

    #[test]
    fn line_block_refuses_shared_lines() {
        let src = "<policies><inbound><a /><b /></inbound></policies>";
        let doc = parse(src).unwrap();
        assert_eq!(line_block(&doc, inbound(&doc).child("b").unwrap()), None);
    }
}

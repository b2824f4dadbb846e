//! Effective-policy composition: what runs, in order, for one chain.
//!
//! Composition starts at the chain's narrowest scope. Each statement of a section is kept,
//! except that `<base />` is replaced by the same section of the next broader scope (global's
//! `<base />` contributes nothing) and `<include-fragment>` by the fragment's children. A
//! `<base />` nested in a statement (`<choose>/<when>`) counts at its position: the parent's
//! statements follow the statement holding it, and the order of events the analysis sees
//! (gates, `<cors>`) is the document order with the parent spliced in at the `<base />`.
//! Nested `<include-fragment>`s stay inside their statement's text; their gates still count.
//!
//! Expansion recurses once per scope level, so its depth is bounded by the five levels of a
//! chain, never by the documents; elements are walked with iterators.
//!
//! Composition only: [`crate::report::effective`] renders an [`Effective`] as XML or JSON.

use std::path::PathBuf;

use super::Gates;
use super::{Chain, FileId, Level, Repo, RepoError};
use crate::layout::Scope;
use crate::syntax::{ElementRef, NodeId};
use crate::text::{Ranged, TextRange};

pub use crate::policy::Section;

/// One statement of an effective section, with where its text comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// The element name, e.g. `rate-limit`.
    pub name: String,
    /// The file the text is in, as loaded.
    pub path: PathBuf,
    /// The same, relative to the artifacts root with `/` separators.
    pub file: String,
    /// The scope of that file ([`Scope::Fragment`] for fragment statements).
    pub scope: Scope,
    /// 1-based line of the element's start.
    pub line: usize,
    pub range: TextRange,
    /// The element's source text, verbatim.
    pub source: String,
    /// The whitespace before the element on its first line, when only whitespace precedes
    /// it there: what the later lines of `source` are indented relative to.
    pub indent: Option<String>,
    /// The `fragment-id` that brought the statement in, if an `<include-fragment>` did.
    pub fragment: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EffectiveSection {
    pub section: Section,
    pub statements: Vec<Statement>,
}

/// The composed policy of one chain: four sections, each a list of statements.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Effective {
    pub chain: Chain,
    /// Always the four sections, in [`Section::ALL`] order.
    pub sections: Vec<EffectiveSection>,
}

impl Effective {
    /// The statements of `section`.
    pub fn section(&self, section: Section) -> &[Statement] {
        self.sections
            .iter()
            .find(|s| s.section == section)
            .map_or(&[], |s| s.statements.as_slice())
    }
}

/// An element of one of the repo's files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Loc {
    pub(crate) file: FileId,
    pub(crate) node: NodeId,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EventKind {
    /// A `<cors>` that is a direct child of the inbound section (or of an included fragment).
    Cors,
    /// A gate policy, at any depth.
    Gate,
}

/// A `<cors>` or a gate in the effective inbound, in run order.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Event {
    pub(crate) kind: EventKind,
    pub(crate) element: Loc,
    /// The `<include-fragment>` that brought the element, when it is a fragment's.
    pub(crate) include: Option<Loc>,
    /// The chain level (index into the levels) of the file holding the element or its
    /// `<include-fragment>`.
    pub(crate) level: usize,
}

impl Event {
    /// The element to change in the chain's own files: the `<include-fragment>` when a
    /// fragment brought the element.
    pub(crate) fn pointer(&self) -> Loc {
        self.include.unwrap_or(self.element)
    }

    /// The file holding [`Event::pointer`].
    pub(crate) fn home(&self) -> FileId {
        self.pointer().file
    }
}

struct Composer<'r> {
    repo: &'r Repo,
    levels: &'r [Level],
    gates: &'r Gates,
    section: Section,
    /// `None` when only the events are wanted: statements copy each element's text, and the
    /// analysis composes every chain.
    statements: Option<Vec<Statement>>,
    events: Vec<Event>,
    /// The events of `levels[1..]`, composed before (levels counted from there): chains
    /// differing only in their operation share them.
    parent_events: Option<&'r [Event]>,
    /// Each file's inbound events by [`FileId`], walked once for every chain through it.
    templates: Option<&'r [Template]>,
    /// When making a [`Template`]: where the parent level's events go, in place of them.
    parent_marks: Option<Vec<usize>>,
}

/// A file's own inbound events (at level 0), and where the broader levels' events are
/// spliced: what composing the file yields in any chain, since the workspace its fragments
/// resolve in is always the file's own.
#[derive(Debug, Default)]
pub(crate) struct Template {
    events: Vec<Event>,
    /// Indices into `events` before which the parent level's events go, in order.
    parents: Vec<usize>,
    /// Whether the inbound section holds a `<base />` at any depth.
    #[allow(dead_code)]
    pub(crate) has_base: bool,
}

impl Repo {
    /// The effective policy of `api` (`<workspace>/<api>` inside a workspace), optionally of
    /// one of its operations and through one product holding it. Without an operation the
    /// API's policy is the narrowest scope. Errors name what is known.
    pub fn effective(
        &self,
        api: &str,
        operation: Option<&str>,
        product: Option<&str>,
    ) -> Result<Effective, RepoError> {
        let chain = self.resolve_chain(api, operation, product)?;
        Ok(self.effective_for(&chain))
    }

    /// The effective policy of a chain from [`Repo::chains`].
    pub fn effective_for(&self, chain: &Chain) -> Effective {
        let levels = self.levels(chain);
        let gates = Gates::default();
        let sections = Section::ALL
            .into_iter()
            .map(|section| EffectiveSection {
                section,
                statements: self.compose(&levels, section, &gates),
            })
            .collect();
        Effective {
            chain: chain.clone(),
            sections,
        }
    }

    /// The statements of `section` composed over `levels`.
    pub(crate) fn compose(
        &self,
        levels: &[Level],
        section: Section,
        gates: &Gates,
    ) -> Vec<Statement> {
        let mut composer = Composer {
            repo: self,
            levels,
            gates,
            section,
            statements: Some(Vec::new()),
            events: Vec::new(),
            parent_events: None,
            templates: None,
            parent_marks: None,
        };
        composer.run();
        composer.statements.unwrap_or_default()
    }

    /// The events of the inbound section composed over `levels`, from the templates of
    /// [`Repo::inbound_templates`] (made with the same gates). `parent_events`, when given,
    /// are the events of `levels[1..]` as this function returned them.
    pub(crate) fn inbound_events(
        &self,
        levels: &[Level],
        templates: &[Template],
        parent_events: Option<&[Event]>,
    ) -> Vec<Event> {
        // The templates hold every event, so the gates are never asked.
        let gates = Gates::default();
        let mut composer = Composer {
            repo: self,
            levels,
            gates: &gates,
            section: Section::Inbound,
            statements: None,
            events: Vec::new(),
            parent_events,
            templates: Some(templates),
            parent_marks: None,
        };
        composer.run();
        composer.events
    }

    /// Every file's [`Template`], by [`FileId`].
    pub(crate) fn inbound_templates(&self, gates: &Gates) -> Vec<Template> {
        self.file_ids()
            .map(|id| {
                let file = self.file(id);
                let levels = [Level {
                    scope: file.scope,
                    file: Some(id),
                    workspace: file.workspace.clone(),
                }];
                let mut composer = Composer {
                    repo: self,
                    levels: &levels,
                    gates,
                    section: Section::Inbound,
                    statements: None,
                    events: Vec::new(),
                    parent_events: None,
                    templates: None,
                    parent_marks: Some(Vec::new()),
                };
                composer.run();
                let has_base = self
                    .section_of(id, Section::Inbound)
                    .is_some_and(|s| s.descendants().any(|d| d.is("base")));
                Template {
                    events: composer.events,
                    parents: composer.parent_marks.unwrap_or_default(),
                    has_base,
                }
            })
            .collect()
    }

    pub(crate) fn element(&self, loc: Loc) -> ElementRef<'_> {
        self.file(loc.file)
            .doc
            .element(loc.node)
            .expect("a Loc always names an element")
    }

    /// The 1-based line of `range`'s start in `file`.
    pub(crate) fn line_of(&self, file: FileId, range: TextRange) -> usize {
        let doc = &self.file(file).doc;
        doc.line_index()
            .line_column(doc.source(), range.start())
            .line
    }
}

impl Composer<'_> {
    fn run(&mut self) {
        if !self.levels.is_empty() {
            self.expand(0);
        }
    }

    /// Emits level `i`'s section, splicing broader levels at each `<base />`.
    fn expand(&mut self, i: usize) {
        // Copy the shared references out so the walk can borrow `self` mutably.
        let (repo, levels) = (self.repo, self.levels);
        let level = &levels[i];
        let Some(file) = level.file else {
            // The default policy: `<base />` in every section, nothing at global scope.
            if level.scope != Scope::Global {
                self.expand_parent(i);
            }
            return;
        };
        if let Some(templates) = self.templates {
            let template = &templates[file.0];
            let mut from = 0;
            for &to in &template.parents {
                self.push_template(&template.events[from..to], i);
                self.expand_parent(i);
                from = to;
            }
            self.push_template(&template.events[from..], i);
            return;
        }
        let Some(section) = repo.section_of(file, self.section) else {
            return;
        };
        for child in section.child_elements() {
            // Names are looked up once per element: every chain's walk compares each a few
            // times.
            let name = child.name();
            if name.eq_ignore_ascii_case("base") {
                self.expand_parent(i);
            } else if name.eq_ignore_ascii_case("include-fragment") {
                let include = Loc {
                    file,
                    node: child.id(),
                };
                match self.resolve(level, child) {
                    Some(fragment) => self.emit_fragment(i, fragment, include, child),
                    None => self.emit(i, file, child),
                }
            } else {
                self.emit(i, file, child);
            }
        }
    }

    fn push_template(&mut self, events: &[Event], i: usize) {
        self.events
            .extend(events.iter().map(|e| Event { level: i, ..*e }));
    }

    fn expand_parent(&mut self, i: usize) {
        if let Some(marks) = &mut self.parent_marks {
            marks.push(self.events.len());
            return;
        }
        if let (0, Some(parent)) = (i, self.parent_events) {
            self.events.extend(parent.iter().map(|e| Event {
                level: e.level + 1,
                ..*e
            }));
            return;
        }
        if i + 1 < self.levels.len() {
            self.expand(i + 1);
        }
    }

    fn resolve(&self, level: &Level, include: ElementRef<'_>) -> Option<FileId> {
        let id = include.attr("fragment-id")?;
        self.repo.fragment(level.workspace.as_deref(), id)
    }

    fn emit_fragment(
        &mut self,
        i: usize,
        fragment: FileId,
        include: Loc,
        include_el: ElementRef<'_>,
    ) {
        let id = include_el.attr("fragment-id").map(str::to_owned);
        let repo = self.repo;
        let root = repo.file(fragment).doc.root();
        for child in root.child_elements() {
            self.push_statement(fragment, child, || id.clone());
            self.events_of(i, fragment, child, Some(include));
        }
    }

    /// Emits a statement of level `i`'s file, then walks it for events and nested `<base />`.
    fn emit(&mut self, i: usize, file: FileId, element: ElementRef<'_>) {
        self.push_statement(file, element, || None);
        // A nested `<base />` splices the parent's statements, once per statement: several
        // of them sit in different branches of a `<choose>`, and only one branch runs.
        let mut expanded = false;
        if self.section != Section::Inbound {
            if element.descendants().any(|d| d.is("base")) {
                let parent = self.capture_parent(i);
                self.splice_in_place(element, parent);
            }
            return;
        }
        self.push_self_event(i, file, element, None);
        let mut captured = None;
        let (repo, levels) = (self.repo, self.levels);
        let level = &levels[i];
        for nested in element.descendants() {
            let name = nested.name();
            if name.eq_ignore_ascii_case("base") {
                if !expanded {
                    expanded = true;
                    captured = self.capture_parent(i);
                }
            } else if name.eq_ignore_ascii_case("include-fragment") {
                if let Some(fragment) = self.resolve(level, nested) {
                    let include = Loc {
                        file,
                        node: nested.id(),
                    };
                    let root = repo.file(fragment).doc.root();
                    for d in root.descendants() {
                        if self.gates.rejects(d) {
                            self.push(EventKind::Gate, fragment, d, Some(include), i);
                        }
                    }
                }
            } else if self.gates.rejects(nested) {
                self.push(EventKind::Gate, file, nested, None, i);
            }
        }
        self.splice_in_place(element, captured);
    }

    /// Expands the parent level at a nested `<base />`: its events go where they run, and
    /// its statements are returned (not appended) so that [`Composer::splice_in_place`] puts
    /// them inside the statement holding the `<base />`. `None` when only events are composed.
    fn capture_parent(&mut self, i: usize) -> Option<Vec<Statement>> {
        let saved = self.statements.as_mut().map(std::mem::take);
        self.expand_parent(i);
        match saved {
            Some(saved) => self.statements.replace(saved),
            None => None,
        }
    }

    /// Replaces each nested `<base />` in the text of the statement just emitted for
    /// `element` by the parent's statements: a `<base />` inside `<choose>` is expanded in
    /// place, in the branch that holds it.
    fn splice_in_place(&mut self, element: ElementRef<'_>, parent: Option<Vec<Statement>>) {
        let (Some(parent), Some(statements)) = (parent, self.statements.as_mut()) else {
            return;
        };
        let Some(last) = statements.last_mut() else {
            return;
        };
        let doc = element.document();
        let start = element.range().start();
        let eol = doc.line_ending().as_str();
        let mut bases: Vec<TextRange> = element
            .descendants()
            .filter(|d| d.is("base"))
            .map(|d| d.range())
            .collect();
        bases.sort_by_key(|r| std::cmp::Reverse(r.start()));
        let mut text = last.source.clone();
        for base in bases {
            let indent = if doc.starts_line(base.start()) {
                doc.indent_of_line(base.start())
            } else {
                ""
            };
            let inherited = parent
                .iter()
                .map(|p| p.source.as_str())
                .collect::<Vec<_>>()
                .join(&format!("{eol}{indent}"));
            let (from, to) = (base.start() - start, base.end() - start);
            if to <= text.len() {
                text.replace_range(from..to, &inherited);
            }
        }
        last.source = text;
    }

    /// Events of a fragment's top-level element: itself (a `<cors>` or gate) and nested gates.
    fn events_of(&mut self, i: usize, file: FileId, element: ElementRef<'_>, include: Option<Loc>) {
        if self.section != Section::Inbound {
            return;
        }
        self.push_self_event(i, file, element, include);
        for nested in element.descendants() {
            if self.gates.rejects(nested) {
                self.push(EventKind::Gate, file, nested, include, i);
            }
        }
    }

    fn push_self_event(
        &mut self,
        i: usize,
        file: FileId,
        element: ElementRef<'_>,
        include: Option<Loc>,
    ) {
        let name = element.name();
        if name.eq_ignore_ascii_case("cors") {
            self.push(EventKind::Cors, file, element, include, i);
        } else if self.gates.rejects(element) {
            self.push(EventKind::Gate, file, element, include, i);
        }
    }

    fn push(
        &mut self,
        kind: EventKind,
        file: FileId,
        element: ElementRef<'_>,
        include: Option<Loc>,
        level: usize,
    ) {
        self.events.push(Event {
            kind,
            element: Loc {
                file,
                node: element.id(),
            },
            include,
            level,
        });
    }

    fn push_statement(
        &mut self,
        file: FileId,
        element: ElementRef<'_>,
        fragment: impl FnOnce() -> Option<String>,
    ) {
        if self.statements.is_some() {
            let statement = self.statement(file, element, fragment());
            self.statements.get_or_insert_default().push(statement);
        }
    }

    fn statement(
        &self,
        file: FileId,
        element: ElementRef<'_>,
        fragment: Option<String>,
    ) -> Statement {
        let policy = self.repo.file(file);
        let range = element.range();
        Statement {
            name: element.name().to_owned(),
            path: policy.path.clone(),
            file: policy.rel.clone(),
            scope: policy.scope,
            line: self.repo.line_of(file, range),
            range,
            source: policy.doc.slice(range).to_owned(),
            indent: policy
                .doc
                .starts_line(range.start())
                .then(|| policy.doc.indent_of_line(range.start()).to_owned()),
            fragment,
        }
    }
}

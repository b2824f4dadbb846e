//! What the repo model tells the rules: per-file facts, and every chain's composed inbound
//! events, walked once. The rules (`crate::rules`) decide what the events mean; this module
//! knows no rule.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::{Arc, PoisonError};

use super::effective::{Event, Loc, Template};
use super::{Chain, FileId, Gates, Inherited, Level, Repo, RepoFacts, Section};
use crate::layout::Scope;
use crate::syntax::ElementRef;
use crate::syntax::RootKind;

/// What [`Repo::facts_for`] reports of the fragments one container sees.
#[derive(Debug, Default)]
pub(crate) struct FragmentSets {
    gate: BTreeSet<String>,
    cors: BTreeSet<String>,
}

/// [`FragmentSets`] per container, for the gate list of the last call.
#[derive(Debug, Default)]
pub(crate) struct FragmentSetsCache {
    gates: Option<Gates>,
    service: Option<Arc<FragmentSets>>,
    workspaces: HashMap<String, Arc<FragmentSets>>,
}

/// Where a fragment's `<cors>` is looked for: at its top, where APIM's choice between
/// `cors` policies looks, or anywhere (nested in `<choose>` too).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CorsDepth {
    Top,
    Anywhere,
}

/// One chain's composed inbound: its levels (narrowest first), its `<cors>` and gate events
/// in run order, and every file's inbound template (for `has_base`).
pub(crate) struct ChainEvents<'a> {
    pub(crate) chain: &'a Chain,
    pub(crate) levels: &'a [Level],
    pub(crate) events: &'a [Event],
    pub(crate) templates: &'a [Template],
}

impl Repo {
    /// What the repo tells the per-file rules about the policy file at `path`. Empty when the
    /// file is not one of the repo's parsed policy files.
    pub fn facts_for(&self, path: &Path, gates: &Gates) -> RepoFacts {
        let Some(id) = self.file_id(path) else {
            return RepoFacts::default();
        };
        let workspace = self.file(id).workspace.as_deref();
        let sets = self.fragment_sets(workspace, gates);
        // With no global policy file, the service policy may live outside the repo: unless a
        // broader file shows a `<cors>`, the answer is unknown (and `global-has-cors` decides).
        let no_global = self.service.policy.is_none() && self.file(id).scope != Scope::Global;
        let ancestor_has_cors = self.broader_files(id).and_then(|files| {
            let found = files.iter().any(|f| self.inbound_cors(*f).is_some());
            (found || !no_global).then_some(found)
        });
        RepoFacts {
            ancestor_has_cors,
            repo_has_cors: (!self.incomplete).then(|| self.repo_has_cors()),
            gate_fragments: sets.gate.clone(),
            cors_fragments: sets.cors.clone(),
            inherited: self.inherited(id),
            named_values: self.resolvable_named_values(),
            environment: self.environment().map(str::to_owned),
        }
    }

    /// What the parent scopes run in each section of the file `id`, over every chain through
    /// it (see [`RepoFacts::inherited`]).
    fn inherited(&self, id: FileId) -> Option<Vec<(Section, Vec<Inherited>)>> {
        if self.incomplete {
            return None;
        }
        let file = self.file(id);
        if !file.scope.has_parent() || file.doc.root_kind() != RootKind::Policies {
            return None;
        }
        // Only a section that lacks a `<base />` first (or is missing) needs it.
        let root = file.doc.root();
        let needed = Section::ALL.into_iter().any(|section| {
            root.child(section.tag()).is_none_or(|el| {
                el.child_elements()
                    .next()
                    .is_none_or(|first| !first.is("base"))
            })
        });
        if !needed {
            return None;
        }
        let mut parents: Vec<Vec<Level>> = Vec::new();
        for chain in self.chains() {
            let levels = self.levels(&chain);
            let Some(at) = levels.iter().position(|l| l.file == Some(id)) else {
                continue;
            };
            let parent = levels[at + 1..].to_vec();
            let same = |p: &Vec<Level>| {
                p.len() == parent.len()
                    && p.iter()
                        .zip(&parent)
                        .all(|(a, b)| a.file == b.file && a.scope == b.scope)
            };
            if !parents.iter().any(same) {
                parents.push(parent);
            }
        }
        if parents.is_empty() {
            return None;
        }
        let gates = Gates::default();
        let mut out = Vec::new();
        for section in Section::ALL {
            let mut found: Vec<Inherited> = Vec::new();
            for parent in &parents {
                for statement in self.compose(parent, section, &gates) {
                    if found.iter().any(|f| {
                        f.file == statement.file
                            && f.line == statement.line
                            && f.name == statement.name
                    }) {
                        continue;
                    }
                    let (nested, sets) = crate::syntax::parse(&statement.source)
                        .map(|doc| {
                            let nested = doc
                                .root()
                                .descendants()
                                .map(|d| d.name().to_ascii_lowercase())
                                .collect();
                            (nested, crate::policy::variables_set(doc.root()))
                        })
                        .unwrap_or_default();
                    let (reads, reads_unknown) = crate::policy::variable_reads(&statement.source);
                    found.push(Inherited {
                        name: statement.name,
                        file: statement.file,
                        line: statement.line,
                        nested,
                        reads,
                        reads_unknown,
                        sets,
                    });
                }
            }
            out.push((section, found));
        }
        Some(out)
    }

    /// The `fragment-id`s visible from `workspace` that hold a gate, and those that hold a
    /// `<cors>` at the top, computed once per container and gate list.
    fn fragment_sets(&self, workspace: Option<&str>, gates: &Gates) -> Arc<FragmentSets> {
        let mut cache = self
            .fragment_sets
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if cache.gates.as_ref() != Some(gates) {
            *cache = FragmentSetsCache {
                gates: Some(gates.clone()),
                ..FragmentSetsCache::default()
            };
        }
        let known = match workspace {
            Some(ws) => cache.workspaces.get(ws),
            None => cache.service.as_ref(),
        };
        if let Some(sets) = known {
            return Arc::clone(sets);
        }
        let mut sets = FragmentSets::default();
        for (name, fragment) in self.visible_fragments(workspace) {
            let root = self.file(fragment).doc.root();
            if root.descendants().any(|d| gates.rejects(d)) {
                sets.gate.insert(name.to_owned());
            }
            if root.child_elements().any(|c| c.is("cors")) {
                sets.cors.insert(name.to_owned());
            }
        }
        let sets = Arc::new(sets);
        match workspace {
            Some(ws) => cache.workspaces.insert(ws.to_owned(), Arc::clone(&sets)),
            None => cache.service.replace(Arc::clone(&sets)),
        };
        sets
    }

    /// Composes every chain's inbound events, with `gates` deciding which elements are gates,
    /// and hands each chain to `visit`. Chains come grouped by (API, product), operations
    /// last: the broader levels of a group's operation chains are the same, so their events
    /// are composed once.
    pub(crate) fn walk_inbound_chains(
        &self,
        gates: &Gates,
        mut visit: impl FnMut(&ChainEvents<'_>),
    ) {
        let mut parent: Option<(Chain, Vec<Event>)> = None;
        let templates = self.inbound_templates(gates);
        for chain in self.chains() {
            let levels = self.levels(&chain);
            let events = if chain.operation.is_some() {
                let shared = parent.as_ref().is_some_and(|(c, _)| {
                    c.workspace == chain.workspace
                        && c.api == chain.api
                        && c.product == chain.product
                });
                if !shared {
                    let events = self.inbound_events(&levels[1..], &templates, None);
                    let key = Chain {
                        operation: None,
                        ..chain.clone()
                    };
                    parent = Some((key, events));
                }
                let parent_events = parent.as_ref().map(|(_, e)| e.as_slice());
                self.inbound_events(&levels, &templates, parent_events)
            } else {
                self.inbound_events(&levels, &templates, None)
            };
            visit(&ChainEvents {
                chain: &chain,
                levels: &levels,
                events: &events,
                templates: &templates,
            });
        }
    }

    /// The first `<cors>` a policy file's inbound holds directly or by an included fragment:
    /// the element, or the `<include-fragment>` bringing it.
    pub(crate) fn inbound_cors(&self, file: FileId) -> Option<Loc> {
        let all = self
            .inbound_cors
            .get_or_init(|| self.file_ids().map(|f| self.find_inbound_cors(f)).collect());
        all[file.0]
    }

    /// The fragment that `include`, an `<include-fragment>` of `file`, names, when the repo
    /// holds it (resolved in the file's workspace first).
    pub(crate) fn included(&self, file: FileId, include: ElementRef<'_>) -> Option<FileId> {
        if !include.is("include-fragment") {
            return None;
        }
        let workspace = self.file(file).workspace.as_deref();
        include
            .attr("fragment-id")
            .and_then(|id| self.fragment(workspace, id))
    }

    /// Whether `el`, an element of `file`, is an `<include-fragment>` whose fragment holds a
    /// `<cors>` at `depth`.
    pub(crate) fn brings_cors(&self, file: FileId, el: ElementRef<'_>, depth: CorsDepth) -> bool {
        self.included(file, el).is_some_and(|fragment| {
            let root = self.file(fragment).doc.root();
            match depth {
                CorsDepth::Top => root.child_elements().any(|c| c.is("cors")),
                CorsDepth::Anywhere => root.descendants().any(|d| d.is("cors")),
            }
        })
    }

    fn find_inbound_cors(&self, file: FileId) -> Option<Loc> {
        let inbound = self.section_of(file, Section::Inbound)?;
        inbound.child_elements().find_map(|child| {
            let holds = child.is("cors") || self.brings_cors(file, child, CorsDepth::Top);
            holds.then_some(Loc {
                file,
                node: child.id(),
            })
        })
    }

    /// Whether any non-fragment policy holds a `<cors>` anywhere, or includes a fragment that
    /// does: deliberately broad, since it decides whether a new global `<cors>` is created.
    pub(crate) fn repo_has_cors(&self) -> bool {
        *self.has_cors.get_or_init(|| self.scan_repo_for_cors())
    }

    fn scan_repo_for_cors(&self) -> bool {
        self.file_ids()
            .filter(|f| self.file(*f).scope != Scope::Fragment)
            .any(|f| {
                self.file(f)
                    .doc
                    .root()
                    .descendants()
                    .any(|d| d.is("cors") || self.brings_cors(f, d, CorsDepth::Anywhere))
            })
    }

    /// `what`, followed by "of fragment `f`" when a fragment brought the element.
    pub(crate) fn brought(&self, event: &Event, what: &str) -> String {
        match event.include {
            Some(include) => {
                let id = self
                    .element(include)
                    .attr("fragment-id")
                    .unwrap_or_default();
                format!("{what} of fragment `{id}`")
            }
            None => what.to_owned(),
        }
    }

    /// "global scope (policy.xml:13)": the element's file and where it starts.
    pub(crate) fn describe(&self, loc: Loc) -> String {
        let file = self.file(loc.file);
        let line = self.line_of(loc.file, self.element(loc).start_tag());
        format!("{} ({}:{line})", file.label(), file.rel)
    }
}

//! Cross-scope analysis: the facts per-file rules need, and the findings only the composed
//! chains show.
//!
//! Every chain's effective inbound is walked; a problem found in several chains is reported
//! once per root cause, keyed by (rule, file, range), and its message names the chains. A
//! finding points at the element to change, by its start tag, and carries no fix: the
//! per-file rules own the fixes.
//!
//! Decisions where the brief or APIM's documentation is silent:
//!
//! - A `<cors>` counts when it is a direct child of `<inbound>` or of a fragment included
//!   there: APIM's fallback between `cors` policies only looks at those. Gates count at any
//!   depth (a `rate-limit` inside `<choose>` still rejects calls).
//! - `base-missing` is reported only for chains whose effective inbound has no `<cors>` left:
//!   a narrower `<cors>` that replaces the inherited one is usually why `<base />` was removed.
//! - For a gate before the first `<cors>`: same file, `cors-first` at the gate (or at the
//!   `<include-fragment>` bringing it); gate in a narrower file than the `<cors>`,
//!   `base-first` at the gate; gate in a broader file, `base-first` at the `<cors>`, since
//!   that file's `<cors>` must move above its `<base />`.
//! - A later `<cors>` is shadowed only by an earlier one from another file that terminates
//!   unmatched requests (`terminate-unmatched-request` not `false`); two in one file are
//!   `cors-duplicate`'s business.
//! - `cors-origins` skips a `<cors>` allowing `*` and one whose origins use named values or
//!   expressions. When no `<cors>` runs anywhere, it points at the global policy's `<inbound>`,
//!   or without a global policy file at the first API policy file's `<inbound>` (by path), the
//!   narrowest file every chain of that API runs.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError};

use super::effective::{Event, EventKind, Loc, Template};
use super::{Chain, FileId, Level, Repo, Section, origin};
use crate::config::{CorsOriginsOptions, GateOptions};
use crate::diagnostic::Diagnostic;
use crate::rules::{RepoFacts, Rule};
use crate::scope::Scope;
use crate::syntax::ElementRef;
use crate::text::TextRange;

/// What [`Repo::facts_for`] reports of the fragments one container sees.
#[derive(Debug, Default)]
pub(crate) struct FragmentSets {
    gate: BTreeSet<String>,
    cors: BTreeSet<String>,
}

/// [`FragmentSets`] per container, for the gate list of the last call.
#[derive(Debug, Default)]
pub(crate) struct FragmentSetsCache {
    gates: Option<GateOptions>,
    service: Option<Arc<FragmentSets>>,
    workspaces: HashMap<String, Arc<FragmentSets>>,
}

/// A cross-scope finding in one file of the repo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepoFinding {
    /// The file, as loaded or handed over.
    pub path: PathBuf,
    pub diagnostic: Diagnostic,
}

/// How many chains a message names before "and N more".
const CHAINS_SHOWN: usize = 3;

impl Repo {
    /// What the repo tells the per-file rules about the policy file at `path`. Empty when the
    /// file is not one of the repo's parsed policy files.
    pub fn facts_for(&self, path: &Path, gates: &GateOptions) -> RepoFacts {
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
            repo_has_cors: Some(self.repo_has_cors()),
            gate_fragments: sets.gate.clone(),
            cors_fragments: sets.cors.clone(),
        }
    }

    /// The `fragment-id`s visible from `workspace` that hold a gate, and those that hold a
    /// `<cors>` at the top, computed once per container and gate list.
    fn fragment_sets(&self, workspace: Option<&str>, gates: &GateOptions) -> Arc<FragmentSets> {
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
            if root.descendants().any(|d| gates.is_gate(d.name())) {
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

    /// The cross-scope findings of the whole repo, sorted by file and position.
    pub fn findings(&self, gates: &GateOptions, origins: &CorsOriginsOptions) -> Vec<RepoFinding> {
        let declared: Vec<&str> = origins
            .origins
            .iter()
            .map(|o| o.trim())
            .filter(|o| !o.is_empty() && *o != "*")
            .collect();
        let mut out = Findings::default();
        let mut cors_runs = false;
        // Where each chain's winning `<cors>` stands: one that wins in any chain applies, so
        // it is not `cors-shadowed` even where another chain's `<cors>` beats it.
        let mut applies: BTreeSet<(FileId, usize)> = BTreeSet::new();
        // Chains come grouped by (API, product), operations last: the broader levels of a
        // group's operation chains are the same, so their events are composed once.
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
            let Some(first) = events.iter().position(|e| e.kind == EventKind::Cors) else {
                self.lost_cors(&chain, &levels, &templates, &mut out);
                continue;
            };
            let winner = &events[first];
            applies.insert((
                winner.home(),
                self.element(winner.pointer()).start_tag().start(),
            ));
            cors_runs = true;
            self.gates_before_cors(&chain, &events, first, &mut out);
            self.shadowed_cors(&chain, &events, first, &mut out);
            self.missing_origins(&chain, &events[first], &declared, &mut out);
        }
        out.found.retain(|&(file, start, _, rule), _| {
            rule != Rule::CorsShadowed || !applies.contains(&(file, start))
        });
        // A `<cors>` anywhere (nested in `<choose>` too) means the repo has one: then the
        // declared origins are the business of that `<cors>`, not of a new one.
        if !cors_runs && !declared.is_empty() && !self.repo_has_cors() {
            self.no_cors_anywhere(&declared, &mut out);
        }
        self.product_cors(&mut out);
        out.finish(self)
    }

    /// The first `<cors>` a policy file's inbound holds directly or by an included fragment:
    /// the element, or the `<include-fragment>` bringing it.
    pub(crate) fn inbound_cors(&self, file: FileId) -> Option<Loc> {
        let all = self
            .inbound_cors
            .get_or_init(|| self.file_ids().map(|f| self.find_inbound_cors(f)).collect());
        all[file.0]
    }

    fn find_inbound_cors(&self, file: FileId) -> Option<Loc> {
        let inbound = self.section_of(file, Section::Inbound)?;
        let workspace = self.file(file).workspace.as_deref();
        inbound.child_elements().find_map(|child| {
            let holds = child.is("cors")
                || child.is("include-fragment")
                    && child
                        .attr("fragment-id")
                        .and_then(|id| self.fragment(workspace, id))
                        .is_some_and(|f| {
                            self.file(f)
                                .doc
                                .root()
                                .child_elements()
                                .any(|c| c.is("cors"))
                        });
            holds.then_some(Loc {
                file,
                node: child.id(),
            })
        })
    }

    /// Whether any non-fragment policy holds a `<cors>` anywhere, or includes a fragment that
    /// does: deliberately broad, since it decides whether a new global `<cors>` is created.
    fn repo_has_cors(&self) -> bool {
        *self.has_cors.get_or_init(|| self.scan_repo_for_cors())
    }

    fn scan_repo_for_cors(&self) -> bool {
        self.file_ids()
            .filter(|f| self.file(*f).scope != Scope::Fragment)
            .any(|f| {
                let workspace = self.file(f).workspace.as_deref();
                self.file(f).doc.root().descendants().any(|d| {
                    let name = d.name();
                    name.eq_ignore_ascii_case("cors")
                        || name.eq_ignore_ascii_case("include-fragment")
                            && d.attr("fragment-id")
                                .and_then(|id| self.fragment(workspace, id))
                                .is_some_and(|frag| {
                                    self.file(frag)
                                        .doc
                                        .root()
                                        .descendants()
                                        .any(|e| e.is("cors"))
                                })
                })
            })
    }

    /// `base-missing`: a chain with no `<cors>` left, where a broader scope has one that a
    /// section without `<base />` drops.
    fn lost_cors(
        &self,
        chain: &Chain,
        levels: &[Level],
        templates: &[Template],
        out: &mut Findings,
    ) {
        for (i, level) in levels.iter().enumerate() {
            let Some(file) = level.file else { continue };
            if level.scope == Scope::Global || templates[file.0].has_base {
                continue;
            }
            let inbound = self.section_of(file, Section::Inbound);
            let lost = levels[i + 1..]
                .iter()
                .filter_map(|l| l.file)
                .find_map(|f| self.inbound_cors(f));
            let Some(cors) = lost else { continue };
            let (at, what) = match inbound {
                Some(section) => (
                    section.start_tag(),
                    "`<inbound>` has no `<base />`".to_owned(),
                ),
                None => {
                    let root = self.file(file).doc.root();
                    (
                        root.start_tag(),
                        format!("`<{}>` has no `<inbound>`", root.name()),
                    )
                }
            };
            let message = format!(
                "{what}, so the `<cors>` of {} never runs",
                self.describe(cors)
            );
            out.add(Rule::BaseMissing, file, at, message, chain);
        }
    }

    /// `cors-first` and `base-first`: gates that run before the first `<cors>`.
    fn gates_before_cors(&self, chain: &Chain, events: &[Event], first: usize, out: &mut Findings) {
        let cors = &events[first];
        for gate in events[..first].iter().filter(|e| e.kind == EventKind::Gate) {
            let gate_name = self.element(gate.element).name();
            let brought = self.brought(gate, &format!("`<{gate_name}>`"));
            if gate.element.file == cors.element.file {
                let line = self.line_of(cors.element.file, self.element(cors.element).start_tag());
                let message = format!(
                    "`<{gate_name}>` runs before `<cors>` (line {line}), so calls it rejects get no CORS headers"
                );
                let at = self.element(gate.element).start_tag();
                out.add(Rule::CorsFirst, gate.element.file, at, message, chain);
            } else if gate.home() == cors.home() {
                let line = self.line_of(cors.home(), self.element(cors.pointer()).start_tag());
                let message = format!(
                    "{brought} runs before `<cors>` (line {line}), so calls it rejects get no CORS headers"
                );
                let at = self.element(gate.pointer()).start_tag();
                out.add(Rule::CorsFirst, gate.home(), at, message, chain);
            } else if gate.level < cors.level {
                let message = format!(
                    "{brought} in {} runs before the `<cors>` of {} that `<base />` brings in, so calls it rejects get no CORS headers",
                    self.file(gate.home()).label(),
                    self.describe(cors.pointer()),
                );
                let at = self.element(gate.pointer()).start_tag();
                out.add(Rule::BaseFirst, gate.home(), at, message, chain);
            } else {
                let message = format!(
                    "`<cors>` runs after `<{gate_name}>` of {}, which `<base />` brings in first, so calls it rejects get no CORS headers",
                    self.describe(gate.pointer()),
                );
                let at = self.element(cors.pointer()).start_tag();
                out.add(Rule::BaseFirst, cors.home(), at, message, chain);
            }
        }
    }

    /// `cors-shadowed`: a later `<cors>` that an earlier one from another file always beats.
    fn shadowed_cors(&self, chain: &Chain, events: &[Event], first: usize, out: &mut Findings) {
        let cors: Vec<&Event> = events[first..]
            .iter()
            .filter(|e| e.kind == EventKind::Cors)
            .collect();
        for (k, later) in cors.iter().enumerate().skip(1) {
            let winner = cors[..k].iter().find(|earlier| {
                earlier.element != later.element
                    && earlier.element.file != later.element.file
                    && terminates(self.element(earlier.element))
            });
            let Some(winner) = winner else { continue };
            let message = format!(
                "`<cors>` never applies: the `<cors>` of {} runs first",
                self.describe(winner.pointer())
            );
            let at = self.element(later.pointer()).start_tag();
            out.add(Rule::CorsShadowed, later.home(), at, message, chain);
        }
    }

    /// `cors-origins`: declared origins that the chain's first `<cors>` does not allow.
    fn missing_origins(&self, chain: &Chain, cors: &Event, declared: &[&str], out: &mut Findings) {
        if declared.is_empty() {
            return;
        }
        let element = self.element(cors.element);
        let doc = element.document();
        let allowed: Vec<String> = element
            .child("allowed-origins")
            .into_iter()
            .flat_map(|a| a.child_elements().filter(|o| o.is("origin")))
            .map(|o| doc.slice(o.inner_range()).trim().to_owned())
            .collect();
        if allowed.iter().any(|o| o == "*" || !origin::is_literal(o)) {
            return;
        }
        let allowed: BTreeSet<String> = allowed.iter().map(|o| origin::normalize(o)).collect();
        let missing: Vec<&str> = declared
            .iter()
            .copied()
            .filter(|o| !allowed.contains(&origin::normalize(o)))
            .collect();
        if missing.is_empty() {
            return;
        }
        let message = format!("`<cors>` does not allow declared {}", origin_list(&missing));
        out.add(
            Rule::CorsOrigins,
            cors.element.file,
            element.start_tag(),
            message,
            chain,
        );
    }

    /// `cors-origins` when no `<cors>` exists in any inbound at all.
    fn no_cors_anywhere(&self, declared: &[&str], out: &mut Findings) {
        let global = self.service.policy;
        let first_api = || {
            self.file_ids()
                .filter(|f| self.file(*f).scope == Scope::Api)
                .min_by(|a, b| self.file(*a).rel.cmp(&self.file(*b).rel))
        };
        let Some(file) = global.or_else(first_api) else {
            return;
        };
        let at = self
            .section_of(file, Section::Inbound)
            .map_or_else(|| self.file(file).doc.root().start_tag(), |s| s.start_tag());
        let message = format!(
            "no `<cors>` runs in any chain, so declared {} {} no CORS headers",
            origin_list(declared),
            if declared.len() == 1 { "gets" } else { "get" }
        );
        out.add_unchained(Rule::CorsOrigins, file, at, message);
    }

    /// `cors-product-scope`: a `<cors>` in a product policy, or a fragment bringing one.
    fn product_cors(&self, out: &mut Findings) {
        for file in self.file_ids() {
            let policy = self.file(file);
            if policy.scope != Scope::Product {
                continue;
            }
            let workspace = policy.workspace.as_deref();
            for element in policy.doc.root().descendants() {
                let brings_cors = element.is("include-fragment")
                    && element
                        .attr("fragment-id")
                        .and_then(|id| self.fragment(workspace, id))
                        .is_some_and(|f| {
                            self.file(f).doc.root().descendants().any(|d| d.is("cors"))
                        });
                let message = if element.is("cors") {
                    "`<cors>` at product scope does not answer preflight requests: they carry no subscription key, so APIM runs no product policy for them"
                } else if brings_cors {
                    "`<include-fragment>` brings a `<cors>` to product scope, which does not answer preflight requests: they carry no subscription key, so APIM runs no product policy for them"
                } else {
                    continue;
                };
                out.add_unchained(
                    Rule::CorsProductScope,
                    file,
                    element.start_tag(),
                    message.to_owned(),
                );
            }
        }
    }

    /// `what`, followed by "of fragment `f`" when a fragment brought the element.
    fn brought(&self, event: &Event, what: &str) -> String {
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
    fn describe(&self, loc: Loc) -> String {
        let file = self.file(loc.file);
        let line = self.line_of(loc.file, self.element(loc).start_tag());
        format!("{} ({}:{line})", file.label(), file.rel)
    }
}

/// Whether an earlier `<cors>` stops the search for others: only an explicit
/// `terminate-unmatched-request="false"` lets APIM fall through to the next `<cors>`.
fn terminates(cors: ElementRef<'_>) -> bool {
    !cors
        .attr("terminate-unmatched-request")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("false"))
}

/// "origin `a`" or "origins `a`, `b`".
fn origin_list(origins: &[&str]) -> String {
    let quoted: Vec<String> = origins.iter().map(|o| format!("`{o}`")).collect();
    let noun = if origins.len() == 1 {
        "origin"
    } else {
        "origins"
    };
    format!("{noun} {}", quoted.join(", "))
}

/// A finding being collected: its messages, each with the chains it was seen in. One root
/// cause can read differently per chain (another `<cors>` wins in a product's chain), so the
/// chains are grouped by message.
struct Pending {
    rule: Rule,
    file: FileId,
    range: TextRange,
    messages: Vec<(String, Vec<String>)>,
}

/// Findings deduplicated by (rule, file, range), in file and position order.
#[derive(Default)]
struct Findings {
    found: BTreeMap<(FileId, usize, usize, Rule), Pending>,
}

impl Findings {
    fn add(&mut self, rule: Rule, file: FileId, range: TextRange, message: String, chain: &Chain) {
        let chains = self.entry(rule, file, range, message);
        let label = chain.to_string();
        if !chains.contains(&label) {
            chains.push(label);
        }
    }

    fn add_unchained(&mut self, rule: Rule, file: FileId, range: TextRange, message: String) {
        self.entry(rule, file, range, message);
    }

    /// The chains already noted for this finding and message.
    fn entry(
        &mut self,
        rule: Rule,
        file: FileId,
        range: TextRange,
        message: String,
    ) -> &mut Vec<String> {
        let pending = self
            .found
            .entry((file, range.start(), range.end(), rule))
            .or_insert(Pending {
                rule,
                file,
                range,
                messages: Vec::new(),
            });
        let at = match pending.messages.iter().position(|(m, _)| *m == message) {
            Some(at) => at,
            None => {
                pending.messages.push((message, Vec::new()));
                pending.messages.len() - 1
            }
        };
        &mut pending.messages[at].1
    }

    fn finish(self, repo: &Repo) -> Vec<RepoFinding> {
        let mut findings: Vec<(String, RepoFinding)> = self
            .found
            .into_values()
            .map(|p| {
                let parts: Vec<String> = p
                    .messages
                    .into_iter()
                    .map(|(message, chains)| {
                        if chains.is_empty() {
                            message
                        } else {
                            format!("{message} (in {})", chain_list(&chains))
                        }
                    })
                    .collect();
                let file = repo.file(p.file);
                let finding = RepoFinding {
                    path: file.path.clone(),
                    diagnostic: Diagnostic::new(p.rule, p.range, parts.join("; ")),
                };
                (file.rel.clone(), finding)
            })
            .collect();
        findings.sort_by(|(a, fa), (b, fb)| {
            (a, fa.diagnostic.range.start(), fa.diagnostic.rule).cmp(&(
                b,
                fb.diagnostic.range.start(),
                fb.diagnostic.rule,
            ))
        });
        findings.into_iter().map(|(_, f)| f).collect()
    }
}

/// "a, b, c and 2 more".
fn chain_list(chains: &[String]) -> String {
    let shown = chains[..chains.len().min(CHAINS_SHOWN)].join(", ");
    match chains.len().saturating_sub(CHAINS_SHOWN) {
        0 => shown,
        more => format!("{shown} and {more} more"),
    }
}

//! Cross-scope checking: what only the composed chains of a whole repo show.
//!
//! The repo model composes every chain's effective inbound once ([`Repo::walk_inbound_chains`]);
//! [`check_repo`] hands each chain to the enabled rules' `check_chain`, then the whole repo to
//! their `check_repo`. A rule's cross-scope check reports only what its per-file check cannot
//! see (each rule module says which cases those are), so every root cause is reported once,
//! by one check, with no de-duplication afterwards. A problem found in several chains is one
//! finding, keyed by (rule, file, range), whose message names the chains. A cross-scope
//! finding points at the element to change, by its start tag, and carries no fix.
//!
//! Decisions where the brief or APIM's documentation is silent:
//!
//! - A `<cors>` counts when it is a direct child of `<inbound>` or of a fragment included
//!   there: APIM's fallback between `cors` policies only looks at those. Gates count at any
//!   depth (a `rate-limit` inside `<choose>` still rejects calls).
//! - A later `<cors>` is shadowed only by an earlier one from another file that terminates
//!   unmatched requests (`terminate-unmatched-request` not `false`); two in one file are
//!   `cors-duplicate`'s business. A `<cors>` that wins in any chain applies, so it is not
//!   shadowed even where another chain's `<cors>` beats it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::diagnostic::Diagnostic;
use crate::repo::{Chain, ChainEvents, Event, EventKind, FileId, Level, Loc, Repo, Template};
use crate::rules::{Rule, RuleSettings};
use crate::syntax::ElementRef;
use crate::text::TextRange;

/// A cross-scope finding in one file of the repo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepoFinding {
    /// The file, as loaded or handed over.
    pub path: PathBuf,
    pub diagnostic: Diagnostic,
}

/// How many chains a message names before "and N more".
const CHAINS_SHOWN: usize = 3;

/// The cross-scope findings of the whole repo under `settings`, sorted by file and position.
pub fn check_repo(repo: &Repo, settings: &RuleSettings) -> Vec<RepoFinding> {
    let gates = settings.cors_first.options().gates();
    let mut out = RepoFindings::default();
    let mut cors_runs = false;
    // Where each chain's winning `<cors>` stands, for `cors-shadowed`.
    let mut applies: BTreeSet<(FileId, usize)> = BTreeSet::new();
    repo.walk_inbound_chains(&gates, |walked| {
        let first_cors = walked.events.iter().position(|e| e.kind == EventKind::Cors);
        if let Some(first) = first_cors {
            let winner = &walked.events[first];
            applies.insert((
                winner.home(),
                repo.element(winner.pointer()).start_tag().start(),
            ));
            cors_runs = true;
        }
        let chain = ChainCheck {
            repo,
            walked,
            first_cors,
        };
        super::check_chain_enabled(settings, &chain, &mut out);
    });
    out.found.retain(|&(file, start, _, rule), _| {
        rule != Rule::CorsShadowed || !applies.contains(&(file, start))
    });
    let whole = RepoCheck {
        repo,
        cors_runs,
        settings,
    };
    super::check_repo_enabled(settings, &whole, &mut out);
    out.finish(repo)
}

/// One composed chain, as a rule's `check_chain` sees it.
pub struct ChainCheck<'a> {
    pub(crate) repo: &'a Repo,
    walked: &'a ChainEvents<'a>,
    /// The index of the first (winning) `<cors>` event, when any runs.
    pub(crate) first_cors: Option<usize>,
}

impl<'a> ChainCheck<'a> {
    pub(crate) fn chain(&self) -> &'a Chain {
        self.walked.chain
    }

    /// The chain's levels, narrowest first.
    pub(crate) fn levels(&self) -> &'a [Level] {
        self.walked.levels
    }

    /// The `<cors>` and gate events of the effective inbound, in run order.
    pub(crate) fn events(&self) -> &'a [Event] {
        self.walked.events
    }

    /// Every file's inbound template, by file. No rule reads it since `base-missing` reports
    /// missing sections per file (issue #12); kept for cross-scope checks that need it.
    #[allow(dead_code)]
    pub(crate) fn template(&self, file: FileId) -> &'a Template {
        &self.walked.templates[file.index()]
    }

    pub(crate) fn element(&self, loc: Loc) -> ElementRef<'a> {
        self.repo.element(loc)
    }

    /// Notes a finding of this chain.
    pub(crate) fn report(
        &self,
        out: &mut RepoFindings,
        rule: Rule,
        file: FileId,
        at: TextRange,
        message: String,
    ) {
        out.add(rule, file, at, message, self.chain());
    }
}

/// The whole repo after every chain, as a rule's `check_repo` sees it.
pub struct RepoCheck<'a> {
    pub(crate) repo: &'a Repo,
    /// Whether a `<cors>` runs in any chain.
    pub(crate) cors_runs: bool,
    pub(crate) settings: &'a RuleSettings,
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

/// Cross-scope findings, one per (rule, file, range), in file and position order.
#[derive(Default)]
pub struct RepoFindings {
    found: BTreeMap<(FileId, usize, usize, Rule), Pending>,
}

impl RepoFindings {
    fn add(&mut self, rule: Rule, file: FileId, range: TextRange, message: String, chain: &Chain) {
        let chains = self.entry(rule, file, range, message);
        let label = chain.to_string();
        if !chains.contains(&label) {
            chains.push(label);
        }
    }

    /// Notes a finding that is not about particular chains.
    pub(crate) fn add_unchained(
        &mut self,
        rule: Rule,
        file: FileId,
        range: TextRange,
        message: String,
    ) {
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

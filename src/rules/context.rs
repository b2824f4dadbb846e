//! What a rule sees: one document, its scope, the rule settings and the repo facts.

use crate::layout::Scope;
use crate::repo::{Gates, RepoFacts};
use crate::rules::RuleSettings;
use crate::syntax::{Document, ElementRef, RootKind};

pub struct Context<'a> {
    pub doc: &'a Document,
    pub scope: Scope,
    pub settings: &'a RuleSettings,
    pub facts: &'a RepoFacts,
    /// `cors-first`'s gate list, made once: rules ask it of every element they look at.
    gates: Gates,
}

impl<'a> Context<'a> {
    pub fn new(
        doc: &'a Document,
        scope: Scope,
        settings: &'a RuleSettings,
        facts: &'a RepoFacts,
    ) -> Self {
        Self {
            doc,
            scope,
            settings,
            facts,
            gates: settings.cors_first.options().gates(),
        }
    }

    /// The scope, corrected by the root: a `<fragment>` is a fragment wherever it lies.
    pub fn effective_scope(&self) -> Scope {
        match self.doc.root_kind() {
            RootKind::Fragment => Scope::Fragment,
            RootKind::Policies if self.scope == Scope::Fragment => Scope::Unknown,
            RootKind::Policies => self.scope,
        }
    }

    /// The element lists where inbound statements run in order: a policy's `<inbound>`, or
    /// a fragment's root (fragments are included mostly in inbound; their order matters the
    /// same way there).
    pub fn inbound_lists(&self) -> Vec<ElementRef<'a>> {
        match self.doc.root_kind() {
            RootKind::Fragment => vec![self.doc.root()],
            RootKind::Policies => self.doc.root().child("inbound").into_iter().collect(),
        }
    }

    /// Whether `el` is a gate: a policy that may reject the call with its own response
    /// (`rate-limit`, `quota`, ... per config), an element holding one at any depth (a
    /// `<choose>`, a `<retry>`: it still rejects), or the inclusion of a fragment holding one.
    pub fn is_gate(&self, el: ElementRef<'_>) -> bool {
        let direct = |e: ElementRef<'_>| {
            (self.gates.is_gate(e.name()) && crate::repo::may_reject(e))
                || (e.is("include-fragment")
                    && e.attr("fragment-id")
                        .is_some_and(|id| self.facts.gate_fragments.contains(id)))
        };
        direct(el) || el.descendants().any(direct)
    }

    /// The policies that count as gates, by name (`cors-first`'s options).
    pub fn gates(&self) -> &Gates {
        &self.gates
    }

    /// Whether `el` is a `<cors>`, or the inclusion of a fragment holding one at its top.
    pub fn is_cors(&self, el: ElementRef<'_>) -> bool {
        el.is("cors")
            || (el.is("include-fragment")
                && el
                    .attr("fragment-id")
                    .is_some_and(|id| self.facts.cors_fragments.contains(id)))
    }
}

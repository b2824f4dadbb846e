//! What the repo model tells the per-file rules about one file, and the gate list it is
//! asked with.
//!
//! Rules look at one document. A few decisions need the scopes around it: whether a parent
//! scope has `<cors>` (then a gate before `<base />` hides it), whether any scope has one
//! (else `cors-origins` creates one at global scope), and which fragments hold gates. The repo
//! model (`crate::repo`) computes these when the whole repo is given; every field is `None`
//! or empty when it is not, and rules that need a fact stay silent without it.

use std::collections::BTreeSet;

use crate::policy::Section;
use crate::syntax::ElementRef;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RepoFacts {
    /// Whether a broader scope in some chain through this file (global, workspace, a product
    /// holding this API) has a `<cors>` in its inbound section, directly or by fragment.
    pub ancestor_has_cors: Option<bool>,
    /// Whether any policy of the repo has a `<cors>`, directly or by fragment.
    pub repo_has_cors: Option<bool>,
    /// `fragment-id`s of the repo's fragments that hold a gate policy (per the configured
    /// gate list), so `<include-fragment>` of one of them counts as a gate.
    pub gate_fragments: BTreeSet<String>,
    /// `fragment-id`s of the repo's fragments that hold a `<cors>`.
    pub cors_fragments: BTreeSet<String>,
    /// What the parent scopes run in each section, over every chain through this file: what
    /// a `<base />` there turns on. `None` when the repo is not known, or no chain runs the
    /// file; computed only for files that may need it (a section without a direct
    /// `<base />` first).
    pub inherited: Option<Vec<(Section, Vec<Inherited>)>>,
    /// The repo's named values whose value may be shown, by each reference a policy can
    /// write (`{{displayName}}`, `{{name}}`), for the environment checked. Secrets, Key Vault
    /// references and placeholders are never here.
    pub named_values: std::sync::Arc<std::collections::BTreeMap<String, String>>,
    /// The APIOps environment the repo was composed for, if any.
    pub environment: Option<String>,
}

/// One statement a parent scope runs where `<base />` stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inherited {
    /// The element name, e.g. `ip-filter`.
    pub name: String,
    /// Its file, relative to the artifacts root, `/`-separated.
    pub file: String,
    /// 1-based line of its start.
    pub line: usize,
    /// Element names inside it (a `<choose>` holding a `<validate-jwt>`), lowercase.
    pub nested: Vec<String>,
    /// The names of the variables its expressions read (`context.Variables["x"]`,
    /// `context.Variables.GetValueOrDefault("x")`), and whether it reads any it cannot name.
    pub reads: Vec<String>,
    pub reads_unknown: bool,
    /// The variables it sets (see [`crate::policy::variables_set`]).
    pub sets: Vec<String>,
}

impl Inherited {
    /// Whether it may read the variable `name`.
    pub fn may_read(&self, name: &str) -> bool {
        self.reads_unknown || self.reads.iter().any(|r| r == name)
    }
}

impl RepoFacts {
    /// What the parents run in `section`, when known.
    pub fn inherited_in(&self, section: Section) -> Option<&[Inherited]> {
        let all = self.inherited.as_ref()?;
        Some(
            all.iter()
                .find(|(s, _)| *s == section)
                .map_or(&[][..], |(_, v)| v.as_slice()),
        )
    }
}

/// The policies that count as gates: those that may reject a call with their own response
/// before `<cors>` runs. The rules own the list (`cors-first`'s options); the repo only asks
/// it while composing events.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Gates {
    names: Vec<String>,
}

impl Gates {
    pub fn new<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> Self {
        Self {
            names: names.into_iter().map(|n| n.as_ref().to_owned()).collect(),
        }
    }

    /// Whether element `name` is a gate (ASCII case-insensitive).
    pub fn is_gate(&self, name: &str) -> bool {
        self.names.iter().any(|g| g.eq_ignore_ascii_case(name))
    }

    /// Whether `el` is a gate that may reject: its name is on the list and [`may_reject`].
    pub fn rejects(&self, el: ElementRef<'_>) -> bool {
        self.is_gate(el.name()) && may_reject(el)
    }
}

/// Whether a gate policy as written may reject a call. Two gates are written so that they
/// never do:
///
/// - a content validation policy (`validate-content`, `validate-parameters`,
///   `validate-headers`, `validate-status-code`) whose every action attribute (`*-action`, on it or its children)
///   is `ignore` or `detect`: only `prevent` blocks the request ("Actions", content validation
///   policies); an expression might return `prevent`, so it counts;
/// - `validate-client-certificate ignore-error="true"`, which proceeds on a failed validation.
///
/// And a gate inside a `<when>` that runs only for `OPTIONS` calls is a hand-written preflight
/// answer, on purpose before `<cors>` (as in dynamic-CORS fragments): it does not count.
pub fn may_reject(el: ElementRef<'_>) -> bool {
    if answers_preflight(el) {
        return false;
    }
    let name = el.name();
    if name.eq_ignore_ascii_case("validate-client-certificate") {
        return !el
            .attr("ignore-error")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    }
    if !matches_ignore_case(name, VALIDATION_POLICIES) {
        return true;
    }
    let doc = el.document();
    std::iter::once(el)
        .chain(el.descendants())
        .flat_map(|e| e.attributes().iter())
        .filter(|a| {
            let attr = doc.slice(a.name);
            attr == "action" || attr.ends_with("-action")
        })
        .any(|a| {
            let value = doc.slice(a.value).trim();
            value.eq_ignore_ascii_case("prevent") || value.contains('@') || value.contains("{{")
        })
}

/// Whether `el` sits in a `<when>` whose condition selects `OPTIONS` calls
/// (`context.Request.Method == "OPTIONS"`), not their negation.
fn answers_preflight(el: ElementRef<'_>) -> bool {
    std::iter::successors(el.parent(), |e| e.parent())
        .filter(|e| e.is("when"))
        .filter_map(|e| e.attr("condition"))
        .any(|c| c.contains("OPTIONS") && !c.contains("!=") && !c.contains("!context"))
}

/// The content validation policies, whose actions decide whether they block.
const VALIDATION_POLICIES: &[&str] = &[
    "validate-content",
    "validate-parameters",
    "validate-headers",
    "validate-status-code",
];

fn matches_ignore_case(name: &str, list: &[&str]) -> bool {
    list.iter().any(|n| n.eq_ignore_ascii_case(name))
}

//! What the repo model tells the per-file rules about one file, and the gate list it is
//! asked with.
//!
//! Rules look at one document. A few decisions need the scopes around it: whether a parent
//! scope has `<cors>` (then a gate before `<base />` hides it), whether any scope has one
//! (else `cors-origins` creates one at global scope), and which fragments hold gates. The repo
//! model (`crate::repo`) computes these when the whole repo is given; every field is `None`
//! or empty when it is not, and rules that need a fact stay silent without it.

use std::collections::BTreeSet;

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
}

//! The rules. Each lives in its own module with its documentation, its options, its checks
//! (per file, and across scopes where it needs the repo), its fix and its tests, behind
//! [`RuleImpl`]. This module reads the one rule table ([`crate::registry`]) to declare the
//! modules, dispatch to them and build the `rules:` section of the configuration.

mod context;
mod cross_scope;
mod fix_loop;
pub mod oracle;
mod suppression;
#[cfg(test)]
pub(crate) mod test_support;
mod variables;

pub use context::Context;
pub use cross_scope::{ChainCheck, RepoCheck, RepoFinding, RepoFindings, check_repo};
pub use fix_loop::{BrokenFix, FixError, FixMode, FixOutcome, MAX_PASSES, fix_until_stable};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::diagnostic::Diagnostic;
use crate::registry::rule_table;
pub use crate::registry::{Rule, Severity, UnknownRule};
use crate::syntax::Document;
pub use suppression::{unknown_directives, unknown_names as unknown_suppressed_names};

/// Whether a rule can offer a fix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FixAvailability {
    /// A fix when the finding allows one (not every finding does).
    Sometimes,
    None,
}

/// Where a rule looks: one file, or only the repo's composed chains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Checked on each file; rules of this kind may also look across scopes when the repo
    /// is known, for what one file cannot show.
    PerFile,
    /// Checked only across scopes, when a whole repo is given.
    CrossScope,
}

/// What a rule module provides. Every item but [`RuleImpl::DOC`] has a default, so a rule
/// implements only what it does.
pub trait RuleImpl {
    /// The documentation: what, why, example, fix, fix safety, references (`apimfix rule`).
    const DOC: &'static str;
    const FIX: FixAvailability = FixAvailability::None;
    const KIND: Kind = Kind::PerFile;
    /// The options under the rule's key in `rules.yaml`.
    type Options: Clone + Default + PartialEq + std::fmt::Debug + Serialize + DeserializeOwned;

    /// The per-file check.
    fn check(_ctx: &Context, _out: &mut Vec<Diagnostic>) {}

    /// The cross-scope check of one composed chain (see [`cross_scope`]): only what no
    /// single file shows, so that each root cause is reported once, by construction.
    fn check_chain(_chain: &ChainCheck<'_>, _out: &mut RepoFindings) {}

    /// The cross-scope check of the whole repo, after every chain.
    fn check_repo(_repo: &RepoCheck<'_>, _out: &mut RepoFindings) {}
}

/// No options: the rule is only turned on or off.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NoOptions {}

/// A rule turned on (`true`), off (`false`), or on with options (a map).
///
/// An empty value (a key whose options are all commented out) means on with the default
/// options. Equality is by meaning: `true` equals a map of the default options.
#[derive(Clone, Debug)]
pub enum Toggle<T> {
    Enabled(bool),
    Options(T),
}

impl<T: Default + Clone> Toggle<T> {
    pub fn is_enabled(&self) -> bool {
        !matches!(self, Toggle::Enabled(false))
    }

    /// The options, defaults when given as `true`/`false`.
    pub fn options(&self) -> T {
        match self {
            Toggle::Enabled(_) => T::default(),
            Toggle::Options(options) => options.clone(),
        }
    }
}

impl<T> Default for Toggle<T> {
    fn default() -> Self {
        Toggle::Enabled(true)
    }
}

impl<T: Default + Clone + PartialEq> PartialEq for Toggle<T> {
    fn eq(&self, other: &Self) -> bool {
        self.is_enabled() == other.is_enabled() && self.options() == other.options()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Toggle<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::{self, MapAccess, Visitor};
        // Hand-written rather than `#[serde(untagged)]`: untagged buffers the value and
        // replaces every inner error (an unknown option, with its line) by "data did not match
        // any variant".
        struct ToggleVisitor<T>(std::marker::PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for ToggleVisitor<T> {
            type Value = Toggle<T>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("`true`, `false` or a map of options")
            }

            fn visit_bool<E: de::Error>(self, enabled: bool) -> Result<Self::Value, E> {
                Ok(Toggle::Enabled(enabled))
            }

            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Toggle::Enabled(true))
            }

            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Toggle::Enabled(true))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Toggle::Options)
            }
        }

        deserializer.deserialize_any(ToggleVisitor(std::marker::PhantomData))
    }
}

impl<T: Serialize> Serialize for Toggle<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Toggle::Enabled(enabled) => serializer.serialize_bool(*enabled),
            Toggle::Options(options) => options.serialize(serializer),
        }
    }
}

macro_rules! define_registry {
    ($($variant:ident, $module:ident, $name:literal, $severity:ident, $summary:literal;)*) => {
        $(pub mod $module;)*

        /// The `rules:` section of the configuration: each rule on, off, or on with its
        /// options (which each rule module defines).
        #[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
        #[serde(rename_all = "kebab-case", deny_unknown_fields, default, expecting = "a map from rule names to `true`, `false` or a map of options")]
        pub struct RuleSettings {
            $(pub $module: Toggle<<$module::$variant as RuleImpl>::Options>,)*
        }

        impl Rule {
            /// The rule's documentation: what, why, example, fix, fix safety, references.
            pub fn explain(self) -> &'static str {
                match self {
                    $(Rule::$variant => <$module::$variant as RuleImpl>::DOC,)*
                }
            }

            pub fn kind(self) -> Kind {
                match self {
                    $(Rule::$variant => <$module::$variant as RuleImpl>::KIND,)*
                }
            }

            pub fn fix_availability(self) -> FixAvailability {
                match self {
                    $(Rule::$variant => <$module::$variant as RuleImpl>::FIX,)*
                }
            }

            /// Whether the configuration turns the rule on.
            pub fn is_enabled(self, settings: &RuleSettings) -> bool {
                match self {
                    $(Rule::$variant => settings.$module.is_enabled(),)*
                }
            }
        }

        /// Runs every enabled per-file rule on `ctx.doc`.
        fn check_enabled(ctx: &Context, out: &mut Vec<Diagnostic>) {
            $(
                if ctx.settings.$module.is_enabled() {
                    <$module::$variant as RuleImpl>::check(ctx, out);
                }
            )*
        }

        /// Runs every enabled rule's check of one chain.
        fn check_chain_enabled(settings: &RuleSettings, chain: &ChainCheck<'_>, out: &mut RepoFindings) {
            $(
                if settings.$module.is_enabled() {
                    <$module::$variant as RuleImpl>::check_chain(chain, out);
                }
            )*
        }

        /// Runs every enabled rule's check of the whole repo.
        fn check_repo_enabled(settings: &RuleSettings, repo: &RepoCheck<'_>, out: &mut RepoFindings) {
            $(
                if settings.$module.is_enabled() {
                    <$module::$variant as RuleImpl>::check_repo(repo, out);
                }
            )*
        }
    };
}

rule_table!(define_registry);

/// Runs every enabled per-file rule on `ctx.doc`, drops what suppression comments in the
/// file silence, and returns the findings sorted by position, then rule.
pub fn check(ctx: &Context) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    check_enabled(ctx, &mut out);
    drop_suppressed(ctx.doc, &mut out);
    drop_template_edits(ctx.doc, &mut out);
    out.sort_by_key(|d| (d.range.start(), d.rule));
    out
}

/// Removes the findings that suppression comments in `doc` silence (see `apimfix rule`
/// docs: `<!-- apimfix-ignore: RULE -->`, `<!-- apimfix-ignore-file: RULE -->`).
pub fn drop_suppressed(doc: &Document, diagnostics: &mut Vec<Diagnostic>) {
    let suppressions = suppression::Suppressions::read(doc);
    diagnostics.retain(|d| !suppressions.silences(d.rule, d.range));
}

/// Drops the fixes that would edit inside a template block (`%{ for ... }` ... `%{ endfor }`):
/// what is there is repeated or chosen when the template renders. The finding stays, and
/// says why it has no fix.
fn drop_template_edits(doc: &Document, diagnostics: &mut [Diagnostic]) {
    use crate::text::Ranged;
    let blocks = crate::policy::template_blocks(doc);
    if blocks.is_empty() {
        return;
    }
    for d in diagnostics.iter_mut() {
        let Some(fix) = &d.fix else { continue };
        let inside = fix.edits().iter().any(|e| {
            let r = e.range();
            blocks
                .iter()
                .any(|b| r.start() < b.end() && b.start() < r.end().max(r.start() + 1))
        });
        if inside {
            d.fix = None;
            d.fix_title = None;
            d.message
                .push_str(" (no fix: it would edit inside a `%{ ... }` template block)");
        }
    }
}

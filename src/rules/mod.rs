//! The rules. Each lives in its own module with its documentation, its check, its fix and
//! its tests; this module holds the registry.

mod base_duplicate;
mod base_first;
mod base_forbidden;
mod base_missing;
mod context;
mod cors_duplicate;
mod cors_first;
mod cors_origins;
mod cors_outside_inbound;
mod cors_product_scope;
mod cors_shadowed;
mod cors_wildcard_credentials;
mod facts;
pub mod policy;
mod suppression;
#[cfg(test)]
pub(crate) mod test_support;

pub use context::Context;
pub use cors_origins::same_origin;
pub use facts::RepoFacts;

use crate::config::RulesConfig;
use crate::diagnostic::{Diagnostic, Severity};

/// Declares the rule table: variant, kebab-case name, default severity, one-line summary.
macro_rules! rules {
    ($($variant:ident => $name:literal, $severity:ident, $summary:literal;)*) => {
        /// Every rule apimfix knows.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Rule {
            $($variant,)*
        }

        impl Rule {
            pub const ALL: &'static [Rule] = &[$(Rule::$variant,)*];

            /// The stable kebab-case id, as used in `rules.yaml` and suppression comments.
            pub fn name(self) -> &'static str {
                match self {
                    $(Rule::$variant => $name,)*
                }
            }

            pub fn default_severity(self) -> Severity {
                match self {
                    $(Rule::$variant => Severity::$severity,)*
                }
            }

            /// One line saying what the rule flags.
            pub fn summary(self) -> &'static str {
                match self {
                    $(Rule::$variant => $summary,)*
                }
            }
        }
    };
}

rules! {
    BaseMissing => "base-missing", Warning, "A section of a non-global policy lacks `<base />`, so the parent scope's policies never run";
    BaseForbidden => "base-forbidden", Error, "`<base />` at global scope or in a fragment, where APIM rejects it";
    BaseDuplicate => "base-duplicate", Warning, "More than one `<base />` in a section runs the parent's policies twice";
    BaseFirst => "base-first", Warning, "A gate policy runs before `<base />`, so rejected calls miss the inherited `<cors>`";
    CorsFirst => "cors-first", Warning, "A gate policy (rate limit, quota, ...) runs before `<cors>`, so rejected calls lack CORS headers";
    CorsOrigins => "cors-origins", Warning, "A declared front-end origin is not allowed by any `<cors>` policy";
    CorsWildcardCredentials => "cors-wildcard-credentials", Error, "`<origin>*</origin>` with `allow-credentials=\"true\"`, which browsers refuse";
    CorsDuplicate => "cors-duplicate", Warning, "Two `<cors>` policies in one section; only the first applies";
    CorsOutsideInbound => "cors-outside-inbound", Error, "`<cors>` outside `<inbound>`, where APIM does not allow it";
    CorsShadowed => "cors-shadowed", Warning, "A `<cors>` that never applies because an earlier `<cors>` in the chain wins";
    CorsProductScope => "cors-product-scope", Warning, "`<cors>` at product scope works only when the subscription key is in the query string";
}

impl std::str::FromStr for Rule {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Rule::ALL
            .iter()
            .copied()
            .find(|rule| rule.name() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = Rule::ALL.iter().map(|r| r.name()).collect();
                format!("unknown rule `{s}`; known rules: {}", known.join(", "))
            })
    }
}

/// How a rule is checked: per file, or only by the repo model across scopes.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    PerFile(fn(&Context, &mut Vec<Diagnostic>)),
    CrossScope,
}

/// Whether a rule can offer a fix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FixAvailability {
    /// A fix when the finding allows one (not every finding does).
    Sometimes,
    None,
}

impl Rule {
    /// The rule's documentation: what, why, example, fix, fix safety, references.
    pub fn explain(self) -> &'static str {
        match self {
            Rule::BaseMissing => base_missing::DOC,
            Rule::BaseForbidden => base_forbidden::DOC,
            Rule::BaseDuplicate => base_duplicate::DOC,
            Rule::BaseFirst => base_first::DOC,
            Rule::CorsFirst => cors_first::DOC,
            Rule::CorsOrigins => cors_origins::DOC,
            Rule::CorsWildcardCredentials => cors_wildcard_credentials::DOC,
            Rule::CorsDuplicate => cors_duplicate::DOC,
            Rule::CorsOutsideInbound => cors_outside_inbound::DOC,
            Rule::CorsShadowed => cors_shadowed::DOC,
            Rule::CorsProductScope => cors_product_scope::DOC,
        }
    }

    pub fn kind(self) -> Kind {
        match self {
            Rule::BaseMissing => Kind::PerFile(base_missing::check),
            Rule::BaseForbidden => Kind::PerFile(base_forbidden::check),
            Rule::BaseDuplicate => Kind::PerFile(base_duplicate::check),
            Rule::BaseFirst => Kind::PerFile(base_first::check),
            Rule::CorsFirst => Kind::PerFile(cors_first::check),
            Rule::CorsOrigins => Kind::PerFile(cors_origins::check),
            Rule::CorsWildcardCredentials => Kind::PerFile(cors_wildcard_credentials::check),
            Rule::CorsDuplicate => Kind::PerFile(cors_duplicate::check),
            Rule::CorsOutsideInbound => Kind::PerFile(cors_outside_inbound::check),
            Rule::CorsShadowed => Kind::CrossScope,
            Rule::CorsProductScope => Kind::PerFile(cors_product_scope::check),
        }
    }

    pub fn fix_availability(self) -> FixAvailability {
        match self {
            Rule::BaseMissing | Rule::BaseFirst | Rule::CorsFirst | Rule::CorsOrigins => {
                FixAvailability::Sometimes
            }
            _ => FixAvailability::None,
        }
    }

    /// Whether the configuration turns the rule on.
    pub fn is_enabled(self, rules: &RulesConfig) -> bool {
        match self {
            Rule::BaseMissing => rules.base_missing.is_enabled(),
            Rule::BaseForbidden => rules.base_forbidden.is_enabled(),
            Rule::BaseDuplicate => rules.base_duplicate.is_enabled(),
            Rule::BaseFirst => rules.base_first.is_enabled(),
            Rule::CorsFirst => rules.cors_first.is_enabled(),
            Rule::CorsOrigins => rules.cors_origins.is_enabled(),
            Rule::CorsWildcardCredentials => rules.cors_wildcard_credentials.is_enabled(),
            Rule::CorsDuplicate => rules.cors_duplicate.is_enabled(),
            Rule::CorsOutsideInbound => rules.cors_outside_inbound.is_enabled(),
            Rule::CorsShadowed => rules.cors_shadowed.is_enabled(),
            Rule::CorsProductScope => rules.cors_product_scope.is_enabled(),
        }
    }
}

/// Runs every enabled per-file rule on `ctx.doc`, drops what suppression comments in the
/// file silence, and returns the findings sorted by position, then rule.
pub fn check(ctx: &Context) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for &rule in Rule::ALL {
        if let Kind::PerFile(check) = rule.kind()
            && rule.is_enabled(&ctx.config.rules)
        {
            check(ctx, &mut out);
        }
    }
    drop_suppressed(ctx.doc, &mut out);
    out.sort_by_key(|d| (d.range.start(), d.rule));
    out
}

/// Removes the findings that suppression comments in `doc` silence (see `apimfix rule`
/// docs: `<!-- apimfix-ignore: RULE -->`, `<!-- apimfix-ignore-file: RULE -->`).
pub fn drop_suppressed(doc: &crate::syntax::Document, diagnostics: &mut Vec<Diagnostic>) {
    let suppressions = suppression::Suppressions::read(doc);
    diagnostics.retain(|d| !suppressions.silences(d.rule, d.range));
}

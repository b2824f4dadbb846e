//! The rules. Each lives in its own module with its documentation, its check, its fix and
//! its tests; this module holds the registry.

mod facts;

pub use facts::RepoFacts;

use crate::diagnostic::Severity;

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

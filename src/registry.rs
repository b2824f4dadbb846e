//! The one rule table, and the [`Rule`] and [`Severity`] vocabulary it defines.
//!
//! Every rule is one line of [`rule_table!`]: its variant, its module under `src/rules/`, its
//! kebab-case id, its default severity and a one-line summary. Everything else about a rule
//! (documentation, fix availability, options, per-file and cross-scope checks) lives in its
//! module, behind the `RuleImpl` trait of [`crate::rules`], which reads this same table to
//! declare the modules and dispatch to them. Adding a rule is its module plus one line here.
//!
//! This module sits at the bottom of the layers: it names rule modules only as tokens handed
//! to a macro, so it imports nothing from `rules`, and diagnostics, reports and config can
//! all speak of a [`Rule`] without depending on the rules themselves.

/// How bad a finding is. Ordered: `Error` is the greatest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// Hands the rule table to `$callback`, a macro taking lines of
/// `Variant, module, "id", Severity, "summary";`.
macro_rules! rule_table {
    ($callback:ident) => {
        $callback! {
            BaseMissing, base_missing, "base-missing", Warning, "A section of a non-global policy lacks `<base />`, so the parent scope's policies never run";
            BaseForbidden, base_forbidden, "base-forbidden", Error, "`<base />` at global scope or in a fragment, where APIM rejects it";
            BaseDuplicate, base_duplicate, "base-duplicate", Warning, "More than one `<base />` in a section runs the parent's policies twice";
            BaseFirst, base_first, "base-first", Warning, "A gate policy runs before `<base />`, so rejected calls miss the inherited `<cors>`";
            CorsFirst, cors_first, "cors-first", Warning, "A gate policy (rate limit, quota, ...) runs before `<cors>`, so rejected calls lack CORS headers";
            CorsOrigins, cors_origins, "cors-origins", Warning, "A declared front-end origin is not allowed by any `<cors>` policy";
            CorsWildcardCredentials, cors_wildcard_credentials, "cors-wildcard-credentials", Error, "`<origin>*</origin>` with `allow-credentials=\"true\"`, which browsers refuse";
            CorsDuplicate, cors_duplicate, "cors-duplicate", Warning, "Two `<cors>` policies in one section; only the first applies";
            CorsOutsideInbound, cors_outside_inbound, "cors-outside-inbound", Error, "`<cors>` outside `<inbound>`, where APIM does not allow it";
            CorsShadowed, cors_shadowed, "cors-shadowed", Warning, "A `<cors>` that never applies because an earlier `<cors>` in the chain wins";
            CorsProductScope, cors_product_scope, "cors-product-scope", Warning, "`<cors>` at product scope works only when the subscription key is in the query string";
            CorsOriginInvalid, cors_origin_invalid, "cors-origin-invalid", Warning, "An `<origin>` no browser sends: a path, a trailing slash, no scheme, a wildcard subdomain";
            CorsAllowedHeaders, cors_allowed_headers, "cors-allowed-headers", Warning, "A `<cors>` without `<allowed-headers>`, or without the subscription-key header its API expects";
            CorsDuplicateHeaders, cors_duplicate_headers, "cors-duplicate-headers", Warning, "A `<set-header>` of an `Access-Control-*` header where `<cors>` writes it too";
            CorsVersioningHeader, cors_versioning_header, "cors-versioning-header", Warning, "`<cors>` at API scope of an API versioned by header, which preflight calls never carry";
            CorsElementOrder, cors_element_order, "cors-element-order", Info, "The children of `<cors>` are not in the order of the policy statement";
        }
    };
}
pub(crate) use rule_table;

macro_rules! define_rule {
    ($($variant:ident, $module:ident, $name:literal, $severity:ident, $summary:literal;)*) => {
        /// Every rule apimfix knows, in the table's order.
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

rule_table!(define_rule);

/// An id that names no rule.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown rule `{name}`; known rules: {}", Rule::ALL.iter().map(|r| r.name()).collect::<Vec<_>>().join(", "))]
pub struct UnknownRule {
    pub name: String,
}

impl std::str::FromStr for Rule {
    type Err = UnknownRule;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Rule::ALL
            .iter()
            .copied()
            .find(|rule| rule.name() == s)
            .ok_or_else(|| UnknownRule { name: s.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::Rule;

    #[test]
    fn ids_are_unique_kebab_case_and_parse_back() {
        for (i, rule) in Rule::ALL.iter().enumerate() {
            let name = rule.name();
            assert!(
                name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{name}"
            );
            assert_eq!(name.parse::<Rule>(), Ok(*rule));
            assert!(Rule::ALL[..i].iter().all(|r| r.name() != name));
        }
        assert!("cors-frist".parse::<Rule>().is_err());
    }
}

//! `cors-origin-invalid`
//!
//! Decisions where the documentation is silent: an origin entry is judged only when it is
//! plain text a browser's `Origin` could be compared with. Named values (`{{x}}`), policy
//! expressions (`@(...)`, `@{...}`), template and pipeline placeholders (`${x}`, `{origin}`,
//! `#{x}#`, `[ADD YOUR ORIGINS]`, `__X__`), entities and anything holding whitespace are
//! replaced before APIM sees them, so they are never judged.

use crate::origin::{Problem, cleaned, problem, same_origin};
use crate::diagnostic::Diagnostic;
use crate::fix::{Edit, Fix};
use crate::rules::context::Context;
use crate::rules::{FixAvailability, NoOptions, Rule, RuleImpl, Severity};
use crate::syntax::ElementRef;
use crate::text::TextRange;

pub const DOC: &str = r#"## What it does
Flags an `<origin>` of `<cors>` that no browser ever sends as its `Origin` header:

- an origin with a trailing slash (`https://app.contoso.com/`);
- an origin with a path, query or fragment (`https://app.contoso.com/app`);
- an origin without a scheme (`app.contoso.com`);
- a wildcard subdomain (`https://*.contoso.com`);
- an origin wrapped in quotation marks (`"https://app.contoso.com"`);
- `<origin>*</origin>` beside other origins (the reference allows either a single `*` or a
  list of origins).

Named values (`{{frontend-origin}}`), policy expressions (`@(...)`) and template placeholders
(`${origin}`, `{origin}`, `#{origin}#`, `[ADD YOUR ORIGINS]`) are replaced before APIM reads
the policy, so they are never judged.

## Why is this bad?
A browser's `Origin` header is `scheme://host[:port]`, with no path and no trailing slash. The
policy reference asks for exactly that: "a URI that specifies a single origin. The URI must
include a scheme, host, and port. Do not include quotation marks." APIM refuses to save a
wildcard subdomain ("Origin must be a valid URL consisting of scheme, host, and port only"),
so the deployment fails; an origin without a scheme or with a path never matches, so the
front end gets a CORS error (or an empty `200 OK` to its preflight).

A trailing slash is the mildest case: whether APIM ignores it when matching is not
documented (the policy reference's own example writes `http://example.com/`), but the origin
without it is exactly what the browser sends, so dropping it is right either way.

## Example
```xml
<allowed-origins>
    <origin>https://app.contoso.com/</origin>
    <origin>https://*.contoso.com</origin>
</allowed-origins>
```
Use instead:
```xml
<allowed-origins>
    <origin>https://app.contoso.com</origin>
    <origin>https://admin.contoso.com</origin>
    <origin>https://portal.contoso.com</origin>
</allowed-origins>
```

## Severity
Warning; a wildcard subdomain is an error (APIM refuses the policy), a trailing slash is info
(whether APIM ignores it is undocumented).

## Fix
Drops a trailing slash, and quotation marks around an otherwise valid origin. The other cases
are reported only: which scheme, or which subdomains, to allow is a decision.

## Fix safety
Safe: the fixed origin is the one the browser sends, which is what the entry meant.
With the repo known, the fix is offered only when composing each chain through the file
before and after shows that nothing but origin lists changed. Entries are compared with the
other origins of the list literally (ASCII case aside), as `cors-origins` compares them.

## References
- https://learn.microsoft.com/azure/api-management/cors-policy ("allowed-origins elements")
- https://github.com/Azure/api-management-developer-portal/issues/2690 (APIM rejects
  `https://*.example.com`)
- https://developer.mozilla.org/docs/Web/HTTP/Headers/Origin
"#;

/// The rule `cors-origin-invalid`.
pub struct CorsOriginInvalid;

impl RuleImpl for CorsOriginInvalid {
    const DOC: &'static str = DOC;
    const FIX: FixAvailability = FixAvailability::Sometimes;
    type Options = NoOptions;

    fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
        check(ctx, out);
    }
}

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    let doc = ctx.doc;
    for cors in doc.root().descendants().filter(|e| e.is("cors")) {
        let origins: Vec<ElementRef<'_>> = cors
            .child_elements()
            .filter(|e| e.is("allowed-origins"))
            .flat_map(|a| a.child_elements())
            .filter(|o| o.is("origin"))
            .collect();
        for origin in &origins {
            check_origin(ctx, *origin, out);
        }
        // "either a single `origin` element that specifies `*` ..., or one or more `origin`
        // elements that contain a URI".
        if origins.len() > 1 {
            let star = origins
                .iter()
                .find(|o| doc.slice(o.inner_range()).trim() == "*");
            if let Some(star) = star {
                out.push(Diagnostic::new(
                    Rule::CorsOriginInvalid,
                    star.start_tag(),
                    "`<origin>*</origin>` beside other origins: `<allowed-origins>` takes either one `*` or a list of origins",
                ));
            }
        }
    }
}

fn check_origin(ctx: &Context, origin: ElementRef<'_>, out: &mut Vec<Diagnostic>) {
    let doc = ctx.doc;
    let inner = origin.inner_range();
    let raw = doc.slice(inner);
    let text = raw.trim();
    if text.is_empty() || text == "*" || is_placeholder(text) {
        return;
    }
    let Some(problem) = problem(text) else {
        return;
    };
    // Where `text` starts in the file.
    let start = inner.start() + (raw.len() - raw.trim_start().len());
    let at = TextRange::new(start, start + text.len());
    let diagnostic = |message: String| Diagnostic::new(Rule::CorsOriginInvalid, at, message);
    let d = match problem {
        Problem::Quoted => {
            let unquoted = &text[1..text.len() - 1];
            let d = diagnostic(format!(
                "origin `{text}` is wrapped in quotation marks, which the browser's `Origin` never has"
            ));
            // A trailing `/` inside the quotes goes with them: what is left is what the
            // browser sends.
            let cleaned = match self::problem(unquoted) {
                Some(Problem::TrailingSlash) => &unquoted[..unquoted.len() - 1],
                _ => unquoted,
            };
            if problem_of_unquoted(cleaned) || listed_elsewhere(ctx, origin, cleaned) {
                d
            } else {
                d.with_fix(
                    format!("Replace it with `{cleaned}`"),
                    Fix::safe(Edit::replacement(at, cleaned), []),
                )
            }
        }
        Problem::NoScheme => diagnostic(format!(
            "origin `{text}` has no scheme: browsers send `https://{text}` or `http://{text}`, which it never matches"
        )),
        Problem::Wildcard => diagnostic(format!(
            "origin `{text}` is a wildcard subdomain, which APIM rejects: list each origin (or use an expression)"
        ))
        .with_severity(Severity::Error),
        Problem::Path => diagnostic(format!(
            "origin `{text}` has a path: browsers send only `scheme://host[:port]`, which it never matches"
        )),
        Problem::TrailingSlash => {
            let fixed = &text[..text.len() - 1];
            let d = diagnostic(format!(
                "origin `{text}` ends with `/`: browsers send `{fixed}`"
            ))
            .with_severity(Severity::Info);
            // Fixed into a copy of another entry, the list would hold the origin twice.
            if listed_elsewhere(ctx, origin, fixed) {
                d
            } else {
                d.with_fix(
                    "Remove the trailing `/`",
                    Fix::safe(Edit::deletion(TextRange::new(at.end() - 1, at.end())), []),
                )
            }
        }
    };
    out.push(d);
}

/// Whether the entry is a placeholder that something replaces before APIM reads it, or
/// text apimfix cannot compare (entities, CDATA, whitespace inside).
fn is_placeholder(text: &str) -> bool {
    text.contains("__")
        || text.chars().any(|c| {
            c.is_whitespace() || matches!(c, '{' | '}' | '[' | ']' | '@' | '$' | '#' | '%' | '&' | '<' | '(' | ')')
        })
}

/// Whether another `<origin>` of the same list already reads `text`.
/// Whether another `<origin>` of the same list reads `text` already, or will once fixed: one
/// that reads it after its own fix and comes first (fixes of one pass apply together, so
/// only the first of several entries that clean up to one origin is fixed).
fn listed_elsewhere(ctx: &Context, origin: ElementRef<'_>, text: &str) -> bool {
    let Some(list) = origin.parent() else {
        return false;
    };
    let mut before = true;
    list.child_elements().filter(|o| o.is("origin")).any(|o| {
        if o.id() == origin.id() {
            before = false;
            return false;
        }
        let other = ctx.doc.slice(o.inner_range()).trim();
        same_origin(other, text) || before && cleaned(other).is_some_and(|c| same_origin(c, text))
    })
}

fn problem_of_unquoted(unquoted: &str) -> bool {
    unquoted.is_empty() || is_placeholder(unquoted) || problem(unquoted).is_some()
}

#[cfg(test)]
mod tests {
    use super::{Problem, problem};
    use crate::rules::test_support::{findings, fix_all};
    use crate::layout::Scope;

    fn policy(origins: &[&str]) -> String {
        let list: String = origins
            .iter()
            .map(|o| format!("\n            <origin>{o}</origin>"))
            .collect();
        format!(
            "<policies>\n    <inbound>\n        <cors>\n            <allowed-origins>{list}\n            </allowed-origins>\n            <allowed-headers>\n                <header>content-type</header>\n            </allowed-headers>\n        </cors>\n    </inbound>\n</policies>\n"
        )
    }

    #[test]
    fn classifies_origins() {
        assert_eq!(problem("https://app.contoso.com"), None);
        assert_eq!(problem("http://localhost:3000"), None);
        assert_eq!(problem("chrome-extension://abcdef"), None);
        assert_eq!(problem("https://app.contoso.com/"), Some(Problem::TrailingSlash));
        assert_eq!(problem("https://app.contoso.com/app"), Some(Problem::Path));
        assert_eq!(problem("https://app.contoso.com?x=1"), Some(Problem::Path));
        assert_eq!(problem("app.contoso.com"), Some(Problem::NoScheme));
        assert_eq!(problem("localhost:3000"), Some(Problem::NoScheme));
        assert_eq!(problem("https://*.contoso.com"), Some(Problem::Wildcard));
        assert_eq!(problem("\"https://a.com\""), Some(Problem::Quoted));
    }

    #[test]
    fn reports_each_invalid_origin() {
        let src = policy(&[
            "https://ok.contoso.com",
            "https://app.contoso.com/",
            "https://app.contoso.com/app",
            "app.contoso.com",
            "https://*.contoso.com",
            "\"https://q.contoso.com\"",
        ]);
        assert_eq!(
            findings(&src, Scope::Global, "cors-origin-invalid"),
            [
                "6:21 origin `https://app.contoso.com/` ends with `/`: browsers send `https://app.contoso.com`",
                "7:21 origin `https://app.contoso.com/app` has a path: browsers send only `scheme://host[:port]`, which it never matches",
                "8:21 origin `app.contoso.com` has no scheme: browsers send `https://app.contoso.com` or `http://app.contoso.com`, which it never matches",
                "9:21 origin `https://*.contoso.com` is a wildcard subdomain, which APIM rejects: list each origin (or use an expression)",
                "10:21 origin `\"https://q.contoso.com\"` is wrapped in quotation marks, which the browser's `Origin` never has",
            ]
        );
    }

    #[test]
    fn a_star_beside_other_origins() {
        let src = policy(&["https://ok.contoso.com", "*"]);
        assert_eq!(
            findings(&src, Scope::Global, "cors-origin-invalid"),
            ["6:13 `<origin>*</origin>` beside other origins: `<allowed-origins>` takes either one `*` or a list of origins"]
        );
        assert!(findings(&policy(&["*"]), Scope::Global, "cors-origin-invalid").is_empty());
    }

    #[test]
    fn placeholders_are_never_judged() {
        let src = policy(&[
            "{{frontend-origin}}",
            "@(context.Variables.GetValueOrDefault<string>(\"o\"))",
            "${origin}",
            "{origin}",
            "#{Origin}#",
            "[ADD YOUR ORIGINS]",
            "__FRONTEND_ORIGIN__",
            "https://{{host}}/",
            "",
        ]);
        assert!(findings(&src, Scope::Global, "cors-origin-invalid").is_empty());
    }

    #[test]
    fn drops_the_trailing_slash_and_quotes_only() {
        let src = policy(&[
            "https://app.contoso.com/",
            " \"https://q.contoso.com\" ",
            "\"app.contoso.com\"",
            "https://*.contoso.com",
        ]);
        let fixed = fix_all(&src, Scope::Global);
        assert_eq!(
            fixed,
            policy(&[
                "https://app.contoso.com",
                " https://q.contoso.com ",
                "\"app.contoso.com\"",
                "https://*.contoso.com",
            ])
        );
    }

    #[test]
    fn quotes_and_a_slash_inside_go_together_and_null_is_an_origin() {
        let src = policy(&["'https://c.contoso.com/'", "null"]);
        assert_eq!(
            fix_all(&src, Scope::Global),
            policy(&["https://c.contoso.com", "null"])
        );
        assert_eq!(problem("null"), None);
    }

    #[test]
    fn no_fix_that_would_list_an_origin_twice() {
        let src = policy(&[
            "\"https://b.contoso.com\"",
            "https://b.contoso.com",
            "https://d.contoso.com/",
            "https://d.contoso.com",
        ]);
        assert_eq!(findings(&src, Scope::Global, "cors-origin-invalid").len(), 2);
        assert_eq!(fix_all(&src, Scope::Global), src);
    }

    #[test]
    fn entries_that_clean_up_to_one_origin_are_fixed_once() {
        let src = policy(&[
            "https://b.contoso.com/",
            "\"https://b.contoso.com\"",
            "'https://c.contoso.com/'",
            "https://c.contoso.com/",
        ]);
        let fixed = fix_all(&src, Scope::Global);
        for origin in ["https://b.contoso.com", "https://c.contoso.com"] {
            assert_eq!(
                fixed.matches(&format!("<origin>{origin}</origin>")).count(),
                1,
                "{fixed}"
            );
        }
    }
}

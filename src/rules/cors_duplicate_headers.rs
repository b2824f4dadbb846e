//! `cors-duplicate-headers`
//!
//! Decisions where the documentation is silent: every `exists-action` that writes counts.
//! `append` adds a second value; `override` (the default) replaces the value `<cors>`
//! computed for the request's origin; `skip` adds the header exactly when `<cors>` did not
//! (an origin it refused). `delete` writes nothing, so it is not reported, and neither is a
//! `set-header` that builds the response of a `<return-response>`: that response is the
//! policy's own. A `set-header` whose `name` is an expression is not judged. A backend that sends
//! its own `Access-Control-*` headers is not visible in the policies, so it is not reported.

use crate::diagnostic::Diagnostic;
use crate::policy::Section;
use crate::repo::{FileId, Gates};
use crate::rules::context::Context;
use crate::rules::{ChainCheck, NoOptions, RepoFindings, Rule, RuleImpl};
use crate::syntax::ElementRef;
use crate::text::Ranged;

pub const DOC: &str = r#"## What it does
Flags a `<set-header>` of a CORS response header (`Access-Control-Allow-Origin`,
`-Credentials`, `-Methods`, `-Headers`, `Access-Control-Expose-Headers`,
`Access-Control-Max-Age`) in a policy that also has a `<cors>`, or, with the whole repo given,
in any policy of a chain where a `<cors>` runs.

## Why is this bad?
`<cors>` already writes these headers, from the request's `Origin` and its own lists. A second
writer makes the response carry the header twice (browsers reject an
`Access-Control-Allow-Origin` with more than one value), or replaces the computed value with
a fixed one that is wrong for every other allowed origin, or adds it for origins `<cors>`
refused. Either way the two configurations disagree and whoever edits one sees no effect.

## Example
```xml
<inbound>
    <cors>
        <allowed-origins><origin>https://app.contoso.com</origin></allowed-origins>
        <allowed-headers><header>content-type</header></allowed-headers>
    </cors>
</inbound>
<outbound>
    <set-header name="Access-Control-Allow-Origin" exists-action="append">
        <value>*</value>
    </set-header>
</outbound>
```
Use instead: let `<cors>` write the CORS headers, and remove the `<set-header>`.

## Fix
None: report only. Which of the two should stay is a decision (some teams write CORS headers
by hand on purpose, for example in `on-error`).

## References
- https://learn.microsoft.com/azure/api-management/cors-policy
- https://learn.microsoft.com/azure/api-management/set-header-policy (`exists-action`)
- https://fetch.spec.whatwg.org/#cors-check (one `Access-Control-Allow-Origin` value)
"#;

/// The response headers `<cors>` writes.
const CORS_HEADERS: [&str; 6] = [
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Credentials",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
    "Access-Control-Expose-Headers",
    "Access-Control-Max-Age",
];

/// The rule `cors-duplicate-headers`.
pub struct CorsDuplicateHeaders;

impl RuleImpl for CorsDuplicateHeaders {
    const DOC: &'static str = DOC;
    type Options = NoOptions;

    fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
        check(ctx, out);
    }

    /// A `<set-header>` in another file of a chain where a `<cors>` runs. Files that have a
    /// `<cors>` of their own are the per-file check's.
    fn check_chain(chain: &ChainCheck<'_>, out: &mut RepoFindings) {
        let Some(first) = chain.first_cors else {
            return;
        };
        let repo = chain.repo;
        // Composing the chain's sections costs; most chains have no such header anywhere.
        let writes = |file: FileId| cors_header_setters(repo.file(file).doc.root()).next().is_some();
        let any_writer = chain.levels().iter().any(|level| {
            level.file.is_some_and(|file| {
                writes(file)
                    || repo
                        .file(file)
                        .doc
                        .root()
                        .descendants()
                        .filter(|e| e.is("include-fragment"))
                        .filter_map(|e| e.attr("fragment-id"))
                        .filter_map(|id| repo.fragment(level.workspace.as_deref(), id))
                        .any(writes)
            })
        });
        if !any_writer {
            return;
        }
        let cors = &chain.events()[first];
        let cors_label = repo.describe(cors.pointer());
        let gates = Gates::default();
        for section in Section::ALL {
            for statement in repo.compose(chain.levels(), section, &gates) {
                let Some(file) = repo.file_id(&statement.path) else {
                    continue;
                };
                let doc = &repo.file(file).doc;
                if doc.root().descendants().any(|e| e.is("cors")) {
                    continue;
                }
                let Some(element) = std::iter::once(doc.root())
                    .chain(doc.root().descendants())
                    .find(|e| e.range() == statement.range)
                else {
                    continue;
                };
                for (set, name) in cors_header_setters(element) {
                    let message = format!(
                        "`<set-header>` of `{name}` in a chain where the `<cors>` of {cors_label} writes it too: the response carries it twice or with a value `<cors>` did not choose"
                    );
                    chain.report(out, Rule::CorsDuplicateHeaders, file, set.start_tag(), message);
                }
            }
        }
    }
}

/// Whether `el` builds the response of a `<return-response>` or `<mock-response>`: that
/// response is the policy's own, answered without `<cors>` (see `base-first`), so its CORS
/// headers are its own too.
fn in_own_response(el: ElementRef<'_>) -> bool {
    let mut up = el.parent();
    while let Some(p) = up {
        if p.is("return-response") || p.is("mock-response") {
            return true;
        }
        up = p.parent();
    }
    false
}

/// The `<set-header>` elements at or below `el` that write a CORS response header, with the
/// header's name as written.
fn cors_header_setters<'a>(el: ElementRef<'a>) -> impl Iterator<Item = (ElementRef<'a>, &'a str)> {
    std::iter::once(el)
        .chain(el.descendants())
        .filter(|e| e.is("set-header"))
        .filter(|e| {
            !e.attr("exists-action")
                .is_some_and(|a| a.trim().eq_ignore_ascii_case("delete"))
        })
        .filter(|e| !in_own_response(*e))
        .filter_map(|e| {
            let name = e.attr("name")?.trim();
            CORS_HEADERS
                .iter()
                .any(|h| h.eq_ignore_ascii_case(name))
                .then_some((e, name))
        })
}

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    let root = ctx.doc.root();
    if !root.descendants().any(|e| e.is("cors")) {
        return;
    }
    for (set, name) in cors_header_setters(root) {
        out.push(Diagnostic::new(
            Rule::CorsDuplicateHeaders,
            set.start_tag(),
            format!(
                "`<set-header>` of `{name}` beside a `<cors>` that writes it too: the response carries it twice or with a value `<cors>` did not choose"
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::findings;
    use crate::layout::Scope;

    const SRC: &str = "<policies>\n  <inbound>\n    <cors>\n      <allowed-origins><origin>https://a.contoso.com</origin></allowed-origins>\n      <allowed-headers><header>*</header></allowed-headers>\n    </cors>\n  </inbound>\n  <outbound>\n    <set-header name=\"access-control-allow-origin\" exists-action=\"append\"><value>*</value></set-header>\n    <set-header name=\"x-trace\" exists-action=\"override\"><value>1</value></set-header>\n  </outbound>\n</policies>";

    #[test]
    fn flags_cors_headers_set_beside_a_cors() {
        assert_eq!(
            findings(SRC, Scope::Global, "cors-duplicate-headers"),
            [
                "9:5 `<set-header>` of `access-control-allow-origin` beside a `<cors>` that writes it too: the response carries it twice or with a value `<cors>` did not choose"
            ]
        );
    }

    #[test]
    fn without_a_cors_the_headers_are_the_policy_s_own() {
        let src = SRC.replace("<cors>", "<cors-not>").replace("</cors>", "</cors-not>");
        assert!(findings(&src, Scope::Global, "cors-duplicate-headers").is_empty());
    }

    #[test]
    fn deleting_a_cors_header_writes_nothing() {
        let src = SRC.replace("exists-action=\"append\"><value>*</value></set-header>", "exists-action=\"delete\" />");
        assert!(src.contains("exists-action=\"delete\""));
        assert!(findings(&src, Scope::Api, "cors-duplicate-headers").is_empty());
    }

    #[test]
    fn a_response_of_its_own_carries_its_own_headers() {
        let src = "<policies>\n  <inbound>\n    <cors>\n      <allowed-origins><origin>https://a.contoso.com</origin></allowed-origins>\n      <allowed-headers><header>*</header></allowed-headers>\n    </cors>\n    <return-response>\n      <set-header name=\"Access-Control-Allow-Origin\" exists-action=\"override\"><value>*</value></set-header>\n    </return-response>\n  </inbound>\n</policies>";
        assert!(findings(src, Scope::Api, "cors-duplicate-headers").is_empty());
    }
}

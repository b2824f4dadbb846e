//! `cors-product-scope`

use crate::repo::CorsDepth;
use crate::rules::{RepoCheck, RepoFindings, NoOptions, RuleImpl};
use crate::diagnostic::Diagnostic;
use crate::rules::Rule;
use crate::rules::context::Context;
use crate::layout::Scope;

pub const DOC: &str = r#"## What it does
Flags a `<cors>` in a product policy.

## Why is this bad?
Product policies run only when APIM can tie the call to a product, through its subscription
key. A preflight `OPTIONS` request carries no custom headers, so when clients send the key in a
header, no product is resolved for the preflight and the product's `<cors>` never answers it.
It works only with the key in the query string.

## Example
```xml
<!-- products/starter/policy.xml -->
<inbound>
    <cors>...</cors>
    <base />
</inbound>
```
Use instead: put the `<cors>` in the global (or API) policy, and keep `<base />` in the
narrower scopes.

## Fix
None: report only. Moving policies between files is a decision for the team.

## References
- https://learn.microsoft.com/azure/api-management/cors-policy ("Common configuration issues")
"#;

/// The rule `cors-product-scope`.
pub struct CorsProductScope;

impl RuleImpl for CorsProductScope {
    const DOC: &'static str = DOC;
    type Options = NoOptions;

    fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
        check(ctx, out);
    }

    /// An `<include-fragment>` that brings a `<cors>` into a product policy: the per-file
    /// check sees the product's own `<cors>` elements, not what a fragment holds.
    fn check_repo(check: &RepoCheck<'_>, out: &mut RepoFindings) {
        let repo = check.repo;
        for file in repo.file_ids() {
            let policy = repo.file(file);
            if policy.scope != Scope::Product {
                continue;
            }
            for element in policy.doc.root().descendants() {
                if repo.brings_cors(file, element, CorsDepth::Anywhere) {
                    out.add_unchained(
                        Rule::CorsProductScope,
                        file,
                        element.start_tag(),
                        "`<include-fragment>` brings a `<cors>` to product scope, which does not answer preflight requests: they carry no subscription key, so APIM runs no product policy for them".to_owned(),
                    );
                }
            }
        }
    }
}

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    if ctx.effective_scope() != Scope::Product {
        return;
    }
    for cors in ctx.doc.root().descendants().filter(|e| e.is("cors")) {
        out.push(Diagnostic::new(
            Rule::CorsProductScope,
            cors.start_tag(),
            "`<cors>` at product scope: preflight calls that send the subscription key in a header never reach it",
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::findings;
    use crate::layout::Scope;

    #[test]
    fn flags_cors_in_product_policies_only() {
        let src = "<policies><inbound><cors /><base /></inbound></policies>";
        assert_eq!(findings(src, Scope::Product, "cors-product-scope").len(), 1);
        assert!(findings(src, Scope::Api, "cors-product-scope").is_empty());
    }
}

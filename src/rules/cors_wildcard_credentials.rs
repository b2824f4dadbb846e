//! `cors-wildcard-credentials`

use crate::rules::{NoOptions, RuleImpl};
use crate::diagnostic::Diagnostic;
use crate::rules::Rule;
use crate::rules::context::Context;

pub const DOC: &str = r#"## What it does
Flags a `<cors>` that allows the origin `*` together with `allow-credentials="true"`.

## Why is this bad?
Browsers refuse a wildcard `Access-Control-Allow-Origin` on credentialed requests (the Fetch
standard), so calls that send cookies or an `Authorization` header fail with a CORS error.

## Example
```xml
<cors allow-credentials="true">
    <allowed-origins><origin>*</origin></allowed-origins>
</cors>
```
Use instead:
```xml
<cors allow-credentials="true">
    <allowed-origins><origin>https://app.contoso.com</origin></allowed-origins>
</cors>
```

## Fix
None: report only. Which origins to allow is a decision (declare them in
`cors-origins.origins`).

## References
- https://learn.microsoft.com/azure/api-management/cors-policy
"#;

/// The rule `cors-wildcard-credentials`.
pub struct CorsWildcardCredentials;

impl RuleImpl for CorsWildcardCredentials {
    const DOC: &'static str = DOC;
    type Options = NoOptions;

    fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
        check(ctx, out);
    }
}

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    let doc = ctx.doc;
    for cors in doc.root().descendants().filter(|e| e.is("cors")) {
        if !cors
            .attr("allow-credentials")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
        {
            continue;
        }
        let wildcard = cors
            .child("allowed-origins")
            .into_iter()
            .flat_map(|a| a.child_elements())
            .find(|o| o.is("origin") && doc.slice(o.inner_range()).trim() == "*");
        if let Some(origin) = wildcard {
            out.push(Diagnostic::new(
                Rule::CorsWildcardCredentials,
                origin.start_tag().cover(origin.end_tag().unwrap_or(origin.start_tag())),
                "`<origin>*</origin>` with `allow-credentials=\"true\"`: browsers refuse credentialed calls to a wildcard origin",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::findings;
    use crate::layout::Scope;

    #[test]
    fn flags_wildcard_with_credentials_only() {
        let src = "<policies><inbound>\n<cors allow-credentials=\"True\"><allowed-origins><origin>*</origin></allowed-origins></cors>\n</inbound></policies>";
        assert_eq!(
            findings(src, Scope::Global, "cors-wildcard-credentials").len(),
            1
        );
        assert!(
            findings(
                &src.replace("True", "false"),
                Scope::Global,
                "cors-wildcard-credentials"
            )
            .is_empty()
        );
        assert!(
            findings(
                &src.replace(">*<", ">https://a<"),
                Scope::Global,
                "cors-wildcard-credentials"
            )
            .is_empty()
        );
    }
}

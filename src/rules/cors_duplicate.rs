//! `cors-duplicate`

use crate::rules::{NoOptions, RuleImpl};
use crate::diagnostic::Diagnostic;
use crate::rules::Rule;
use crate::rules::context::Context;

pub const DOC: &str = r#"## What it does
Flags a second `<cors>` in one section (or one fragment).

## Why is this bad?
APIM allows `cors` once per section, and only the first `<cors>` that runs applies: the second
one's origins, methods and headers are silently ignored.

## Example
```xml
<inbound>
    <cors><allowed-origins><origin>https://a.contoso.com</origin></allowed-origins></cors>
    <cors><allowed-origins><origin>https://b.contoso.com</origin></allowed-origins></cors>
</inbound>
```
Use instead:
```xml
<inbound>
    <cors>
        <allowed-origins>
            <origin>https://a.contoso.com</origin>
            <origin>https://b.contoso.com</origin>
        </allowed-origins>
    </cors>
</inbound>
```

## Fix
None: report only. Merge the two by hand.

## References
- https://learn.microsoft.com/azure/api-management/cors-policy ("Generally, only the first
  `cors` policy is applied")
"#;

/// The rule `cors-duplicate`.
pub struct CorsDuplicate;

impl RuleImpl for CorsDuplicate {
    const DOC: &'static str = DOC;
    type Options = NoOptions;

    fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
        check(ctx, out);
    }
}

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    let root = ctx.doc.root();
    let lists = std::iter::once(root).chain(root.child_elements());
    for list in lists {
        for cors in list.child_elements().filter(|c| c.is("cors")).skip(1) {
            out.push(Diagnostic::new(
                Rule::CorsDuplicate,
                cors.start_tag(),
                format!(
                    "a second `<cors>` in `<{}>`: only the first one applies",
                    list.name()
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::findings;
    use crate::layout::Scope;

    #[test]
    fn flags_the_second_cors_of_a_section() {
        let src = "<policies>\n  <inbound>\n    <cors />\n    <cors />\n  </inbound>\n</policies>";
        assert_eq!(
            findings(src, Scope::Api, "cors-duplicate"),
            ["4:5 a second `<cors>` in `<inbound>`: only the first one applies"]
        );
        assert!(
            findings(
                "<policies><inbound><cors /></inbound></policies>",
                Scope::Api,
                "cors-duplicate"
            )
            .is_empty()
        );
    }
}

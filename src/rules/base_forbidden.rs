//! `base-forbidden`

use crate::rules::{NoOptions, RuleImpl};
use crate::diagnostic::Diagnostic;
use crate::rules::Rule;
use crate::rules::context::Context;
use crate::policy::is_base;
use crate::layout::Scope;

pub const DOC: &str = r#"## What it does
Flags `<base />` in the global (All APIs) policy and in policy fragments.

## Why is this bad?
The global scope has no parent, so `<base />` there has no effect; APIM rejects it with a 400
`ValidationError`. Fragments may not contain `<base />` at all.

## Example
```xml
<!-- policy.xml at the root of an APIOps repo -->
<inbound>
    <base />
    <cors>...</cors>
</inbound>
```
Use instead:
```xml
<inbound>
    <cors>...</cors>
</inbound>
```

## Fix
None: report only. Delete the element.

## References
- https://learn.microsoft.com/azure/api-management/policy-fragments
- https://github.com/MicrosoftDocs/azure-docs/issues/40278
"#;

/// The rule `base-forbidden`.
pub struct BaseForbidden;

impl RuleImpl for BaseForbidden {
    const DOC: &'static str = DOC;
    type Options = NoOptions;

    fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
        check(ctx, out);
    }
}

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    let where_ = match ctx.effective_scope() {
        Scope::Global => "the global policy: it has no parent scope",
        Scope::Fragment => "a fragment: fragments may not hold it",
        Scope::Resolver => "a GraphQL resolver policy: it inherits from no scope",
        _ => return,
    };
    for base in ctx.doc.root().descendants().filter(|e| is_base(*e)) {
        out.push(Diagnostic::new(
            Rule::BaseForbidden,
            base.range(),
            format!("`<base />` in {where_}, and APIM rejects it"),
        ));
    }
}

use crate::text::Ranged;

#[cfg(test)]
mod tests {
    use crate::rules::test_support::findings;
    use crate::layout::Scope;

    #[test]
    fn flags_base_at_global_and_in_fragments_only() {
        let src = "<policies>\n  <inbound>\n    <base />\n  </inbound>\n</policies>";
        assert_eq!(
            findings(src, Scope::Global, "base-forbidden"),
            ["3:5 `<base />` in the global policy: it has no parent scope, and APIM rejects it"]
        );
        assert!(findings(src, Scope::Api, "base-forbidden").is_empty());
        assert!(findings(src, Scope::Unknown, "base-forbidden").is_empty());
        let fragment = "<fragment><base/></fragment>";
        assert_eq!(
            findings(fragment, Scope::Unknown, "base-forbidden"),
            ["1:11 `<base />` in a fragment: fragments may not hold it, and APIM rejects it"]
        );
    }
}

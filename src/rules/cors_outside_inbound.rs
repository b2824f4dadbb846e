//! `cors-outside-inbound`

use crate::rules::{NoOptions, RuleImpl};
use crate::diagnostic::Diagnostic;
use crate::rules::Rule;
use crate::rules::context::Context;
use crate::policy::{Section, section_of};
use crate::syntax::RootKind;

pub const DOC: &str = r#"## What it does
Flags a `<cors>` in `<backend>`, `<outbound>` or `<on-error>`.

## Why is this bad?
APIM allows `cors` in the inbound section only ("Policy section is not allowed in the
specified scope"); the preflight is answered there, before the backend is called.

## Example
```xml
<outbound>
    <cors>...</cors>
</outbound>
```
Use instead:
```xml
<inbound>
    <cors>...</cors>
</inbound>
```

## Fix
None: report only.

## References
- https://learn.microsoft.com/azure/api-management/cors-policy ("Usage")
"#;

/// The rule `cors-outside-inbound`.
pub struct CorsOutsideInbound;

impl RuleImpl for CorsOutsideInbound {
    const DOC: &'static str = DOC;
    type Options = NoOptions;

    fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
        check(ctx, out);
    }
}

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    if ctx.doc.root_kind() != RootKind::Policies {
        return;
    }
    for cors in ctx.doc.root().descendants().filter(|e| e.is("cors")) {
        match section_of(cors) {
            Some(Section::Inbound) => {}
            Some(section) => out.push(Diagnostic::new(
                Rule::CorsOutsideInbound,
                cors.start_tag(),
                format!(
                    "`<cors>` in `<{}>`: APIM allows it in `<inbound>` only",
                    section.tag()
                ),
            )),
            None => out.push(Diagnostic::new(
                Rule::CorsOutsideInbound,
                cors.start_tag(),
                "`<cors>` outside any section: APIM allows it in `<inbound>` only",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::findings;
    use crate::layout::Scope;

    #[test]
    fn flags_cors_outside_inbound() {
        let src = "<policies>\n<inbound><cors /></inbound>\n<outbound><choose><when condition=\"@(true)\"><cors /></when></choose></outbound>\n</policies>";
        assert_eq!(
            findings(src, Scope::Api, "cors-outside-inbound"),
            ["3:45 `<cors>` in `<outbound>`: APIM allows it in `<inbound>` only"]
        );
        assert!(
            findings(
                "<fragment><cors /></fragment>",
                Scope::Fragment,
                "cors-outside-inbound"
            )
            .is_empty()
        );
    }
}

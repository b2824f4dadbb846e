//! `base-duplicate`

use crate::rules::{NoOptions, RuleImpl};
use crate::diagnostic::Diagnostic;
use crate::rules::Rule;
use crate::rules::context::Context;
use crate::policy::{is_base, sections};
use crate::text::Ranged;

pub const DOC: &str = r#"## What it does
Flags a `<base />` that follows another one in the same section: two direct children, or one
direct child and one nested in `<choose>`. Two `<base />` in different branches of one
`<choose>` are fine: only one of them runs.

## Why is this bad?
Each `<base />` runs the parent scope's whole section: its rate limits count twice, headers
are set twice, and its `<cors>` runs twice.

## Example
```xml
<inbound>
    <base />
    <set-header name="x" exists-action="override"><value>1</value></set-header>
    <base />
</inbound>
```
Use instead:
```xml
<inbound>
    <base />
    <set-header name="x" exists-action="override"><value>1</value></set-header>
</inbound>
```

## Fix
None: report only, since which of the two is meant cannot be known.

## References
- https://learn.microsoft.com/azure/api-management/api-management-howto-policies ("the `base`
  element")
"#;

/// The rule `base-duplicate`.
pub struct BaseDuplicate;

impl RuleImpl for BaseDuplicate {
    const DOC: &'static str = DOC;
    type Options = NoOptions;

    fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
        check(ctx, out);
    }
}

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    for (section, el) in sections(ctx.doc) {
        let direct: Vec<_> = el.child_elements().filter(|c| is_base(*c)).collect();
        let nested: Vec<_> = el
            .descendants()
            .filter(|d| is_base(*d) && d.parent().map(|p| p.id()) != Some(el.id()))
            .collect();
        let extra = direct.iter().skip(1).chain(if direct.is_empty() {
            [].iter()
        } else {
            nested.iter()
        });
        for base in extra {
            out.push(Diagnostic::new(
                Rule::BaseDuplicate,
                base.range(),
                format!(
                    "a second `<base />` in `<{}>` runs the parent's policies twice",
                    section.tag()
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
    fn flags_the_second_base_but_not_choose_branches() {
        let src = "<policies>\n<inbound>\n<base />\n<base />\n</inbound>\n<outbound><choose><when condition=\"@(true)\"><base /></when><otherwise><base /></otherwise></choose></outbound>\n</policies>";
        assert_eq!(
            findings(src, Scope::Api, "base-duplicate"),
            ["4:1 a second `<base />` in `<inbound>` runs the parent's policies twice"]
        );
        let mixed = "<policies><inbound><base /><choose><when condition=\"@(true)\"><base /></when></choose></inbound></policies>";
        assert_eq!(findings(mixed, Scope::Api, "base-duplicate").len(), 1);
    }
}

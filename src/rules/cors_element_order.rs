//! `cors-element-order`

use crate::diagnostic::Diagnostic;
use crate::fix::Fix;
use crate::policy::move_before;
use crate::rules::context::Context;
use crate::rules::{FixAvailability, NoOptions, Rule, RuleImpl};

pub const DOC: &str = r#"## What it does
Flags a `<cors>` whose child elements are not in the order of the policy statement:
`<allowed-origins>`, `<allowed-methods>`, `<allowed-headers>`, `<expose-headers>`.

## Why is this bad?
The policy reference asks to "set the policy's elements and child elements in the order
provided in the policy statement", and the portal's form-based editor relies on that order: a
policy edited by hand with the elements in another order may be misread there, and is harder
to compare with the documented statement.

## Example
```xml
<cors>
    <allowed-headers><header>content-type</header></allowed-headers>
    <allowed-origins><origin>https://app.contoso.com</origin></allowed-origins>
</cors>
```
Use instead:
```xml
<cors>
    <allowed-origins><origin>https://app.contoso.com</origin></allowed-origins>
    <allowed-headers><header>content-type</header></allowed-headers>
</cors>
```

## Fix
Moves the first misplaced element (as whole lines, with the comments directly above it) above
the first element that should follow it; the fix loop repeats until the order is right.

## Fix safety
Safe: the order of these elements does not change what `<cors>` allows.
With the repo known, the fix is offered only when composing each chain through the file
before and after shows that every statement outside `<cors>` is unchanged and in place.

## References
- https://learn.microsoft.com/azure/api-management/cors-policy ("Set the policy's elements
  and child elements in the order provided in the policy statement")
"#;

/// The documented order of `<cors>`'s children.
const ORDER: [&str; 4] = [
    "allowed-origins",
    "allowed-methods",
    "allowed-headers",
    "expose-headers",
];

/// The rule `cors-element-order`.
pub struct CorsElementOrder;

impl RuleImpl for CorsElementOrder {
    const DOC: &'static str = DOC;
    const FIX: FixAvailability = FixAvailability::Sometimes;
    type Options = NoOptions;

    fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
        check(ctx, out);
    }
}

fn rank(name: &str) -> Option<usize> {
    ORDER.iter().position(|o| o.eq_ignore_ascii_case(name))
}

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    for cors in ctx.doc.root().descendants().filter(|e| e.is("cors")) {
        // Unknown children keep their place and are not compared.
        let known: Vec<_> = cors
            .child_elements()
            .filter_map(|c| Some((rank(c.name())?, c)))
            .collect();
        let misplaced = known
            .iter()
            .enumerate()
            .find(|(i, (r, _))| known[..*i].iter().any(|(earlier, _)| earlier > r));
        let Some((i, &(r, el))) = misplaced else {
            continue;
        };
        let Some(&(_, target)) = known[..i].iter().find(|(earlier, _)| *earlier > r) else {
            continue;
        };
        let (insert, delete) = move_before(ctx.doc, el, target);
        out.push(
            Diagnostic::new(
                Rule::CorsElementOrder,
                el.start_tag(),
                format!(
                    "`<{}>` comes after `<{}>` in `<cors>`; the policy statement puts it before",
                    el.name(),
                    target.name()
                ),
            )
            .with_fix(
                format!("Move `<{}>` above `<{}>`", el.name(), target.name()),
                Fix::safe(insert, [delete]),
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::{findings, fix_all};
    use crate::layout::Scope;

    const SRC: &str = "<policies>\n    <inbound>\n        <cors>\n            <expose-headers><header>x-a</header></expose-headers>\n            <!-- what the SPA sends -->\n            <allowed-headers><header>content-type</header></allowed-headers>\n            <allowed-origins><origin>https://app.contoso.com</origin></allowed-origins>\n        </cors>\n    </inbound>\n</policies>\n";

    #[test]
    fn flags_the_first_misplaced_child() {
        assert_eq!(
            findings(SRC, Scope::Global, "cors-element-order"),
            [
                "6:13 `<allowed-headers>` comes after `<expose-headers>` in `<cors>`; the policy statement puts it before"
            ]
        );
    }

    #[test]
    fn reorders_to_the_documented_order_with_comments() {
        assert_eq!(
            fix_all(SRC, Scope::Global),
            "<policies>\n    <inbound>\n        <cors>\n            <allowed-origins><origin>https://app.contoso.com</origin></allowed-origins>\n            <!-- what the SPA sends -->\n            <allowed-headers><header>content-type</header></allowed-headers>\n            <expose-headers><header>x-a</header></expose-headers>\n        </cors>\n    </inbound>\n</policies>\n"
        );
    }
}

//! `cors-shadowed`

use crate::repo::{Event, EventKind};
use crate::rules::{ChainCheck, Kind, NoOptions, RepoFindings, Rule, RuleImpl};
use crate::syntax::ElementRef;

pub const DOC: &str = r#"## What it does
Flags a `<cors>` that never applies because an earlier `<cors>` in the same effective
inbound section wins: for example an API's own `<cors>` placed after `<base />` while the global
policy has one, so the global one runs first.

This is a cross-scope finding: it needs the whole repo (`apimfix check REPO`), which composes
the effective policy of every chain (global, workspace, product, API, operation).

## Why is this bad?
"Generally, only the first `cors` policy is applied": the later one's origins and headers are
dead configuration, and whoever edits it sees no effect.

## Example
```xml
<!-- apis/orders/policy.xml; the global policy has its own <cors> -->
<inbound>
    <base />
    <cors>...</cors>
</inbound>
```
Use instead: one `<cors>` per chain, or put the narrower one above `<base />` when it must win.

## Fix
None: report only (which one should win is a decision).

## References
- https://learn.microsoft.com/azure/api-management/cors-policy
"#;

/// The rule `cors-shadowed`.
pub struct CorsShadowed;

impl RuleImpl for CorsShadowed {
    const DOC: &'static str = DOC;
    const KIND: Kind = Kind::CrossScope;
    type Options = NoOptions;

    /// A later `<cors>` that an earlier one from another file always beats.
    fn check_chain(chain: &ChainCheck<'_>, out: &mut RepoFindings) {
        let Some(first) = chain.first_cors else {
            return;
        };
        let cors: Vec<&Event> = chain.events()[first..]
            .iter()
            .filter(|e| e.kind == EventKind::Cors)
            .collect();
        for (k, later) in cors.iter().enumerate().skip(1) {
            let winner = cors[..k].iter().find(|earlier| {
                earlier.element != later.element
                    && earlier.element.file != later.element.file
                    && terminates(chain.element(earlier.element))
            });
            let Some(winner) = winner else { continue };
            let message = format!(
                "`<cors>` never applies: the `<cors>` of {} runs first",
                chain.repo.describe(winner.pointer())
            );
            let at = chain.element(later.pointer()).start_tag();
            chain.report(out, Rule::CorsShadowed, later.home(), at, message);
        }
    }
}

/// Whether an earlier `<cors>` stops the search for others: only an explicit
/// `terminate-unmatched-request="false"` lets APIM fall through to the next `<cors>`.
fn terminates(cors: ElementRef<'_>) -> bool {
    !cors
        .attr("terminate-unmatched-request")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("false"))
}

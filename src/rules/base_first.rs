//! `base-first`

use serde::{Deserialize, Serialize};
use crate::policy::Section;
use crate::repo::EventKind;
use crate::rules::{ChainCheck, RepoFindings, FixAvailability, RuleImpl};
use crate::diagnostic::Diagnostic;
use crate::fix::{Applicability, Fix};
use crate::syntax::ElementRef;
use crate::text::Ranged;
use crate::rules::Rule;
use crate::rules::context::Context;
use crate::policy::{is_base, move_before};
use crate::rules::variables::Sets;

pub const DOC: &str = r#"## What it does
Flags a gate policy (see `cors-first`) that runs before `<base />` in the inbound section of a
product, API, operation or workspace policy, while a broader scope has the `<cors>`.

## Why is this bad?
The inherited `<cors>` runs where `<base />` stands. A product's `<rate-limit>` or `<quota>`
placed above `<base />` rejects calls before the global `<cors>` ran, so those responses lack
CORS headers and the browser shows a "CORS error" instead of the 429 or 403.

The rule needs to know that an ancestor has `<cors>`: it fires when the whole repo is given
(its global policy decides), or on single files when `base-first.global-has-cors` is set.

## Example
```xml
<!-- products/starter/policy.xml; the global policy has <cors> -->
<inbound>
    <rate-limit calls="5" renewal-period="60" />
    <quota calls="100" renewal-period="604800" />
    <base />
</inbound>
```
Use instead:
```xml
<inbound>
    <base />
    <rate-limit calls="5" renewal-period="60" />
    <quota calls="100" renewal-period="604800" />
</inbound>
```

## Fix
Moves `<base />` (as a whole line, with the comments directly above it) directly above the
first gate. A `<base />` nested in `<choose>` is reported without a fix.

A `<return-response>` or `<mock-response>` that sets `Access-Control-Allow-Origin` itself
(not with `exists-action="delete"`) answers CORS on its own: it is not reported, nor a
`<choose>` whose every gate is such a response; a gate after them still is.

## Fix safety
Safe for CORS; note that the parent's other inbound policies now also run before the gate,
which is the order APIM's editor suggests (`<base />` first). Unsafe (applied with
`--unsafe-fixes` only; the fix's title says why):

- when a `<return-response>` or `<mock-response>` runs before `<base />`: such an operation
  often answers without the parent's policies on purpose (an anonymous metadata endpoint),
  and moving `<base />` above it runs them all first, the parent's authentication included;
- when a statement moved over sets a variable (`<set-variable>`, or an attribute naming an
  output variable: `output-token-variable-name` of `validate-jwt`,
  `remaining-calls-variable-name`, `variable-name`, ...) that a parent's statement reads: it
  would read nothing once the parents run first. Without the repo the parents are unknown,
  so any such variable makes the fix unsafe.

Like every fix, it is offered only when composing each chain through the file before and
after shows the same statements, the same winning `<cors>` and no more gates before it.

A local `<cors>` after `<base />` never wins over the inherited one; the gate is then
reported here, with the fix that moves `<base />` above it (`cors-first` offers none: moving
that `<cors>` above `<base />` would change which `<cors>` wins).

When the `<base />` is inside a `<choose>` holding the gate, the message names the gate that
runs before it in that `<choose>` (no fix).

## References
- https://learn.microsoft.com/azure/api-management/api-management-howto-policies
- https://learn.microsoft.com/azure/api-management/cors-policy
"#;

/// The rule `base-first`.
pub struct BaseFirst;

impl RuleImpl for BaseFirst {
    const DOC: &'static str = DOC;
    const FIX: FixAvailability = FixAvailability::Sometimes;
    type Options = BaseFirstOptions;

    fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
        check(ctx, out);
    }

    /// Gates and `<cors>` of different files, in the order a chain runs them. A gate in a
    /// narrower file than the winning `<cors>` is the per-file check's, unless that file has
    /// its own `<cors>` (then the per-file check stands down for `cors-first`); a gate that a
    /// broader file's `<base />` runs before a narrower `<cors>` is only seen here, and the
    /// finding points at that `<cors>`, which must move above its `<base />`.
    fn check_chain(chain: &ChainCheck<'_>, out: &mut RepoFindings) {
        let Some(first) = chain.first_cors else {
            return;
        };
        let repo = chain.repo;
        let events = chain.events();
        let cors = &events[first];
        for gate in events[..first].iter().filter(|e| e.kind == EventKind::Gate) {
            if gate.home() == cors.home() {
                continue; // One file: `cors-first`.
            }
            let gate_name = chain.element(gate.element).name();
            if gate.level < cors.level {
                // The per-file check stands down for a local `<cors>` before `<base />` only.
                let has_own_cors = repo
                    .section_of(gate.home(), Section::Inbound)
                    .is_some_and(|inbound| {
                        let children: Vec<_> = inbound.child_elements().collect();
                        let base = children.iter().position(|c| is_base(*c));
                        children
                            .iter()
                            .position(|c| c.is("cors"))
                            .is_some_and(|at| base.is_none_or(|b| at < b))
                    });
                if !has_own_cors {
                    continue; // The per-file check reports it, with a fix.
                }
                let brought = repo.brought(gate, &format!("`<{gate_name}>`"));
                let message = format!(
                    "{brought} in {} runs before the `<cors>` of {} that `<base />` brings in, so calls it rejects get no CORS headers",
                    repo.file(gate.home()).label(),
                    repo.describe(cors.pointer()),
                );
                let at = chain.element(gate.pointer()).start_tag();
                chain.report(out, Rule::BaseFirst, gate.home(), at, message);
            } else {
                let message = format!(
                    "`<cors>` runs after `<{gate_name}>` of {}, which `<base />` brings in first, so calls it rejects get no CORS headers",
                    repo.describe(gate.pointer()),
                );
                let at = chain.element(cors.pointer()).start_tag();
                chain.report(out, Rule::BaseFirst, cors.home(), at, message);
            }
        }
    }
}

/// Options of `base-first`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct BaseFirstOptions {
    /// Say that the global policy has `<cors>`, for runs on single files where the repo is
    /// not known. When the repo is known, its global policy decides.
    pub global_has_cors: bool,
}

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    if !ctx.effective_scope().has_parent() {
        return;
    }
    let inherits_cors = ctx
        .facts
        .ancestor_has_cors
        .unwrap_or_else(|| ctx.settings.base_first.options().global_has_cors);
    if !inherits_cors {
        return;
    }
    let Some(inbound) = ctx.doc.root().child("inbound") else {
        return;
    };
    let children: Vec<_> = inbound.child_elements().collect();
    // A response that answers CORS itself is not a gate here; a gate after it still is.
    let Some(gate_at) = children
        .iter()
        .position(|c| ctx.is_gate(*c) && !answers_cors_itself(ctx, *c))
    else {
        return;
    };
    // A local `<cors>` before `<base />` is `cors-first`'s to move above the gates; it must
    // keep running before the inherited one, so `<base />` is not moved above it. A local
    // `<cors>` after `<base />` never wins over an inherited one: the inherited `<cors>` is the
    // one to run before the gate, so the fix goes where the gate is (issue #12).
    let first_base = children.iter().position(|c| is_base(*c));
    let local_cors_first = children
        .iter()
        .position(|c| c.is("cors"))
        .is_some_and(|at| first_base.is_none_or(|b| at < b));
    if local_cors_first || children[..gate_at].iter().any(|c| is_base(*c)) {
        return;
    }
    let gate = children[gate_at];
    // The `<base />` is inside the gate element (a `<choose>`): only a gate before it in that
    // element runs before it, and the message names that one, not the `<choose>`.
    if let Some(nested_base) = gate.descendants().find(|d| is_base(*d)) {
        let before = gate.descendants().find(|d| {
            d.range().start() < nested_base.range().start()
                && ctx.gates().rejects(*d)
                && !answers_cors_itself(ctx, *d)
        });
        if let Some(inner) = before {
            let message = format!(
                "`<{}>` runs before the `<base />` inside the same `<{}>`: {} the inherited `<cors>`, and the browser reports a CORS error",
                inner.name(),
                gate.name(),
                crate::rules::cors_first::what_it_ends(inner.name(), "miss", "misses")
            );
            out.push(Diagnostic::new(Rule::BaseFirst, inner.start_tag(), message));
        }
        return;
    }
    let message = format!(
        "`<{}>` runs before `<base />`: {} the inherited `<cors>`, and the browser reports a CORS error",
        gate.name(),
        crate::rules::cors_first::what_it_ends(gate.name(), "miss", "misses")
    );
    let diagnostic = Diagnostic::new(Rule::BaseFirst, gate.start_tag(), message);
    match children[gate_at..].iter().copied().find(|c| is_base(*c)) {
        Some(base) => {
            let (insert, delete) = move_before(ctx.doc, base, gate);
            let base_at = children
                .iter()
                .position(|c| c.id() == base.id())
                .unwrap_or(children.len());
            // A response made before `<base />` may skip the parent's policies on purpose.
            let responds = children[gate_at..base_at]
                .iter()
                .any(|c| is_response(*c) || c.descendants().any(is_response));
            // A statement moved over that sets a variable the parents read.
            let variables = Sets::of(ctx, &children[gate_at..base_at])
                .conflict_with_parents(ctx.facts.inherited_in(Section::Inbound));
            let (title, applicability) = if responds {
                (
                    format!(
                        "Move `<base />` above `<{}>` (unsafe: the parent's policies, its authentication too, then run before the response)",
                        gate.name()
                    ),
                    Applicability::Unsafe,
                )
            } else if let Some(why) = variables {
                (
                    format!("Move `<base />` above `<{}>` (unsafe: {why})", gate.name()),
                    Applicability::Unsafe,
                )
            } else {
                (
                    format!("Move `<base />` above `<{}>`", gate.name()),
                    Applicability::Safe,
                )
            };
            out.push(diagnostic.with_fix(title, Fix::new(applicability, insert, [delete])));
        }
        // No direct `<base />`: base-missing inserts one first, or it is nested in `<choose>`.
        None if inbound.descendants().any(is_base) => out.push(diagnostic),
        None => {}
    }
}

/// A policy that ends the call with its own response.
fn is_response(el: ElementRef<'_>) -> bool {
    el.is("return-response") || el.is("mock-response")
}

/// A response policy that sets `Access-Control-Allow-Origin` itself (CORS is answered
/// there), or an element (a `<choose>`) whose every gate is such a response.
fn answers_cors_itself(ctx: &Context, el: ElementRef<'_>) -> bool {
    let sets_origin = |d: ElementRef<'_>| {
        d.is("set-header")
            && d.attr("name")
                .is_some_and(|n| n.trim().eq_ignore_ascii_case("Access-Control-Allow-Origin"))
            && !d
                .attr("exists-action")
                .is_some_and(|a| a.trim().eq_ignore_ascii_case("delete"))
    };
    let answers = |r: ElementRef<'_>| is_response(r) && r.descendants().any(sets_origin);
    if is_response(el) {
        return answers(el);
    }
    let gates = ctx.gates();
    let mut inner = el
        .descendants()
        .filter(|d| gates.is_gate(d.name()) || d.is("include-fragment"))
        .peekable();
    inner.peek().is_some() && inner.all(answers)
}

#[cfg(test)]
mod tests {
    use crate::repo::RepoFacts;
    use crate::rules::test_support::{findings_with, fix_with};
    use crate::layout::Scope;

    const PRODUCT: &str = "<policies>\r\n\t<inbound>\r\n\t\t<rate-limit calls=\"5\" renewal-period=\"60\" />\r\n\t\t<quota calls=\"100\" renewal-period=\"604800\" />\r\n\t\t<base />\r\n\t</inbound>\r\n</policies>\r\n";

    fn facts(ancestor_has_cors: Option<bool>) -> RepoFacts {
        RepoFacts {
            ancestor_has_cors,
            ..Default::default()
        }
    }

    #[test]
    fn needs_an_ancestor_cors() {
        let config = Default::default();
        assert!(
            findings_with(PRODUCT, Scope::Product, &config, &facts(None), "base-first").is_empty()
        );
        assert!(
            findings_with(
                PRODUCT,
                Scope::Product,
                &config,
                &facts(Some(false)),
                "base-first"
            )
            .is_empty()
        );
        assert_eq!(
            findings_with(
                PRODUCT,
                Scope::Product,
                &config,
                &facts(Some(true)),
                "base-first"
            )
            .len(),
            1
        );
        let said: crate::rules::RuleSettings =
            yaml_serde::from_str("base-first:\n  global-has-cors: true\n").unwrap();
        assert_eq!(
            findings_with(PRODUCT, Scope::Product, &said, &facts(None), "base-first").len(),
            1
        );
    }

    #[test]
    fn moves_base_above_the_first_gate_keeping_crlf_and_tabs() {
        let fixed = fix_with(
            PRODUCT,
            Scope::Product,
            &Default::default(),
            &facts(Some(true)),
        );
        assert_eq!(
            fixed,
            "<policies>\r\n\t<inbound>\r\n\t\t<base />\r\n\t\t<rate-limit calls=\"5\" renewal-period=\"60\" />\r\n\t\t<quota calls=\"100\" renewal-period=\"604800\" />\r\n\t</inbound>\r\n</policies>\r\n"
        );
    }

    #[test]
    fn a_local_cors_after_the_gate_keeps_priority_over_the_inherited_one() {
        // Review finding: moving `<base />` above the gate put the inherited `<cors>` first.
        let src = "<policies>\n  <inbound>\n    <rate-limit calls=\"1\" renewal-period=\"1\" />\n    <cors>\n      <allowed-origins><origin>https://api.contoso.com</origin></allowed-origins>\n    </cors>\n    <base />\n  </inbound>\n</policies>\n";
        let fixed = fix_with(src, Scope::Api, &Default::default(), &facts(Some(true)));
        let (cors, gate, base) = (
            fixed.find("<cors>").unwrap(),
            fixed.find("<rate-limit").unwrap(),
            fixed.find("<base />").unwrap(),
        );
        assert!(cors < gate && cors < base, "{fixed}");
    }

    #[test]
    fn a_local_cors_first_is_fine() {
        let src = "<policies><inbound><cors /><rate-limit calls=\"5\" renewal-period=\"60\" /><base /></inbound></policies>";
        assert!(
            findings_with(
                src,
                Scope::Api,
                &Default::default(),
                &facts(Some(true)),
                "base-first"
            )
            .is_empty()
        );
    }

    const ANONYMOUS: &str = "<policies>\n  <inbound>\n    <return-response>\n      <set-status code=\"200\" />\n    </return-response>\n    <base />\n  </inbound>\n</policies>\n";

    #[test]
    fn moving_base_above_a_response_is_unsafe() {
        let settings = Default::default();
        let found = findings_with(ANONYMOUS, Scope::Operation, &settings, &facts(Some(true)), "base-first");
        assert_eq!(found.len(), 1, "{found:?}");
        // Safe fixes only: the response keeps running without the parent's policies.
        assert_eq!(
            fix_with(ANONYMOUS, Scope::Operation, &settings, &facts(Some(true))),
            ANONYMOUS
        );
    }

    #[test]
    fn a_response_that_sets_its_own_cors_headers_is_not_reported() {
        let src = ANONYMOUS.replace(
            "<set-status code=\"200\" />",
            "<set-status code=\"204\" />\n      <set-header name=\"Access-Control-Allow-Origin\" exists-action=\"override\"><value>*</value></set-header>",
        );
        let found = findings_with(&src, Scope::Operation, &Default::default(), &facts(Some(true)), "base-first");
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn a_deleted_origin_header_answers_nothing_and_a_gate_after_a_cors_answer_counts() {
        let deletes = ANONYMOUS.replace(
            "<set-status code=\"200\" />",
            "<set-status code=\"200\" />\n      <set-header name=\"Access-Control-Allow-Origin\" exists-action=\"delete\" />",
        );
        let settings = Default::default();
        assert_eq!(
            findings_with(&deletes, Scope::Operation, &settings, &facts(Some(true)), "base-first").len(),
            1
        );
        let choose = "<policies>\n  <inbound>\n    <choose>\n      <when condition=\"@(true)\">\n        <return-response>\n          <set-status code=\"403\" />\n          <set-header name=\"Access-Control-Allow-Origin\" exists-action=\"override\"><value>*</value></set-header>\n        </return-response>\n      </when>\n    </choose>\n    <rate-limit calls=\"1\" renewal-period=\"1\" />\n    <base />\n  </inbound>\n</policies>\n";
        let found = findings_with(choose, Scope::Api, &settings, &facts(Some(true)), "base-first");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("`<rate-limit>`"), "{found:?}");
        let fixed = fix_with(choose, Scope::Api, &settings, &facts(Some(true)));
        assert!(fixed.contains("    <base />\n    <rate-limit"), "{fixed}");
    }

    #[test]
    fn a_base_inside_the_choose_is_not_said_to_run_after_it() {
        let src = "<policies>\n  <inbound>\n    <choose>\n      <when condition=\"@(true)\">\n        <base />\n      </when>\n      <otherwise>\n        <base />\n      </otherwise>\n    </choose>\n  </inbound>\n</policies>\n";
        let settings = Default::default();
        // `ip-filter` is not in this choose: nothing runs before either `<base />`.
        assert!(findings_with(src, Scope::Api, &settings, &facts(Some(true)), "base-first").is_empty());
        let gated = src.replace(
            "<when condition=\"@(true)\">\n        <base />",
            "<when condition=\"@(true)\">\n        <rate-limit calls=\"1\" renewal-period=\"1\" />\n        <base />",
        );
        let found = findings_with(&gated, Scope::Api, &settings, &facts(Some(true)), "base-first");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("5:9 `<rate-limit>` runs before the `<base />` inside the same `<choose>`"),
            "{found:?}"
        );
        assert!(!found[0].contains("`<choose>` runs before"), "{found:?}");
    }

    #[test]
    fn moving_base_over_a_gate_whose_output_variable_the_parent_reads_is_unsafe() {
        use crate::policy::Section;
        use crate::repo::Inherited;
        let src = "<policies>\n  <inbound>\n    <validate-jwt header-name=\"Authorization\" output-token-variable-name=\"jwt\" />\n    <base />\n  </inbound>\n</policies>\n";
        let parent = |reads: &[&str]| Inherited {
            name: "set-header".to_owned(),
            file: "policy.xml".to_owned(),
            line: 5,
            nested: vec![],
            reads: reads.iter().map(|r| (*r).to_owned()).collect(),
            reads_unknown: false,
            sets: vec![],
        };
        let with = |reads: &[&str]| RepoFacts {
            ancestor_has_cors: Some(true),
            inherited: Some(
                Section::ALL
                    .into_iter()
                    .map(|s| (s, if s == Section::Inbound { vec![parent(reads)] } else { vec![] }))
                    .collect(),
            ),
            ..Default::default()
        };
        let settings = Default::default();
        // The parent reads `jwt`: unsafe, only `--unsafe-fixes` moves it.
        assert_eq!(fix_with(src, Scope::Api, &settings, &with(&["jwt"])), src);
        // The parent reads something else: safe.
        assert_ne!(fix_with(src, Scope::Api, &settings, &with(&["other"])), src);
        // No repo: the parents are unknown, and `validate-jwt` sets a variable: unsafe.
        assert_eq!(fix_with(src, Scope::Api, &settings, &facts(Some(true))), src);
    }
}

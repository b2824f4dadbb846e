//! `base-missing`

use crate::rules::{FixAvailability, NoOptions, RuleImpl};
use crate::diagnostic::Diagnostic;
use crate::fix::Fix;
use crate::rules::Rule;
use crate::rules::context::Context;
use crate::policy::{
    Section, indent_unit, insert_after, insert_child_at, insert_first_child, is_base,
    own_line_indent, sections,
};
use crate::layout::Scope;
use crate::repo::Inherited;
use crate::syntax::{Document, ElementRef, NodeId, NodeKind};
use crate::text::Ranged;

pub const DOC: &str = r#"## What it does
Flags a section (`inbound`, `backend`, `outbound`, `on-error`) of an operation, API, product
or workspace policy that holds no `<base />`.

## Why is this bad?
`<base />` is where APIM runs the parent scope's policies for that section. Without it, none
of them run: a `<cors>` at global scope never answers for this API, so the browser reports a
CORS error. APIM saves such a policy without a warning.

A section missing from the policy altogether is reported too, when the repo shows that the
parent scopes run something there: a missing section runs nothing, inherited statements
included. Microsoft's documentation says so of `on-error` ("If there is no `on-error`
section, callers will receive 400 or 500 HTTP response messages if an error condition
occurs", see References); `apimfix effective` composes every missing section the same way.

A `<base />` inside a comment or an expression does not count; one nested in `<choose>` does.
The rule is silent at global scope and in fragments (where `<base />` is forbidden) and when
the scope of the file is unknown (see `check -v`).

## Example
```xml
<policies>
    <inbound>
        <rate-limit calls="10" renewal-period="60" />
    </inbound>
    <backend />
    ...
```
Use instead:
```xml
<policies>
    <inbound>
        <base />
        <rate-limit calls="10" renewal-period="60" />
    </inbound>
    <backend>
        <base />
    </backend>
    ...
```

## Fix
A missing section is added, holding `<base />`, in the order of the sections. Otherwise
inserts `<base />` as the first child of the section, on its own line, indented like its
siblings. In an `inbound` that has its own `<cors>`, `<base />` goes right after that
`<cors>`, so the local `<cors>` keeps running before an inherited one (teams that dropped `<base />` to avoid a
conflicting inherited `<cors>` keep their behaviour). A `<backend>` that already holds a
policy (say, its own `<forward-request>`) is left alone: APIM allows one policy there, so such
a backend deliberately replaces the parent's.

When the repo is known, the message lists what `<base />` turns on: every statement the
parent scopes run in that section, over every chain through the file
(`turns on ip-filter (policy.xml:4), cors (policy.xml:8)`).

No fix (the finding stays, and says why):

- a section holding a commented-out `<base />` (`<!-- <base /> -->`): an explicit opt-out; the
  message quotes the comments next to it, which usually give the reason;
- an empty `<backend>` of a policy that makes its own response (`<return-response>`,
  `<mock-response>`): it forwards nothing on purpose, and `<base />` would turn forwarding
  back on;
- a fix whose semantic check fails (see `apimfix rule cors-first`, "Fix safety": every chain
  is composed before and after; here what comes in must be exactly the parents' statements).

## Fix safety
Safe only when what `<base />` turns on changes nothing but CORS and the like: unsafe
(applied with `--unsafe-fixes` only, and the fix's title says why) when the parents run, at
any depth, a policy that changes who may call or how the call goes: `ip-filter`,
`validate-jwt`, `validate-azure-ad-token`, `validate-client-certificate`, `check-header`,
`authentication-*`, `get-authorization-context`, rate limits and quotas (`rate-limit*`,
`quota*`, `llm-token-limit`, `azure-openai-token-limit`, `limit-concurrency`),
`return-response`, `mock-response`, `set-backend-service`, `rewrite-uri`, `set-method`,
`forward-request`, and the content validation policies. Also unsafe when the repo is not
known (a single file or stdin outside an APIOps repo): what the parents run cannot be seen.

To keep a section without `<base />` on purpose, comment it out with a reason
(`<!-- <base /> --> <!-- no parent headers here -->`), put
`<!-- apimfix-ignore: base-missing -->` above the section, or
`<!-- apimfix-ignore-file: base-missing -->` anywhere in the file.

## References
- https://learn.microsoft.com/azure/api-management/api-management-error-handling-policies
  (a missing `on-error` section: the caller gets APIM's own 400 or 500)
- https://learn.microsoft.com/azure/api-management/api-management-howto-policies
- https://learn.microsoft.com/azure/api-management/set-edit-policies
"#;

/// The rule `base-missing`.
pub struct BaseMissing;

impl RuleImpl for BaseMissing {
    const DOC: &'static str = DOC;
    const FIX: FixAvailability = FixAvailability::Sometimes;
    type Options = NoOptions;

    fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
        check(ctx, out);
    }
}

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    if !ctx.effective_scope().has_parent() {
        return;
    }
    let doc = ctx.doc;
    missing_sections(ctx, out);
    for (section, el) in sections(doc) {
        if el.descendants().any(is_base) {
            continue;
        }
        if section == Section::Backend && el.child_elements().next().is_some() {
            continue;
        }
        let mut message = format!(
            "`<{}>` has no `<base />`: the {} scope's `<{}>` policies never run",
            section.tag(),
            parent_name(ctx.effective_scope()),
            section.tag()
        );
        // `<!-- <base /> -->`: taken out on purpose, and the comments around it say why.
        if let Some(reason) = commented_out_base(doc, el) {
            message.push_str(&format!(
                "; `<base />` is commented out here, an explicit opt-out{reason}: no fix"
            ));
            out.push(Diagnostic::new(Rule::BaseMissing, el.start_tag(), message));
            continue;
        }
        // An empty `<backend>` in a policy that answers calls itself does not forward on
        // purpose: `<base />` would turn forwarding back on.
        if section == Section::Backend && answers_itself(doc) {
            message.push_str(
                "; the policy makes its own response and its empty `<backend>` forwards nothing on purpose: no fix",
            );
            out.push(Diagnostic::new(Rule::BaseMissing, el.start_tag(), message));
            continue;
        }
        let effect = Effect::of(ctx, section);
        message.push_str(&effect.describe());
        let edit = match local_cors(section, el) {
            Some(cors) => match el
                .child_elements()
                .skip_while(|c| c.id() != cors.id())
                .nth(1)
            {
                Some(next) => insert_child_at(doc, el, Some(next.range()), "<base />"),
                None => insert_after(doc, cors, "<base />"),
            },
            None => insert_first_child(doc, el, "<base />"),
        };
        let (title, fix) = match effect.unsafe_because() {
            Some(why) => (
                format!("Insert `<base />` (unsafe: {why})"),
                Fix::unsafe_(edit, []),
            ),
            None => ("Insert `<base />`".to_owned(), Fix::safe(edit, [])),
        };
        out.push(Diagnostic::new(Rule::BaseMissing, el.start_tag(), message).with_fix(title, fix));
    }
}

/// Sections missing from a `<policies>` document: such a section runs nothing, inherited
/// statements included (see `apimfix rule base-missing`, References). Reported when the repo
/// shows that the parent scopes run something there, with a fix that adds the section
/// holding `<base />`.
fn missing_sections(ctx: &Context, out: &mut Vec<Diagnostic>) {
    let doc = ctx.doc;
    let root = doc.root();
    if doc.root_kind() != crate::syntax::RootKind::Policies {
        return;
    }
    let present: Vec<(Section, ElementRef<'_>)> = sections(doc).collect();
    for section in Section::ALL {
        if present.iter().any(|(s, _)| *s == section) {
            continue;
        }
        let effect = Effect::of(ctx, section);
        let Effect::Known(found) = effect else { continue };
        if found.is_empty() {
            continue;
        }
        let message = format!(
            "`<{}>` has no `<{}>` section, so none of the parent scopes' `<{}>` policies run{}",
            root.name(),
            section.tag(),
            section.tag(),
            effect.describe()
        );
        let eol = doc.line_ending().as_str();
        let unit = indent_unit(doc);
        let before = present.iter().rev().find(|(s, _)| *s < section).map(|(_, e)| *e);
        let after = present.iter().find(|(s, _)| *s > section).map(|(_, e)| *e);
        let sibling = before.or(after);
        let edit = match sibling.and_then(|e| own_line_indent(doc, e)) {
            Some(indent) => {
                let text = format!(
                    "<{tag}>{eol}{indent}{unit}<base />{eol}{indent}</{tag}>",
                    tag = section.tag()
                );
                match (before, after) {
                    (Some(prev), _) => insert_after(doc, prev, &text),
                    (None, Some(next)) => insert_child_at(doc, root, Some(next.range()), &text),
                    (None, None) => insert_first_child(doc, root, &text),
                }
            }
            None => {
                let text = format!("<{tag}><base /></{tag}>", tag = section.tag());
                match (before, after) {
                    (Some(prev), _) => crate::fix::Edit::insertion(prev.range().end(), text),
                    (None, Some(next)) => crate::fix::Edit::insertion(next.range().start(), text),
                    (None, None) => insert_first_child(doc, root, &text),
                }
            }
        };
        let title = format!("Add `<{}>` with `<base />`", section.tag());
        let (title, fix) = match effect.unsafe_because() {
            Some(why) => (format!("{title} (unsafe: {why})"), Fix::unsafe_(edit, [])),
            None => (title, Fix::safe(edit, [])),
        };
        out.push(
            Diagnostic::new(Rule::BaseMissing, root.start_tag(), message).with_fix(title, fix),
        );
    }
}

/// The policies that change who may call or how the call goes: `<base />` turning one of
/// them on is more than restoring CORS. They are `cors-first`'s default gates (each may
/// answer a call itself) and these, which authenticate to the backend or route the call.
const ROUTING_AND_BACKEND_AUTH: &[&str] = &[
    "authentication-basic",
    "authentication-certificate",
    "authentication-managed-identity",
    "get-authorization-context",
    "set-backend-service",
    "rewrite-uri",
    "forward-request",
    "set-method",
];

fn changes_access(name: &str) -> bool {
    super::cors_first::DEFAULT_GATES.contains(&name) || ROUTING_AND_BACKEND_AUTH.contains(&name)
}

/// What inserting `<base />` in a section turns on: the parents' statements there.
enum Effect<'a> {
    /// The repo is not known: what the parents run cannot be seen.
    Unknown,
    Known(&'a [Inherited]),
}

impl<'a> Effect<'a> {
    fn of(ctx: &Context<'a>, section: Section) -> Self {
        match ctx.facts.inherited_in(section) {
            Some(found) => Effect::Known(found),
            None => Effect::Unknown,
        }
    }

    /// The end of the finding's message: what the fix turns on.
    fn describe(&self) -> String {
        match self {
            Effect::Unknown => String::new(),
            Effect::Known([]) => "; the parent scopes run nothing there".to_owned(),
            Effect::Known(found) => format!(
                "; `<base />` turns on {}",
                found
                    .iter()
                    .map(|f| format!("{} ({}:{})", f.name, f.file, f.line))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// Why the fix is unsafe, if it is.
    fn unsafe_because(&self) -> Option<String> {
        match self {
            Effect::Unknown => Some(
                "what the parent scopes run here is not known (no repo model, or a parent policy apimfix cannot read)".to_owned(),
            ),
            Effect::Known(found) => {
                let access: Vec<String> = found
                    .iter()
                    .filter_map(|f| {
                        let inner = std::iter::once(f.name.to_ascii_lowercase())
                            .chain(f.nested.iter().cloned())
                            .find(|n| changes_access(n))?;
                        Some(if inner.eq_ignore_ascii_case(&f.name) {
                            format!("`{}` ({}:{})", f.name, f.file, f.line)
                        } else {
                            format!("`{inner}` in `{}` ({}:{})", f.name, f.file, f.line)
                        })
                    })
                    .collect();
                (!access.is_empty()).then(|| {
                    format!(
                        "it turns on {}, which changes who may call or how the call goes",
                        access.join(", ")
                    )
                })
            }
        }
    }
}

/// A comment of `section` that holds only `<base />` (`<!-- <base /> -->`), with the text
/// of the comments next to it (the reason) as `: "..."`, or empty.
fn commented_out_base(doc: &Document, section: ElementRef<'_>) -> Option<String> {
    let children = section.children();
    let is_comment = |id: NodeId| matches!(doc.node(id).kind, NodeKind::Comment);
    let comment_text = |id: NodeId| {
        let raw = doc.slice(doc.node(id).range);
        raw.trim_start_matches("<!--")
            .trim_end_matches("-->")
            .trim()
            .to_owned()
    };
    let is_base_text = |t: &str| {
        let squashed: String = t.split_whitespace().collect();
        squashed == "<base/>" || squashed == "<base></base>"
    };
    let at = children
        .iter()
        .position(|&id| is_comment(id) && is_base_text(&comment_text(id)))?;
    let blank = |id: NodeId| {
        matches!(
            doc.node(id).kind,
            NodeKind::Text {
                whitespace_only: true
            }
        )
    };
    let mut reasons = Vec::new();
    // The comments right before it, then right after it.
    for id in children[..at].iter().rev().copied().filter(|id| !blank(*id)).take_while(|id| is_comment(*id)) {
        reasons.insert(0, comment_text(id));
    }
    for id in children[at + 1..].iter().copied().filter(|id| !blank(*id)).take_while(|id| is_comment(*id)) {
        reasons.push(comment_text(id));
    }
    reasons.retain(|r| !r.is_empty() && !is_base_text(r));
    Ok::<_, ()>(if reasons.is_empty() {
        String::new()
    } else {
        format!(" (\"{}\")", reasons.join(" "))
    })
    .ok()
}

/// Whether the policy makes its own response somewhere (`<return-response>`,
/// `<mock-response>`).
fn answers_itself(doc: &Document) -> bool {
    doc.root()
        .descendants()
        .any(|d| d.is("return-response") || d.is("mock-response"))
}

/// The section's own `<cors>` (a direct child of an inbound), after which `<base />` goes so
/// that the local `<cors>` keeps running before an inherited one.
fn local_cors(section: Section, el: ElementRef<'_>) -> Option<ElementRef<'_>> {
    if section != Section::Inbound {
        return None;
    }
    el.child_elements().find(|c| c.is("cors"))
}

fn parent_name(scope: Scope) -> &'static str {
    match scope {
        Scope::Operation => "API",
        Scope::Api => "product and global",
        Scope::Product => "global",
        Scope::Workspace => "global",
        _ => "parent",
    }
}

#[cfg(test)]
mod tests {
    use crate::repo::{Inherited, RepoFacts};
    use crate::rules::test_support::{findings, findings_with, fix_all, fix_with};
    use crate::policy::Section;
    use crate::layout::Scope;

    /// Facts of a repo whose parents run `inbound` in every section.
    fn inheriting(inbound: Vec<Inherited>) -> RepoFacts {
        RepoFacts {
            inherited: Some(
                Section::ALL
                    .into_iter()
                    .map(|s| (s, if s == Section::Inbound { inbound.clone() } else { vec![] }))
                    .collect(),
            ),
            ..Default::default()
        }
    }

    fn inherited(name: &str, line: usize, nested: &[&str]) -> Inherited {
        Inherited {
            name: name.to_owned(),
            file: "policy.xml".to_owned(),
            line,
            nested: nested.iter().map(|n| (*n).to_owned()).collect(),
            reads: vec![],
            reads_unknown: false,
            sets: vec![],
        }
    }

    const NO_BASE: &str = "<policies>\n    <inbound>\n        <rate-limit calls=\"1\" renewal-period=\"60\" />\n    </inbound>\n    <backend />\n    <outbound>\n        <base />\n    </outbound>\n    <!-- <base /> in a comment does not count -->\n    <on-error>\n        <set-variable name=\"x\" value=\"@(&quot;<base />&quot;)\" />\n    </on-error>\n</policies>\n";

    #[test]
    fn flags_each_section_without_base() {
        let found = findings(NO_BASE, Scope::Api, "base-missing");
        assert_eq!(
            found,
            [
                "2:5 `<inbound>` has no `<base />`: the product and global scope's `<inbound>` policies never run",
                "5:5 `<backend>` has no `<base />`: the product and global scope's `<backend>` policies never run",
                "10:5 `<on-error>` has no `<base />`: the product and global scope's `<on-error>` policies never run"
            ]
        );
    }

    #[test]
    fn inserts_base_first_and_opens_self_closing_sections() {
        insta::assert_snapshot!(fix_with(NO_BASE, Scope::Api, &Default::default(), &inheriting(vec![])));
    }

    #[test]
    fn silent_at_global_in_fragments_and_unknown_scope() {
        for scope in [Scope::Global, Scope::Fragment, Scope::Unknown] {
            assert!(
                findings(NO_BASE, scope, "base-missing").is_empty(),
                "{scope}"
            );
        }
        let fragment =
            "<fragment>\n    <rate-limit calls=\"1\" renewal-period=\"60\" />\n</fragment>";
        assert!(findings(fragment, Scope::Api, "base-missing").is_empty());
    }

    #[test]
    fn base_nested_in_choose_counts() {
        let src = "<policies><inbound><choose><when condition=\"@(true)\"><base /></when></choose></inbound></policies>";
        assert!(findings(src, Scope::Operation, "base-missing").is_empty());
    }

    #[test]
    fn backend_with_its_own_policy_is_a_deliberate_override() {
        let src = "<policies>\n    <inbound>\n        <base />\n    </inbound>\n    <backend>\n        <forward-request timeout=\"10\" />\n    </backend>\n</policies>";
        assert!(findings(src, Scope::Api, "base-missing").is_empty());
    }

    #[test]
    fn local_cors_stays_first() {
        let src = "<policies>\n\t<inbound>\n\t\t<cors>\n\t\t\t<allowed-origins>\n\t\t\t\t<origin>https://a.example</origin>\n\t\t\t</allowed-origins>\n\t\t</cors>\n\t\t<set-header name=\"x\" exists-action=\"override\"><value>1</value></set-header>\n\t</inbound>\n</policies>";
        let fixed = fix_with(src, Scope::Operation, &Default::default(), &inheriting(vec![]));
        assert!(
            fixed.contains("\t\t</cors>\n\t\t<base />\n\t\t<set-header"),
            "{fixed}"
        );
    }

    #[test]
    fn a_lone_cors_is_kept_and_base_follows_it() {
        let src = "<policies>\n  <inbound>\n    <cors>\n      <allowed-origins><origin>*</origin></allowed-origins>\n    </cors>\n  </inbound>\n</policies>";
        assert_eq!(
            fix_with(src, Scope::Api, &Default::default(), &inheriting(vec![])),
            "<policies>\n  <inbound>\n    <cors>\n      <allowed-origins><origin>*</origin></allowed-origins>\n    </cors>\n    <base />\n  </inbound>\n</policies>"
        );
        let inline = "<policies><inbound><cors /></inbound></policies>";
        assert_eq!(
            fix_with(inline, Scope::Api, &Default::default(), &inheriting(vec![])),
            "<policies><inbound><cors /><base /></inbound></policies>"
        );
    }

    #[test]
    fn suppressed_by_a_comment_above_the_section() {
        let src = "<policies>\n    <!-- apimfix-ignore: base-missing -->\n    <inbound>\n        <cors />\n    </inbound>\n</policies>";
        assert!(findings(src, Scope::Api, "base-missing").is_empty());
    }

    const INBOUND_ONLY: &str = "<policies>\n    <inbound>\n        <set-header name=\"x\" exists-action=\"override\"><value>1</value></set-header>\n    </inbound>\n    <backend>\n        <base />\n    </backend>\n    <outbound>\n        <base />\n    </outbound>\n    <on-error>\n        <base />\n    </on-error>\n</policies>\n";

    #[test]
    fn the_message_lists_what_base_turns_on_and_access_policies_make_it_unsafe() {
        let settings = Default::default();
        let facts = inheriting(vec![
            inherited("ip-filter", 4, &["address"]),
            inherited("cors", 8, &["allowed-origins", "origin"]),
        ]);
        let found = findings_with(INBOUND_ONLY, Scope::Api, &settings, &facts, "base-missing");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].ends_with("; `<base />` turns on ip-filter (policy.xml:4), cors (policy.xml:8)"),
            "{found:?}"
        );
        // Unsafe: only `--unsafe-fixes` applies it.
        assert_eq!(fix_with(INBOUND_ONLY, Scope::Api, &settings, &facts), INBOUND_ONLY);
        // A gate nested in a `<choose>` counts too.
        let nested = inheriting(vec![inherited("choose", 3, &["when", "validate-jwt"])]);
        assert_eq!(fix_with(INBOUND_ONLY, Scope::Api, &settings, &nested), INBOUND_ONLY);
        // Only CORS and headers: safe.
        let cors_only = inheriting(vec![inherited("cors", 8, &["allowed-origins", "origin"])]);
        assert!(
            fix_with(INBOUND_ONLY, Scope::Api, &settings, &cors_only).contains("<inbound>\n        <base />\n"),
        );
    }

    #[test]
    fn without_the_repo_the_fix_is_unsafe() {
        assert_eq!(fix_all(INBOUND_ONLY, Scope::Api), INBOUND_ONLY);
        assert_eq!(findings(INBOUND_ONLY, Scope::Api, "base-missing").len(), 1);
    }

    #[test]
    fn a_commented_out_base_is_an_opt_out_with_its_reason() {
        let src = "<policies>\n    <inbound>\n        <base />\n    </inbound>\n    <backend>\n        <!-- either base or the fragment needs to be present. -->\n        <!-- <base /> -->\n        <forward-request />\n    </backend>\n    <outbound>\n        <!-- <base /> --> <!-- removed on purpose: no parent headers -->\n        <set-header name=\"x\" exists-action=\"override\"><value>1</value></set-header>\n    </outbound>\n</policies>\n";
        let facts = inheriting(vec![]);
        let found = findings_with(src, Scope::Api, &Default::default(), &facts, "base-missing");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("commented out here, an explicit opt-out (\"removed on purpose: no parent headers\"): no fix"),
            "{found:?}"
        );
        assert_eq!(fix_with(src, Scope::Api, &Default::default(), &facts), src);
    }

    #[test]
    fn an_empty_backend_of_a_policy_that_answers_itself_gets_no_fix() {
        let src = "<policies>\n    <inbound>\n        <base />\n        <return-response>\n            <set-status code=\"200\" />\n        </return-response>\n    </inbound>\n    <backend />\n    <outbound>\n        <base />\n    </outbound>\n    <on-error>\n        <base />\n    </on-error>\n</policies>\n";
        let facts = inheriting(vec![]);
        let found = findings_with(src, Scope::Operation, &Default::default(), &facts, "base-missing");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("forwards nothing on purpose: no fix"), "{found:?}");
        assert_eq!(fix_with(src, Scope::Operation, &Default::default(), &facts), src);
    }
}

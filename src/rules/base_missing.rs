//! `base-missing`

use crate::rules::{ChainCheck, RepoFindings, FixAvailability, NoOptions, RuleImpl};
use crate::diagnostic::Diagnostic;
use crate::fix::Fix;
use crate::rules::Rule;
use crate::rules::context::Context;
use crate::policy::{
    Section, insert_after, insert_child_at, insert_first_child, is_base, sections,
};
use crate::layout::Scope;
use crate::syntax::ElementRef;
use crate::text::Ranged;

pub const DOC: &str = r#"## What it does
Flags a section (`inbound`, `backend`, `outbound`, `on-error`) of an operation, API, product
or workspace policy that holds no `<base />`.

## Why is this bad?
`<base />` is where APIM runs the parent scope's policies for that section. Without it, none
of them run: a `<cors>` at global scope never answers for this API, so the browser reports a
CORS error. APIM saves such a policy without a warning.

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
Inserts `<base />` as the first child of the section, on its own line, indented like its
siblings. In an `inbound` that has its own `<cors>`, `<base />` goes right after that
`<cors>`, so the local `<cors>` keeps running before an inherited one (teams that dropped `<base />` to avoid a
conflicting inherited `<cors>` keep their behaviour). A `<backend>` that already holds a
policy (say, its own `<forward-request>`) is left alone: APIM allows one policy there, so such
a backend deliberately replaces the parent's.

## Fix safety
Safe: it restores the inheritance APIM's own editor puts in every section. To keep a section
without `<base />` on purpose, put `<!-- apimfix-ignore: base-missing -->` above it, or
`<!-- apimfix-ignore-file: base-missing -->` anywhere in the file.

## References
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

    /// A policy file with no `<inbound>` at all, in a chain where no `<cors>` runs while a
    /// broader scope has one: the per-file check reports sections that exist and lack
    /// `<base />` (the same root cause, with a fix), so only the missing section is left here.
    fn check_chain(chain: &ChainCheck<'_>, out: &mut RepoFindings) {
        if chain.first_cors.is_some() {
            return;
        }
        let repo = chain.repo;
        let levels = chain.levels();
        for (i, level) in levels.iter().enumerate() {
            let Some(file) = level.file else { continue };
            if level.scope == Scope::Global
                || chain.template(file).has_base
                || repo.section_of(file, Section::Inbound).is_some()
            {
                continue;
            }
            let lost = levels[i + 1..]
                .iter()
                .filter_map(|l| l.file)
                .find_map(|f| repo.inbound_cors(f));
            let Some(cors) = lost else { continue };
            let root = repo.file(file).doc.root();
            let message = format!(
                "`<{}>` has no `<inbound>`, so the `<cors>` of {} never runs",
                root.name(),
                repo.describe(cors)
            );
            chain.report(out, Rule::BaseMissing, file, root.start_tag(), message);
        }
    }
}

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    if !ctx.effective_scope().has_parent() {
        return;
    }
    let doc = ctx.doc;
    for (section, el) in sections(doc) {
        if el.descendants().any(is_base) {
            continue;
        }
        if section == Section::Backend && el.child_elements().next().is_some() {
            continue;
        }
        let message = format!(
            "`<{}>` has no `<base />`: the {} scope's `<{}>` policies never run",
            section.tag(),
            parent_name(ctx.effective_scope()),
            section.tag()
        );
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
        out.push(
            Diagnostic::new(Rule::BaseMissing, el.start_tag(), message)
                .with_fix("Insert `<base />`", Fix::safe(edit, [])),
        );
    }
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
    use crate::rules::test_support::{findings, fix_all};
    use crate::layout::Scope;

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
        insta::assert_snapshot!(fix_all(NO_BASE, Scope::Api));
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
        let fixed = fix_all(src, Scope::Operation);
        assert!(
            fixed.contains("\t\t</cors>\n\t\t<base />\n\t\t<set-header"),
            "{fixed}"
        );
    }

    #[test]
    fn a_lone_cors_is_kept_and_base_follows_it() {
        let src = "<policies>\n  <inbound>\n    <cors>\n      <allowed-origins><origin>*</origin></allowed-origins>\n    </cors>\n  </inbound>\n</policies>";
        assert_eq!(
            fix_all(src, Scope::Api),
            "<policies>\n  <inbound>\n    <cors>\n      <allowed-origins><origin>*</origin></allowed-origins>\n    </cors>\n    <base />\n  </inbound>\n</policies>"
        );
        let inline = "<policies><inbound><cors /></inbound></policies>";
        assert_eq!(
            fix_all(inline, Scope::Api),
            "<policies><inbound><cors /><base /></inbound></policies>"
        );
    }

    #[test]
    fn suppressed_by_a_comment_above_the_section() {
        let src = "<policies>\n    <!-- apimfix-ignore: base-missing -->\n    <inbound>\n        <cors />\n    </inbound>\n</policies>";
        assert!(findings(src, Scope::Api, "base-missing").is_empty());
    }
}

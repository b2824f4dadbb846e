//! `cors-outside-inbound`

use crate::repo::CorsDepth;
use crate::rules::{NoOptions, RepoCheck, RepoFindings, RuleImpl};
use crate::diagnostic::Diagnostic;
use crate::rules::Rule;
use crate::rules::context::Context;
use crate::policy::{Section, section_of, sections};
use crate::syntax::RootKind;

pub const DOC: &str = r#"## What it does
Flags a `<cors>` in `<backend>`, `<outbound>` or `<on-error>`. With the whole repo given, also
an `<include-fragment>` there whose fragment holds a `<cors>`: a fragment's policies must be
legal where it is included.

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
- https://learn.microsoft.com/azure/api-management/policy-fragments (a fragment can be
  included in any section, as long as its policies are allowed there)
"#;

/// The rule `cors-outside-inbound`.
pub struct CorsOutsideInbound;

impl RuleImpl for CorsOutsideInbound {
    const DOC: &'static str = DOC;
    type Options = NoOptions;

    fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
        check(ctx, out);
    }

    /// An `<include-fragment>` outside `<inbound>` that brings a `<cors>`. A section that
    /// holds a `<cors>` of its own is the per-file check's.
    fn check_repo(check: &RepoCheck<'_>, out: &mut RepoFindings) {
        let repo = check.repo;
        for file in repo.file_ids() {
            let policy = repo.file(file);
            if policy.doc.root_kind() != RootKind::Policies {
                continue;
            }
            for (section, element) in sections(&policy.doc) {
                if section == Section::Inbound || element.descendants().any(|e| e.is("cors")) {
                    continue;
                }
                for include in element.descendants() {
                    let Some(fragment) = repo.included(file, include) else {
                        continue;
                    };
                    if repo.brings_cors(file, include, CorsDepth::Anywhere) {
                        out.add_unchained(
                            Rule::CorsOutsideInbound,
                            file,
                            include.start_tag(),
                            format!(
                                "`<include-fragment>` brings the `<cors>` of {} into `<{}>`: APIM allows it in `<inbound>` only",
                                repo.file(fragment).label(),
                                section.tag()
                            ),
                        );
                    }
                }
            }
        }
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

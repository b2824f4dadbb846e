//! `cors-origins`

use serde::{Deserialize, Serialize};
use crate::origin::{cleaned, is_literal, same_origin};
use crate::repo::named_values::substitute;
use crate::policy::Section;
use crate::rules::{RepoCheck, RepoFindings, FixAvailability, RuleImpl};

use crate::diagnostic::Diagnostic;
use crate::fix::{Edit, Fix};
use crate::rules::Rule;
use crate::rules::context::Context;
use crate::policy::{indent_unit, insert_after, insert_first_child, own_line_indent};
use crate::layout::Scope;
use crate::policy::in_template_block;
use crate::syntax::{Document, ElementRef};
use crate::text::Ranged;

pub const DOC: &str = r#"## What it does
Checks that the origins declared in `cors-origins.origins` (the front ends that call the APIs)
are allowed: every `<cors>` must list each of them, unless it allows `*`. When no policy of the
repo has a `<cors>` at all, it flags the global policy.

## Why is this bad?
A browser call from an origin that `<cors>` does not list gets no `Access-Control-Allow-Origin`
header (or an empty 200 to its preflight), so the front end fails with a CORS error.

Origins compare literally, as text, ASCII case aside (as `src/origin.rs` does for every rule):
`https://x.com/` in a policy does not allow the `https://x.com` a browser sends. An entry that
`cors-origin-invalid` cleans up to a declared origin (`'https://x.com'`, `https://x.com/`) is
left to that rule, so the origin is never listed twice.

The declared origins are checked when the configuration loads: `scheme://host[:port]` and
nothing after it (no path, no trailing `/`, no default port), or `*`; the error points at the
configuration's line and column.

A `<cors>` built when the policy is deployed or run (a template directive such as
`%{ for o in origins ~}`, `${...}`, named values `{{...}}`, expressions `@(...)`) is reported
("check by hand"), never edited; no fix ever edits inside a `%{ ... }` template block.

## Example
```yaml
rules:
  cors-origins:
    origins: [https://portal.contoso.com]
```
```xml
<allowed-origins>
    <origin>https://admin.contoso.com</origin>
</allowed-origins>
```
Use instead:
```xml
<allowed-origins>
    <origin>https://admin.contoso.com</origin>
    <origin>https://portal.contoso.com</origin>
</allowed-origins>
```

## Fix
Appends the missing `<origin>` elements after the last one, written exactly as declared. When
the repo has no `<cors>` anywhere, adds one at global scope as the first policy of `<inbound>`,
built from `cors-origins.template` (methods, headers, credentials). It never writes `*` next to
other origins, nor `*` with `allow-credentials="true"` (browsers refuse that pair).

## Fix safety
Safe: it allows exactly the origins the configuration declares. With the repo known, a fix is
offered only when composing each chain through the file before and after shows that nothing
but origin lists changed and that the `<cors>` it edits (or creates) is the winning `<cors>`
of some chain: an origin added to a `<cors>` that never wins, or a global `<cors>` that cannot
run because the scopes below lack `<base />`, gets no fix, and the message says so.

## References
- https://learn.microsoft.com/azure/api-management/cors-policy
"#;

/// The rule `cors-origins`.
pub struct CorsOrigins;

impl RuleImpl for CorsOrigins {
    const DOC: &'static str = DOC;
    const FIX: FixAvailability = FixAvailability::Sometimes;
    type Options = CorsOriginsOptions;

    fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
        check(ctx, out);
    }

    /// No `<cors>` in any chain and no global policy file to create one in: the per-file
    /// check reports every `<cors>` lacking an origin, and a global policy file without one;
    /// this points at the first API policy file (by path), the narrowest file every chain
    /// of that API runs.
    fn check_repo(check: &RepoCheck<'_>, out: &mut RepoFindings) {
        let repo = check.repo;
        let options = check.settings.cors_origins.options();
        let declared: Vec<&str> = options
            .origins
            .iter()
            .map(|o| o.trim())
            .filter(|o| !o.is_empty() && *o != "*")
            .collect();
        if check.cors_runs
            || declared.is_empty()
            || repo.repo_has_cors()
            || repo.global_policy().is_some()
        {
            return;
        }
        let first_api = repo
            .file_ids()
            .filter(|f| repo.file(*f).scope == Scope::Api)
            .min_by(|a, b| repo.file(*a).rel.cmp(&repo.file(*b).rel));
        let Some(file) = first_api else {
            return;
        };
        let at = repo
            .section_of(file, Section::Inbound)
            .map_or_else(|| repo.file(file).doc.root().start_tag(), |s| s.start_tag());
        let quoted: Vec<String> = declared.iter().map(|o| format!("`{o}`")).collect();
        let message = format!(
            "no `<cors>` runs in any chain, so declared {} {} {} no CORS headers",
            if declared.len() == 1 { "origin" } else { "origins" },
            quoted.join(", "),
            if declared.len() == 1 { "gets" } else { "get" }
        );
        out.add_unchained(Rule::CorsOrigins, file, at, message);
    }
}

/// Options of `cors-origins`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct CorsOriginsOptions {
    /// Origins the front ends call from, e.g. `https://portal.contoso.com`: checked when the
    /// configuration loads (`scheme://host[:port]`, nothing after it).
    #[serde(deserialize_with = "crate::origin::de_declared")]
    pub origins: Vec<String>,
    /// The `<cors>` created at global scope when no scope has one.
    pub template: CorsTemplate,
}

/// What a newly created `<cors>` allows besides the declared origins.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct CorsTemplate {
    pub allow_credentials: bool,
    pub methods: Vec<String>,
    pub headers: Vec<String>,
    pub expose_headers: Vec<String>,
    /// `preflight-result-max-age` in seconds; omitted when `None`.
    pub preflight_result_max_age: Option<u32>,
}

impl Default for CorsTemplate {
    fn default() -> Self {
        Self {
            allow_credentials: false,
            methods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
                .map(str::to_owned)
                .to_vec(),
            headers: vec!["*".to_owned()],
            expose_headers: Vec::new(),
            preflight_result_max_age: Some(300),
        }
    }
}

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    let options = ctx.settings.cors_origins.options();
    let declared = dedup(&options.origins);
    if declared.is_empty() {
        return;
    }
    let doc = ctx.doc;
    let all_cors: Vec<_> = doc.root().descendants().filter(|e| e.is("cors")).collect();
    for cors in &all_cors {
        check_cors(doc, *cors, &declared, ctx.facts, out);
    }
    if all_cors.is_empty()
        && ctx.effective_scope() == Scope::Global
        && ctx.facts.repo_has_cors == Some(false)
    {
        create_global_cors(doc, &options, &declared, out);
    }
}

fn check_cors(
    doc: &Document,
    cors: ElementRef<'_>,
    declared: &[String],
    facts: &crate::repo::RepoFacts,
    out: &mut Vec<Diagnostic>,
) {
    let named_values = &facts.named_values;
    let allowed = cors.child("allowed-origins");
    let existing: Vec<ElementRef<'_>> = allowed
        .map(|a| a.child_elements().filter(|o| o.is("origin")).collect())
        .unwrap_or_default();
    // Named values the repo holds (for the environment checked) are resolved before the
    // comparison; their values are never printed.
    let mut via_named_values: Vec<String> = Vec::new();
    let texts: Vec<String> = existing
        .iter()
        .map(|o| {
            let (text, used) =
                substitute(doc.slice(o.inner_range()).trim(), named_values);
            via_named_values.extend(used);
            text
        })
        .collect();
    if texts.iter().any(|t| t == "*") {
        return;
    }
    // An entry that `cors-origin-invalid` cleans up to a declared origin (`'https://q.com'`,
    // `https://q.com/`) is that rule's to fix: adding the origin beside it would list it twice.
    let allows = |d: &str| {
        texts
            .iter()
            .any(|t| same_origin(t, d) || cleaned(t).is_some_and(|c| same_origin(c, d)))
    };
    let missing: Vec<&String> = declared
        .iter()
        .filter(|d| d.as_str() != "*" && !allows(d))
        .collect();
    // Built when the policy is deployed or run (template directives, `${...}`, named values,
    // expressions): what it allows is not known here, so it is reported, never edited.
    let (source, _) = substitute(doc.slice(cors.range()), named_values);
    let dynamic = texts.iter().any(|t| !is_literal(t))
        || !is_literal(&source)
        || in_template_block(doc, cors.range());
    if dynamic {
        if !missing.is_empty() {
            let list = missing
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ");
            out.push(Diagnostic::new(
                Rule::CorsOrigins,
                cors.start_tag(),
                format!(
                    "`<cors>` builds its origins from a template, named values or expressions: check by hand that it allows {list} (no fix)"
                ),
            ));
        }
        return;
    }
    if missing.is_empty() {
        return;
    }
    let list = missing
        .iter()
        .map(|m| format!("`{m}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut message = format!(
        "`<cors>` does not allow the declared origin{} {list}",
        if missing.len() == 1 { "" } else { "s" }
    );
    if !via_named_values.is_empty() {
        // The origins come from named values: the fix belongs in their values, which
        // differ per environment, not in a literal `<origin>` here.
        let names: Vec<String> = via_named_values
            .iter()
            .map(|n| format!("`{{{{{n}}}}}`"))
            .collect();
        let environment = match &facts.environment {
            Some(env) => format!("environment `{env}`"),
            None => "the repo's own values".to_owned(),
        };
        message.push_str(&format!(
            " (its origins come from named value{} {}, resolved for {environment})",
            if names.len() == 1 { "" } else { "s" },
            names.join(", ")
        ));
        out.push(Diagnostic::new(Rule::CorsOrigins, cors.start_tag(), message));
        return;
    }
    let elements: Vec<String> = missing
        .iter()
        .map(|m| format!("<origin>{m}</origin>"))
        .collect();
    let edit = match (allowed, existing.last()) {
        (Some(_), Some(last)) => {
            let eol = doc.line_ending().as_str();
            let joined = match own_line_indent(doc, *last) {
                Some(indent) => elements.join(&format!("{eol}{indent}")),
                None => elements.concat(),
            };
            insert_after(doc, *last, &joined)
        }
        (Some(allowed), None) => insert_block_first(doc, allowed, &elements),
        (None, _) => {
            let block = format!("<allowed-origins>{}</allowed-origins>", elements.concat());
            insert_first_child(doc, cors, &block)
        }
    };
    out.push(
        Diagnostic::new(Rule::CorsOrigins, cors.start_tag(), message)
            .with_fix(format!("Allow {list}"), Fix::safe(edit, [])),
    );
}

/// Inserts several sibling elements as the first children of `parent`, one per line.
fn insert_block_first(doc: &Document, parent: ElementRef<'_>, elements: &[String]) -> Edit {
    let eol = doc.line_ending().as_str();
    let indent = format!(
        "{}{}",
        own_line_indent(doc, parent).unwrap_or(""),
        indent_unit(doc)
    );
    insert_first_child(doc, parent, &elements.join(&format!("{eol}{indent}")))
}

fn create_global_cors(
    doc: &Document,
    options: &CorsOriginsOptions,
    declared: &[String],
    out: &mut Vec<Diagnostic>,
) {
    let template = &options.template;
    let wildcard = declared.iter().any(|d| d == "*");
    let list = declared
        .iter()
        .map(|m| format!("`{m}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let root = doc.root();
    let anchor = root
        .child("inbound")
        .map_or(root.start_tag(), |i| i.start_tag());
    let message = format!("no policy in the repo has a `<cors>`: browser calls from {list} fail");
    let diagnostic = Diagnostic::new(Rule::CorsOrigins, anchor, message);
    if wildcard && template.allow_credentials {
        // Browsers refuse `*` with credentials; no fix can satisfy both settings.
        out.push(diagnostic);
        return;
    }
    let origins: Vec<&str> = if wildcard {
        vec!["*"]
    } else {
        declared.iter().map(String::as_str).collect()
    };
    let unit = indent_unit(doc);
    let eol = doc.line_ending().as_str();
    let edit = match root.child("inbound") {
        Some(inbound) => {
            let section_indent = own_line_indent(doc, inbound).unwrap_or("");
            let first = inbound.child_elements().next();
            let indent = first
                .and_then(|f| own_line_indent(doc, f))
                .map_or_else(|| format!("{section_indent}{unit}"), str::to_owned);
            let text = render_cors(template, &origins, &indent, &unit, eol);
            insert_first_child(doc, inbound, &text)
        }
        None => {
            let root_indent = own_line_indent(doc, root).unwrap_or("");
            let section_indent = format!("{root_indent}{unit}");
            let inner = format!("{section_indent}{unit}");
            let text = format!(
                "<inbound>{eol}{inner}{}{eol}{section_indent}</inbound>",
                render_cors(template, &origins, &inner, &unit, eol)
            );
            insert_first_child(doc, root, &text)
        }
    };
    out.push(diagnostic.with_fix("Add a `<cors>` policy at global scope", Fix::safe(edit, [])));
}

/// The `<cors>` element of `template`, its first line unindented, the others at `indent`.
fn render_cors(
    template: &CorsTemplate,
    origins: &[&str],
    indent: &str,
    unit: &str,
    eol: &str,
) -> String {
    let i1 = format!("{indent}{unit}");
    let i2 = format!("{i1}{unit}");
    let mut s = format!(
        "<cors allow-credentials=\"{}\">",
        template.allow_credentials
    );
    let mut list = |tag: &str, attrs: String, child: &str, items: &[String]| {
        if items.is_empty() {
            return;
        }
        s.push_str(&format!("{eol}{i1}<{tag}{attrs}>"));
        for item in items {
            s.push_str(&format!("{eol}{i2}<{child}>{item}</{child}>"));
        }
        s.push_str(&format!("{eol}{i1}</{tag}>"));
    };
    let origins: Vec<String> = origins.iter().map(|o| (*o).to_owned()).collect();
    list("allowed-origins", String::new(), "origin", &origins);
    let max_age = template
        .preflight_result_max_age
        .map(|m| format!(" preflight-result-max-age=\"{m}\""))
        .unwrap_or_default();
    list("allowed-methods", max_age, "method", &template.methods);
    list(
        "allowed-headers",
        String::new(),
        "header",
        &template.headers,
    );
    list(
        "expose-headers",
        String::new(),
        "header",
        &template.expose_headers,
    );
    s.push_str(&format!("{eol}{indent}</cors>"));
    s
}

fn dedup(origins: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for o in origins {
        let o = o.trim();
        if !o.is_empty() && !out.iter().any(|seen| same_origin(seen, o)) {
            out.push(o.to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::origin::same_origin;
    use crate::rules::RuleSettings;
    use crate::repo::RepoFacts;
    use crate::rules::test_support::{findings_with, fix_with};
    use crate::layout::Scope;

    fn config(origins: &str) -> RuleSettings {
        yaml_serde::from_str(&format!("cors-origins:\n  origins: {origins}\n")).unwrap()
    }

    const CORS: &str = "<policies>\n    <inbound>\n        <cors allow-credentials=\"true\">\n            <allowed-origins>\n                <origin>https://admin.contoso.com</origin>\n            </allowed-origins>\n            <allowed-methods>\n                <method>GET</method>\n            </allowed-methods>\n        </cors>\n        <base />\n    </inbound>\n</policies>\n";

    #[test]
    fn compares_origins_literally_ascii_case_aside() {
        assert!(same_origin("https://A.example.com", "https://a.example.com"));
        assert!(!same_origin("https://a.example.com/", "https://a.example.com"));
        assert!(!same_origin("https://a.example.com:8443", "https://a.example.com"));
        assert!(!same_origin("http://a.example.com", "https://a.example.com"));
    }

    #[test]
    fn appends_missing_origins_after_the_last_one() {
        let config = config(
            "[https://portal.contoso.com, 'https://ADMIN.contoso.com', https://portal.contoso.com, https://b.contoso.com]",
        );
        let found = findings_with(
            CORS,
            Scope::Api,
            &config,
            &RepoFacts::default(),
            "cors-origins",
        );
        assert_eq!(
            found,
            [
                "3:9 `<cors>` does not allow the declared origins `https://portal.contoso.com`, `https://b.contoso.com`"
            ]
        );
        insta::assert_snapshot!(fix_with(CORS, Scope::Api, &config, &RepoFacts::default()));
    }

    #[test]
    fn leaves_a_wildcard_alone_and_reports_dynamic_origins_without_a_fix() {
        let config = config("[https://portal.contoso.com]");
        let star = CORS.replace("https://admin.contoso.com", "*");
        assert!(
            findings_with(&star, Scope::Api, &config, &RepoFacts::default(), "cors-origins")
                .is_empty()
        );
        for origin in [
            "@(context.Request.Headers.GetValueOrDefault(\"Origin\", \"\"))",
            "{{spa-origin}}",
        ] {
            let src = CORS.replace("https://admin.contoso.com", origin);
            let found =
                findings_with(&src, Scope::Api, &config, &RepoFacts::default(), "cors-origins");
            assert_eq!(found.len(), 1, "{origin}: {found:?}");
            assert!(found[0].contains("(no fix)"), "{found:?}");
            assert_eq!(fix_with(&src, Scope::Api, &config, &RepoFacts::default()), src);
        }
    }

    #[test]
    fn creates_a_global_cors_only_when_the_repo_has_none() {
        let src = "<policies>\n  <inbound />\n  <backend>\n    <forward-request />\n  </backend>\n</policies>\n";
        let config = config("[https://portal.contoso.com]");
        let none = RepoFacts {
            repo_has_cors: Some(false),
            ..Default::default()
        };
        assert!(
            findings_with(
                src,
                Scope::Global,
                &config,
                &RepoFacts::default(),
                "cors-origins"
            )
            .is_empty(),
            "unknown repo: silent"
        );
        assert!(
            findings_with(src, Scope::Api, &config, &none, "cors-origins").is_empty(),
            "only at global scope"
        );
        insta::assert_snapshot!(fix_with(src, Scope::Global, &config, &none));
    }

    #[test]
    fn never_pairs_a_wildcard_with_credentials() {
        let src = "<policies>\n  <inbound>\n    <base />\n  </inbound>\n</policies>\n";
        let mut config = config("['*']");
        config.cors_origins =
            crate::rules::Toggle::Options(super::CorsOriginsOptions {
                origins: vec!["*".into()],
                template: super::CorsTemplate {
                    allow_credentials: true,
                    ..Default::default()
                },
            });
        let none = RepoFacts {
            repo_has_cors: Some(false),
            ..Default::default()
        };
        assert_eq!(
            findings_with(src, Scope::Global, &config, &none, "cors-origins").len(),
            1
        );
        assert_eq!(fix_with(src, Scope::Global, &config, &none), src);
    }

    #[test]
    fn a_quoted_or_slashed_entry_of_the_origin_is_left_to_cors_origin_invalid() {
        // Issue #12: `https://q.com` was appended beside `'https://q.com'`, which
        // cors-origin-invalid then unquoted: the origin was listed twice.
        let config = config("[https://q.com]");
        for entry in ["'https://q.com'", "https://q.com/"] {
            let src = CORS.replace("https://admin.contoso.com", entry);
            assert!(
                findings_with(&src, Scope::Api, &config, &RepoFacts::default(), "cors-origins").is_empty(),
                "{entry}"
            );
            let fixed = fix_with(&src, Scope::Api, &config, &RepoFacts::default());
            assert_eq!(fixed.matches("https://q.com").count(), 1, "{fixed}");
            assert!(fixed.contains("<origin>https://q.com</origin>"), "{fixed}");
        }
    }

    #[test]
    fn a_cors_built_by_a_template_is_reported_never_edited() {
        let config = config("[https://portal.contoso.com]");
        let templated = CORS.replace(
            "                <origin>https://admin.contoso.com</origin>\n",
            "%{ for o in origins ~}\n                <origin>${o}</origin>\n%{ endfor ~}\n",
        );
        let host = CORS.replace("https://admin.contoso.com", "https://${host}");
        for src in [templated, host] {
            let found = findings_with(&src, Scope::Api, &config, &RepoFacts::default(), "cors-origins");
            assert_eq!(found.len(), 1, "{found:?}");
            assert!(found[0].contains("check by hand"), "{found:?}");
            assert_eq!(fix_with(&src, Scope::Api, &config, &RepoFacts::default()), src);
        }
    }

    #[test]
    fn declared_origins_are_checked_when_the_config_loads() {
        for bad in ["portal.contoso.com", "https://x.com/"] {
            let err = yaml_serde::from_str::<RuleSettings>(&format!(
                "cors-origins:\n  origins:\n    - {bad}\n"
            ))
            .unwrap_err()
            .to_string();
            assert!(err.contains("is not an origin"), "{err}");
            assert!(err.contains("line 3"), "{err}");
        }
    }
}

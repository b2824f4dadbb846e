//! `cors-versioning-header`
//!
//! Decisions where the documentation is silent: an operation's `<cors>` counts like the API's
//! (it runs only once APIM has resolved the API version too). The scheme is read from the
//! repo's metadata: the API's `apiVersionSetId` names a version set whose
//! `versionSetInformation.json` says `"versioningScheme": "Header"`; without that metadata the
//! rule stays silent.

use crate::repo::CorsDepth;
use crate::policy::Section;
use crate::rules::{Kind, NoOptions, RepoCheck, RepoFindings, Rule, RuleImpl};
use crate::layout::Scope;

pub const DOC: &str = r#"## What it does
Flags a `<cors>` in an API (or operation) policy when the API's version set selects the version
by a request header (`"versioningScheme": "Header"` in the version set's metadata).

This is a cross-scope finding: it needs the whole repo (`apimfix check REPO`), whose metadata
(`apis/<api>/apiInformation.json`, `version sets/<set>/versionSetInformation.json`) tells the
versioning scheme.

## Why is this bad?
The browser's preflight `OPTIONS` carries no custom headers, so it carries no version header:
APIM cannot tell which version of the API it is for, and the API's `<cors>` never answers it
(the preflight gets a 404). The policy reference lists this among the common configuration
issues of `cors`.

## Example
```xml
<!-- apis/orders-v2/policy.xml; the version set of orders-v2 uses a header -->
<inbound>
    <cors>...</cors>
    <base />
</inbound>
```
Use instead: put the `<cors>` in the global policy, or version the API by path segment or
query string.

## Fix
None: report only. Moving the policy or changing the versioning scheme is a decision.

## References
- https://learn.microsoft.com/azure/api-management/cors-policy ("Common configuration issues":
  API with header versioning)
- https://github.com/MicrosoftDocs/azure-docs/issues/54830 (a preflight gets 404 with header
  versioning)
- https://learn.microsoft.com/azure/api-management/api-management-versions
"#;

/// The rule `cors-versioning-header`.
pub struct CorsVersioningHeader;

impl RuleImpl for CorsVersioningHeader {
    const DOC: &'static str = DOC;
    const KIND: Kind = Kind::CrossScope;
    type Options = NoOptions;

    fn check_repo(check: &RepoCheck<'_>, out: &mut RepoFindings) {
        let repo = check.repo;
        for file in repo.file_ids() {
            let policy = repo.file(file);
            if !matches!(policy.scope, Scope::Api | Scope::Operation) {
                continue;
            }
            let workspace = policy.workspace.as_deref();
            let Some(set_name) = repo
                .api_info_of(file)
                .and_then(|info| info.version_set.as_deref())
            else {
                continue;
            };
            let Some(set) = repo.version_set(workspace, set_name) else {
                continue;
            };
            if !set.scheme.eq_ignore_ascii_case("header") {
                continue;
            }
            let Some(inbound) = repo.section_of(file, Section::Inbound) else {
                continue;
            };
            let header = set
                .header
                .as_deref()
                .map(|h| format!(" `{h}`"))
                .unwrap_or_default();
            for element in inbound.descendants() {
                let brings_cors =
                    element.is("cors") || repo.brings_cors(file, element, CorsDepth::Top);
                if brings_cors {
                    let message = format!(
                        "`<{}>` of an API versioned by header{header} (version set `{set_name}`): preflight calls carry no version header, so this `<cors>` never answers them",
                        element.name()
                    );
                    out.add_unchained(
                        Rule::CorsVersioningHeader,
                        file,
                        element.start_tag(),
                        message,
                    );
                }
            }
        }
    }
}

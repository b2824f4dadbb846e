//! `cors-allowed-headers`
//!
//! Decisions where the documentation is silent: the subscription-key header is looked for
//! only when the API's own metadata (`apiInformation.json`) says `subscriptionRequired: true`;
//! a repo without that metadata (other layouts, hand-written trees) gets no such finding. The
//! header name is the metadata's `subscriptionKeyParameterNames.header`, else APIM's default
//! `Ocp-Apim-Subscription-Key`. An allowed-headers list holding `*`, an expression, a named
//! value or a placeholder may allow anything, so it is never judged.

use crate::diagnostic::Diagnostic;
use crate::repo::EventKind;
use crate::rules::context::Context;
use crate::rules::{ChainCheck, NoOptions, RepoFindings, Rule, RuleImpl};
use crate::syntax::{Document, ElementRef};

pub const DOC: &str = r#"## What it does
Flags a `<cors>` whose allowed request headers are missing or incomplete:

- a `<cors>` without `<allowed-headers>`, or with an empty one (the policy reference marks the
  element as required, with at least one `<header>`);
- with the whole repo given (`apimfix check REPO`): the `<cors>` that applies to an API which
  requires a subscription (its `apiInformation.json` says `subscriptionRequired: true`) does
  not allow the subscription-key header (`subscriptionKeyParameterNames.header`, by default
  `Ocp-Apim-Subscription-Key`), and does not allow `*`.

## Why is this bad?
A browser sends a preflight `OPTIONS` before any call with a header outside the CORS-safelisted
few (`Content-Type: application/json`, `Authorization`, the subscription key): the preflight
names them in `Access-Control-Request-Headers`, and the call goes ahead only when the answer
allows every one. Without `<allowed-headers>` APIM allows none of them, and a front end that
sends the subscription key in its header gets a CORS error on every call.

When the key goes in the query string (`?subscription-key=`) the header is not needed; the
metadata cannot tell which the clients use, so move the key to the query or ignore this
finding there (`<!-- apimfix-ignore: cors-allowed-headers -->`).

## Example
```xml
<!-- policy.xml; apis/orders/apiInformation.json has "subscriptionRequired": true -->
<cors>
    <allowed-origins><origin>https://app.contoso.com</origin></allowed-origins>
    <allowed-headers><header>content-type</header></allowed-headers>
</cors>
```
Use instead:
```xml
<cors>
    <allowed-origins><origin>https://app.contoso.com</origin></allowed-origins>
    <allowed-headers>
        <header>content-type</header>
        <header>Ocp-Apim-Subscription-Key</header>
    </allowed-headers>
</cors>
```

## Fix
None: report only. Which headers the front ends send is a decision; the cross-scope finding
names the header each API expects.

## References
- https://learn.microsoft.com/azure/api-management/cors-policy ("Elements": `allowed-headers`
  is required; "allowed-headers elements": at least one `header`)
- https://learn.microsoft.com/azure/api-management/api-management-subscriptions and
  https://learn.microsoft.com/training/modules/explore-api-management/6-secure-access-api-subscriptions
  (the key goes in a request header or the query string; "the default header name is
  Ocp-Apim-Subscription-Key, and the default query string is subscription-key")
- The policy reference does not say that the subscription-key header must be listed: that
  follows from the Fetch standard below, so this part of the rule is apimfix's inference
- https://fetch.spec.whatwg.org/#cors-safelisted-request-header
"#;

/// APIM's default name of the subscription-key header.
pub const DEFAULT_KEY_HEADER: &str = "Ocp-Apim-Subscription-Key";

/// The rule `cors-allowed-headers`.
pub struct CorsAllowedHeaders;

impl RuleImpl for CorsAllowedHeaders {
    const DOC: &'static str = DOC;
    type Options = NoOptions;

    fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
        check(ctx, out);
    }

    /// The chain's winning `<cors>` against its API's subscription-key header. A `<cors>`
    /// without headers is the per-file check's.
    fn check_chain(chain: &ChainCheck<'_>, out: &mut RepoFindings) {
        let Some(first) = chain.first_cors else {
            return;
        };
        let repo = chain.repo;
        let api = chain.chain();
        let Some(info) = repo.api_info(api.workspace.as_deref(), &api.api) else {
            return;
        };
        if info.subscription_required != Some(true) {
            return;
        }
        let event = &chain.events()[first];
        debug_assert_eq!(event.kind, EventKind::Cors);
        let cors = chain.element(event.element);
        let doc = cors.document();
        let Some(headers) = literal_headers(doc, cors) else {
            return;
        };
        let wanted = info.key_header.as_deref().unwrap_or(DEFAULT_KEY_HEADER);
        if headers.iter().any(|h| h.eq_ignore_ascii_case(wanted)) {
            return;
        }
        let Some(allowed) = cors.child("allowed-headers") else {
            return;
        };
        let message = format!(
            "`<allowed-headers>` lacks `{wanted}`, the subscription-key header of API `{}`: a browser call sending the key in that header fails its preflight",
            api.api_id()
        );
        chain.report(
            out,
            Rule::CorsAllowedHeaders,
            event.element.file,
            allowed.start_tag(),
            message,
        );
    }
}

/// The header names `<allowed-headers>` lists, when each is literal text; `None` when the
/// element is missing or empty (the per-file check's), or when any entry is `*`, an
/// expression, a named value or a placeholder.
fn literal_headers<'d>(doc: &'d Document, cors: ElementRef<'d>) -> Option<Vec<&'d str>> {
    let allowed = cors.child("allowed-headers")?;
    let headers: Vec<&str> = allowed
        .child_elements()
        .filter(|h| h.is("header"))
        .map(|h| doc.slice(h.inner_range()).trim())
        .collect();
    let literal = |h: &&str| {
        !h.is_empty()
            && h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    (!headers.is_empty() && headers.iter().all(literal)).then_some(headers)
}

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    for cors in ctx.doc.root().descendants().filter(|e| e.is("cors")) {
        match cors.child("allowed-headers") {
            None => out.push(Diagnostic::new(
                Rule::CorsAllowedHeaders,
                cors.start_tag(),
                "`<cors>` has no `<allowed-headers>`: preflights for calls with `Content-Type: application/json`, `Authorization` or the subscription-key header fail",
            )),
            Some(allowed) if !allowed.child_elements().any(|h| h.is("header")) => {
                out.push(Diagnostic::new(
                    Rule::CorsAllowedHeaders,
                    allowed.start_tag(),
                    "`<allowed-headers>` lists no `<header>`: preflights for calls with any non-safelisted header fail",
                ));
            }
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::findings;
    use crate::layout::Scope;

    #[test]
    fn flags_a_cors_without_allowed_headers() {
        let src = "<policies>\n  <inbound>\n    <cors>\n      <allowed-origins><origin>https://a.contoso.com</origin></allowed-origins>\n    </cors>\n  </inbound>\n</policies>";
        assert_eq!(
            findings(src, Scope::Api, "cors-allowed-headers"),
            [
                "3:5 `<cors>` has no `<allowed-headers>`: preflights for calls with `Content-Type: application/json`, `Authorization` or the subscription-key header fail"
            ]
        );
        let empty = src.replace("</allowed-origins>", "</allowed-origins><allowed-headers />");
        assert_eq!(findings(&empty, Scope::Api, "cors-allowed-headers").len(), 1);
        let fine = src.replace(
            "</allowed-origins>",
            "</allowed-origins><allowed-headers><header>*</header></allowed-headers>",
        );
        assert!(findings(&fine, Scope::Api, "cors-allowed-headers").is_empty());
    }
}

//! `cors-first`

use serde::{Deserialize, Serialize};

use crate::repo::Gates;
use crate::rules::{FixAvailability, RuleImpl};
use crate::diagnostic::Diagnostic;
use crate::fix::{Applicability, Fix};
use crate::rules::Rule;
use crate::rules::context::Context;
use crate::policy::move_before;
use crate::rules::variables::{Sets, reads_of};

pub const DOC: &str = r#"## What it does
Flags a gate policy that runs before `<cors>` in the same inbound list. Gates are the policies
that can end a call with a response of their own. A `<choose>` or other element that holds
one counts as a gate, and so does the inclusion of a fragment that holds one (when the repo
is known).

The default gates, and what each one answers without CORS headers when it runs first:

| gate | rejects with |
| --- | --- |
| `rate-limit`, `rate-limit-by-key` | 429 Too Many Requests once the call rate is exceeded |
| `quota`, `quota-by-key` | 403 Forbidden once the quota is used up |
| `llm-token-limit`, `azure-openai-token-limit` | 429 past the token rate, 403 past the token quota |
| `limit-concurrency` | 429 Too Many Requests past `max-count` concurrent calls |
| `validate-jwt`, `validate-azure-ad-token` | 401 (`failed-validation-httpcode`) when the token is missing or invalid. A preflight `OPTIONS` carries no token, so it fails too when the check runs first. |
| `validate-client-certificate` | an error when the client certificate fails validation (not with `ignore-error="true"`) |
| `check-header` | `failed-check-httpcode` when the header is missing or has an unexpected value |
| `ip-filter` | an error for callers outside the allowed addresses |
| `return-response`, `mock-response` | their own response, which ends the pipeline before `<cors>` runs. Inside a `<when>` that selects `OPTIONS` calls (`context.Request.Method == "OPTIONS"`) they answer preflights by hand, on purpose, and do not count. |
| `validate-content`, `validate-parameters`, `validate-headers` | an error when an action is `prevent`. With only `detect`/`ignore` actions they never block, so they do not count. |

Adjust the list in `rules.yaml`: `cors-first.gates` replaces it, `extend-gates` adds to it and
`ignore-gates` takes names out (for example `ignore-gates: [return-response]` for a policy
that answers preflight calls itself). `base-first` uses the same list.

## Why is this bad?
A response that APIM makes itself (429 Too Many Requests, 403 Quota Exceeded, 401 from a JWT
check) carries CORS headers only when `<cors>` ran before it. Otherwise the browser hides the
real status behind a "CORS error", and the front-end team chases the wrong problem. A gate
before `<cors>` can also reject the preflight `OPTIONS` call, which carries no credentials.

## Example
```xml
<inbound>
    <rate-limit calls="100" renewal-period="60" />
    <cors>
        <allowed-origins><origin>https://app.contoso.com</origin></allowed-origins>
    </cors>
</inbound>
```
Use instead:
```xml
<inbound>
    <cors>
        <allowed-origins><origin>https://app.contoso.com</origin></allowed-origins>
    </cors>
    <rate-limit calls="100" renewal-period="60" />
</inbound>
```

## Fix
Moves the `<cors>` block (as whole lines, with the comments directly above it) directly above
the first gate; every other element keeps its order.

## Fix safety
Safe, unless a statement moved over sets a variable that `<cors>` reads: a `<set-variable>`,
or a policy attribute that names an output variable (`remaining-calls-variable-name`,
`remaining-tokens-variable-name`, `output-token-variable-name`, `variable-name`, ...), or a
`<base />` whose parents set one; an included fragment may set any. Moving `<cors>` above it
would change what `<cors>` reads, so the fix is then unsafe (applied only with
`--unsafe-fixes`), and its title says which variable.

Every fix is checked on the whole repo before it is offered: each chain through the file
(product × API × operation, and the chain without a product) is composed before and after,
and the fix must keep the same statements in each chain, the same winning `<cors>`, and run
no more gates before it. So the fix never changes which `<cors>` wins: when the `<cors>` would
move above a `<base />` that brings in a parent's `<cors>` (or a parent's gate runs before it),
no fix is offered and the message says why; the gate then belongs to the parent's file
(`base-first` there).

## References
- https://learn.microsoft.com/azure/api-management/cors-policy ("Common configuration issues":
  unexpected behavior when `cors` is not the first inbound policy; only `cors` runs on the
  preflight)
- https://learn.microsoft.com/azure/api-management/rate-limit-policy,
  https://learn.microsoft.com/azure/api-management/rate-limit-by-key-policy,
  https://learn.microsoft.com/azure/api-management/quota-policy,
  https://learn.microsoft.com/azure/api-management/quota-by-key-policy
- https://learn.microsoft.com/azure/api-management/llm-token-limit-policy and
  https://learn.microsoft.com/azure/api-management/azure-openai-token-limit-policy (429 past
  the rate, 403 past the quota)
- https://learn.microsoft.com/azure/api-management/limit-concurrency-policy ("new requests
  will fail immediately with the 429 Too Many Requests status code")
- https://learn.microsoft.com/azure/api-management/validate-jwt-policy (`failed-validation-httpcode`,
  default 401), https://learn.microsoft.com/azure/api-management/validate-azure-ad-token-policy
- https://learn.microsoft.com/azure/api-management/validate-client-certificate-policy
  (`ignore-error`: proceed, or jump to `on-error`, on a failed validation)
- https://learn.microsoft.com/azure/api-management/check-header-policy ("terminates request
  processing and returns the HTTP status code and error message specified")
- https://learn.microsoft.com/azure/api-management/ip-filter-policy
- https://learn.microsoft.com/azure/api-management/return-response-policy ("cancels pipeline
  execution"), https://learn.microsoft.com/azure/api-management/mock-response-policy ("aborts
  normal pipeline execution")
- https://learn.microsoft.com/azure/api-management/validate-content-policy,
  https://learn.microsoft.com/azure/api-management/validate-parameters-policy,
  https://learn.microsoft.com/azure/api-management/validate-headers-policy ("Actions": `prevent`
  blocks, `detect` only logs)
- https://github.com/MicrosoftDocs/azure-docs/issues/31889
"#;

/// The rule `cors-first`.
pub struct CorsFirst;

impl RuleImpl for CorsFirst {
    const DOC: &'static str = DOC;
    const FIX: FixAvailability = FixAvailability::Sometimes;
    type Options = GateOptions;

    fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
        check(ctx, out);
    }
}

/// The default gate policies: the ones that can end a call with a response of their own
/// (see [`DOC`] for what each one answers, and its source).
pub const DEFAULT_GATES: [&str; 17] = [
    "rate-limit",
    "rate-limit-by-key",
    "quota",
    "quota-by-key",
    "llm-token-limit",
    "azure-openai-token-limit",
    "limit-concurrency",
    "validate-jwt",
    "validate-azure-ad-token",
    "validate-client-certificate",
    "check-header",
    "ip-filter",
    "return-response",
    "mock-response",
    "validate-content",
    "validate-parameters",
    "validate-headers",
];

/// Options of `cors-first`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct GateOptions {
    /// Policies that must not run before `<cors>` (replaces the default list).
    pub gates: Vec<String>,
    /// Added to `gates` (e.g. `validate-odata-request`, `validate-graphql-request`).
    pub extend_gates: Vec<String>,
    /// Taken out of `gates` and `extend-gates` (e.g. `return-response`).
    pub ignore_gates: Vec<String>,
}

impl Default for GateOptions {
    fn default() -> Self {
        Self {
            gates: DEFAULT_GATES.iter().map(|g| (*g).to_owned()).collect(),
            extend_gates: Vec::new(),
            ignore_gates: Vec::new(),
        }
    }
}

impl GateOptions {
    /// The gate list the repo model composes events with.
    pub fn gates(&self) -> Gates {
        Gates::new(self.listed().filter(|g| !self.ignored(g)))
    }

    /// Whether element `name` is a gate (ASCII case-insensitive).
    pub fn is_gate(&self, name: &str) -> bool {
        !self.ignored(name) && self.listed().any(|g| g.eq_ignore_ascii_case(name))
    }

    fn listed(&self) -> impl Iterator<Item = &String> {
        self.gates.iter().chain(&self.extend_gates)
    }

    fn ignored(&self, name: &str) -> bool {
        self.ignore_gates
            .iter()
            .any(|g| g.eq_ignore_ascii_case(name))
    }
}

/// What a gate ends, as the subject of `plural`/`singular`: "calls it rejects get", or "the
/// response it returns gets" for the policies that answer the call themselves.
pub(crate) fn what_it_ends(gate: &str, plural: &str, singular: &str) -> String {
    if gate.eq_ignore_ascii_case("return-response") || gate.eq_ignore_ascii_case("mock-response") {
        format!("the response it returns {singular}")
    } else {
        format!("calls it rejects {plural}")
    }
}

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    for list in ctx.inbound_lists() {
        let children: Vec<_> = list.child_elements().collect();
        let Some(cors_at) = children.iter().position(|c| ctx.is_cors(*c)) else {
            continue;
        };
        let Some(gate) = children[..cors_at]
            .iter()
            .copied()
            .find(|c| ctx.is_gate(*c))
        else {
            continue;
        };
        let cors = children[cors_at];
        let gate_at = children
            .iter()
            .position(|c| c.id() == gate.id())
            .unwrap_or(0);
        // What the statements moved over set (a gate's output variables included, and
        // the parents' statements when `<cors>` moves above `<base />`), against what
        // `<cors>` reads.
        let sets = Sets::of(ctx, &children[gate_at..cors_at]);
        let (reads, reads_unknown) = reads_of(cors);
        let why_unsafe = sets.conflict("`<cors>`", &reads, reads_unknown);
        let applicability = if why_unsafe.is_some() {
            Applicability::Unsafe
        } else {
            Applicability::Safe
        };
        let (insert, delete) = move_before(ctx.doc, cors, gate);
        let message = format!(
            "`<{}>` runs before `<cors>`: {} no CORS headers, and the browser reports a CORS error",
            gate.name(),
            what_it_ends(gate.name(), "get", "gets")
        );
        out.push(
            Diagnostic::new(Rule::CorsFirst, gate.start_tag(), message).with_fix(
                match &why_unsafe {
                    Some(why) => format!(
                        "Move `<{}>` above `<{}>` (unsafe: {why})",
                        cors.name(),
                        gate.name()
                    ),
                    None => format!("Move `<{}>` above `<{}>`", cors.name(), gate.name()),
                },
                Fix::new(applicability, insert, [delete]),
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::layout::Scope;
    use crate::rules::test_support::{findings, findings_with, fix_all, fix_with};

    const GATED: &str = "<policies>\n    <inbound>\n        <base />\n        <rate-limit calls=\"100\" renewal-period=\"60\" />\n        <set-header name=\"x-a\" exists-action=\"override\"><value>a</value></set-header>\n        <!-- the SPA calls from here -->\n        <cors allow-credentials=\"true\">\n            <allowed-origins>\n                <origin>https://app.contoso.com</origin>\n            </allowed-origins>\n        </cors>\n        <quota calls=\"1000\" renewal-period=\"3600\" />\n    </inbound>\n</policies>\n";

    #[test]
    fn flags_the_first_gate_before_cors() {
        assert_eq!(
            findings(GATED, Scope::Api, "cors-first"),
            [
                "4:9 `<rate-limit>` runs before `<cors>`: calls it rejects get no CORS headers, and the browser reports a CORS error"
            ]
        );
    }

    #[test]
    fn moves_cors_with_its_comment_above_the_gate() {
        insta::assert_snapshot!(fix_all(GATED, Scope::Api));
    }

    #[test]
    fn gates_are_configurable_and_choose_counts() {
        let src = "<policies><inbound><validate-jwt header-name=\"Authorization\" /><cors><allowed-origins><origin>*</origin></allowed-origins></cors></inbound></policies>";
        let fixed = "<policies><inbound><cors><allowed-origins><origin>*</origin></allowed-origins></cors><validate-jwt header-name=\"Authorization\" /></inbound></policies>";
        assert_eq!(fix_all(src, Scope::Global), fixed, "validate-jwt is a default gate");
        let ignore: crate::rules::RuleSettings =
            yaml_serde::from_str("cors-first:\n  ignore-gates: [Validate-JWT]\n").unwrap();
        assert!(findings_with(src, Scope::Global, &ignore, &Default::default(), "cors-first").is_empty());
        let odata = src.replace("validate-jwt header-name=\"Authorization\"", "validate-odata-request");
        assert!(findings(&odata, Scope::Global, "cors-first").is_empty());
        let extend: crate::rules::RuleSettings =
            yaml_serde::from_str("cors-first:\n  extend-gates: [validate-odata-request]\n").unwrap();
        assert_eq!(findings_with(&odata, Scope::Global, &extend, &Default::default(), "cors-first").len(), 1);
        let choose = "<fragment>\n  <choose>\n    <when condition=\"@(true)\">\n      <quota calls=\"1\" renewal-period=\"1\" />\n    </when>\n  </choose>\n  <cors />\n</fragment>";
        assert_eq!(findings(choose, Scope::Fragment, "cors-first").len(), 1);
    }

    #[test]
    fn every_default_gate_counts() {
        for gate in super::DEFAULT_GATES {
            let attrs = if gate.starts_with("validate-") && gate != "validate-jwt" && !gate.contains("token") && !gate.contains("certificate") {
                " unspecified-content-type-action=\"prevent\""
            } else {
                ""
            };
            let src = format!("<policies><inbound><{gate}{attrs} /><cors /></inbound></policies>");
            assert_eq!(findings(&src, Scope::Global, "cors-first").len(), 1, "{gate}");
        }
    }

    #[test]
    fn a_hand_written_preflight_answer_is_not_a_gate() {
        let src = "<policies><inbound><choose><when condition=\"@(context.Request.Method == &quot;OPTIONS&quot;)\"><return-response><set-status code=\"204\" /></return-response></when></choose><cors /></inbound></policies>";
        assert!(findings(src, Scope::Global, "cors-first").is_empty());
        let negated = src.replace("==", "!=");
        assert_eq!(findings(&negated, Scope::Global, "cors-first").len(), 1);
    }

    #[test]
    fn gates_that_never_reject_as_written_do_not_count() {
        let detect = "<policies><inbound><validate-content unspecified-content-type-action=\"detect\" max-size=\"100\" size-exceeded-action=\"ignore\"><content type=\"application/json\" validate-as=\"json\" action=\"detect\" /></validate-content><cors /></inbound></policies>";
        assert!(findings(detect, Scope::Global, "cors-first").is_empty());
        let prevent = detect.replace("action=\"detect\" /", "action=\"prevent\" /");
        assert_eq!(findings(&prevent, Scope::Global, "cors-first").len(), 1);
        let expression = detect.replace("size-exceeded-action=\"ignore\"", "size-exceeded-action=\"@(\"prevent\")\"");
        assert_eq!(findings(&expression, Scope::Global, "cors-first").len(), 1);
        let cert = "<policies><inbound><validate-client-certificate ignore-error=\"true\" /><cors /></inbound></policies>";
        assert!(findings(cert, Scope::Global, "cors-first").is_empty());
        let cert = cert.replace("true", "false");
        assert_eq!(findings(&cert, Scope::Global, "cors-first").len(), 1);
    }

    #[test]
    fn unsafe_when_cors_reads_a_variable_set_in_between() {
        let src = "<policies>\n  <inbound>\n    <rate-limit calls=\"1\" renewal-period=\"1\" />\n    <set-variable name=\"o\" value=\"https://a\" />\n    <cors>\n      <allowed-origins>\n        <origin>@((string)context.Variables[\"o\"])</origin>\n      </allowed-origins>\n    </cors>\n  </inbound>\n</policies>";
        assert_eq!(
            fix_all(src, Scope::Global),
            src,
            "an unsafe fix is not applied by default"
        );
    }

    #[test]
    fn a_gate_nested_in_any_element_counts() {
        let src = "<policies>\n  <inbound>\n    <retry condition=\"@(true)\" count=\"2\" interval=\"1\">\n      <rate-limit calls=\"1\" renewal-period=\"1\" />\n    </retry>\n    <cors />\n  </inbound>\n</policies>";
        assert_eq!(
            findings(src, Scope::Global, "cors-first"),
            [
                "3:5 `<retry>` runs before `<cors>`: calls it rejects get no CORS headers, and the browser reports a CORS error"
            ]
        );
        assert_eq!(
            fix_all(src, Scope::Global),
            "<policies>\n  <inbound>\n    <cors />\n    <retry condition=\"@(true)\" count=\"2\" interval=\"1\">\n      <rate-limit calls=\"1\" renewal-period=\"1\" />\n    </retry>\n  </inbound>\n</policies>"
        );
    }

    #[test]
    fn an_included_cors_fragment_counts_as_the_cors() {
        use crate::repo::RepoFacts;
        let facts = RepoFacts {
            cors_fragments: ["cors-common".to_owned()].into(),
            ..RepoFacts::default()
        };
        let settings = crate::rules::RuleSettings::default();
        let src = "<policies>\n  <inbound>\n    <quota calls=\"1\" renewal-period=\"1\" />\n    <include-fragment fragment-id=\"cors-common\" />\n  </inbound>\n</policies>";
        assert_eq!(
            crate::rules::test_support::findings_with(src, Scope::Global, &settings, &facts, "cors-first").len(),
            1
        );
        assert_eq!(
            fix_with(src, Scope::Global, &settings, &facts),
            "<policies>\n  <inbound>\n    <include-fragment fragment-id=\"cors-common\" />\n    <quota calls=\"1\" renewal-period=\"1\" />\n  </inbound>\n</policies>"
        );
        // Without the repo's facts the fragment is unknown: nothing to report.
        assert!(findings(src, Scope::Global, "cors-first").is_empty());
        // What the fragment reads is unknown: a variable set in between makes the move unsafe.
        let between = src.replace(
            "    <include-fragment",
            "    <set-variable name=\"o\" value=\"x\" />\n    <include-fragment",
        );
        assert_eq!(fix_with(&between, Scope::Global, &settings, &facts), between);
    }

    #[test]
    fn a_gate_that_sets_a_variable_cors_reads_makes_the_move_unsafe() {
        // `remaining-calls-variable-name` names an output variable: `<cors>` reading it
        // would read nothing once moved above the gate.
        let src = "<policies>\n  <inbound>\n    <rate-limit calls=\"5\" renewal-period=\"60\" remaining-calls-variable-name=\"left\" />\n    <cors>\n      <allowed-origins>\n        <origin>@((int)context.Variables[\"left\"] > 0 ? \"https://a.example\" : \"https://b.example\")</origin>\n      </allowed-origins>\n    </cors>\n  </inbound>\n</policies>\n";
        assert_eq!(fix_all(src, Scope::Global), src);
        // Another variable: safe.
        let other = src.replace("context.Variables[\"left\"]", "context.Variables[\"tier\"]");
        assert_ne!(fix_all(&other, Scope::Global), other);
    }

    #[test]
    fn a_gate_behind_a_comment_on_its_line_leaves_no_blank_line() {
        // Issue #12: the move left a whitespace-only line, which `git diff --check` refuses.
        let src = "<policies>\n    <inbound>\n        <!-- x --><rate-limit calls=\"1\" renewal-period=\"60\" />\n        <cors>\n            <allowed-origins>\n                <origin>https://a.example</origin>\n            </allowed-origins>\n        </cors>\n    </inbound>\n</policies>\n";
        let fixed = fix_all(src, Scope::Global);
        assert_eq!(
            fixed,
            "<policies>\n    <inbound>\n        <cors>\n            <allowed-origins>\n                <origin>https://a.example</origin>\n            </allowed-origins>\n        </cors>\n        <!-- x --><rate-limit calls=\"1\" renewal-period=\"60\" />\n    </inbound>\n</policies>\n"
        );
        for line in fixed.lines() {
            assert!(!line.ends_with([' ', '\t']), "{line:?}");
        }
    }

    #[test]
    fn elements_sharing_lines_move_without_leaving_trailing_blanks() {
        let src = "<policies>\n    <inbound>\n        <rate-limit calls=\"1\" renewal-period=\"60\" /> <cors />\n    </inbound>\n</policies>\n";
        let fixed = fix_all(src, Scope::Global);
        assert!(fixed.contains("<cors /><rate-limit"), "{fixed}");
        for line in fixed.lines() {
            assert!(!line.ends_with([' ', '\t']), "{line:?}");
        }
    }
}

//! The repo model on real APIOps repos: `APIMFIX_CORPUS` names the corpus folder (CI sets
//! it; the corpus is not part of the project). The invariants that hold for any repo run on
//! every repo found there, or on this project's fixture repos when it is unset; the tests of
//! particular corpus repos need the corpus itself.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use apimfix::rules::cors_first::GateOptions;
use apimfix::rules::cors_origins::CorsOriginsOptions;

use crate::repo_support::findings;
use apimfix::repo::{Repo, Section};
use apimfix::rules::Rule;

const APIOPS: &str = "Azure__apiops/SampleArtifacts";
const REDBEARD: &str = "anotherRedbeard__apimdemo-environment/apimartifacts";
const MITULASHAH: &str = "mitulashah__demo-integrationsvcs/apimartifacts";

fn corpus_root(repo: &str) -> Option<PathBuf> {
    let corpus = std::env::var_os("APIMFIX_CORPUS")?;
    Some(PathBuf::from(corpus).join(repo))
}

/// Loads the repo and checks what must hold for any repo: no load errors, every chain
/// composes into four sections whose statements are verbatim slices of their files (but
/// for the parent's statements spliced in place of a nested `<base />`).
fn load_and_compose(root: &Path) -> Repo {
    let repo = Repo::load(root).unwrap_or_else(|e| panic!("{}: {e}", root.display()));
    assert!(repo.errors().is_empty(), "{:?}", repo.errors());
    let chains = repo.chains();
    assert!(!chains.is_empty());
    for chain in &chains {
        let effective = repo.effective_for(chain);
        assert_eq!(effective.sections.len(), 4);
        for section in &effective.sections {
            for statement in &section.statements {
                let text = std::fs::read_to_string(&statement.path).unwrap();
                let written = &text[statement.range.start()..statement.range.end()];
                // A `<base />` nested in the statement is expanded in place: the text up to
                // the first one is the file's, the rest holds the parent's statements.
                match written.find("<base") {
                    Some(at) if written != statement.source => assert_eq!(
                        &written[..at],
                        &statement.source[..at],
                        "{chain}: {}",
                        statement.file
                    ),
                    _ => assert_eq!(written, statement.source, "{chain}: {}", statement.file),
                }
            }
        }
        let again = repo
            .effective(
                &chain.api_id(),
                chain.operation.as_deref(),
                chain.product.as_deref(),
            )
            .unwrap();
        assert_eq!(again, effective);
    }
    repo
}

/// Every APIOps artifacts root below the corpus (or the fixtures).
fn every_root() -> Vec<PathBuf> {
    let (dir, real) = crate::common::corpus_or_fixtures();
    let roots = apimfix::repo::find_roots(&crate::common::xml_files(&dir));
    assert!(roots.len() >= if real { 3 } else { 9 }, "{roots:?}");
    roots
}

#[test]
fn every_repo_composes_and_reports_each_root_cause_once() {
    let origins = CorsOriginsOptions {
        origins: vec!["https://app.contoso.com".to_owned()],
        ..CorsOriginsOptions::default()
    };
    let mut cross_scope = 0;
    let real = crate::common::corpus_or_fixtures().1;
    for root in every_root() {
        let Ok(repo) = Repo::load(&root) else {
            continue;
        };
        if repo.errors().is_empty() && !repo.chains().is_empty() {
            load_and_compose(&root);
        }
        // A cross-scope finding names what no per-file finding of its rule names: never the
        // same top-level element (a section, or a fragment's statement) of the same file.
        let all = findings(&repo, &GateOptions::default(), &origins);
        let settings = apimfix::rules::RuleSettings {
            cors_origins: apimfix::rules::Toggle::Options(origins.clone()),
            ..Default::default()
        };
        let repo_only = apimfix::rules::check_repo(&repo, &settings);
        cross_scope += repo_only.len();
        let holder = |path: &Path, at: usize| {
            repo.document(path)
                .unwrap()
                .root()
                .child_elements()
                .find(|s| apimfix::text::Ranged::range(s).contains(at))
                .map(|s| s.id())
        };
        for finding in &repo_only {
            let d = &finding.diagnostic;
            let place = holder(&finding.path, d.range.start());
            let twins: Vec<&str> = all
                .iter()
                .filter(|f| {
                    f.path == finding.path
                        && f.diagnostic.rule == d.rule
                        && f.diagnostic.message != d.message
                        && (f.diagnostic.range.start() == d.range.start()
                            || place.is_some()
                                && holder(&f.path, f.diagnostic.range.start()) == place)
                })
                .map(|f| f.diagnostic.message.as_str())
                .collect();
            assert!(
                twins.is_empty(),
                "{}: `{}` is reported twice: {} / {twins:?}",
                finding.path.display(),
                d.rule.name(),
                d.message
            );
        }
    }
    // The fixtures hold findings only the chains show, so the check above is not vacuous.
    assert!(
        real || cross_scope > 0,
        "some repo has a finding only its chains show"
    );
}

fn inbound_names(repo: &Repo, api: &str, op: Option<&str>, product: Option<&str>) -> Vec<String> {
    let effective = repo.effective(api, op, product).unwrap();
    effective
        .section(Section::Inbound)
        .iter()
        .map(|s| format!("{} @ {}", s.name, s.file))
        .collect()
}

#[test]
fn apiops_sample_artifacts() {
    let Some(root) = corpus_root(APIOPS) else {
        return;
    };
    let repo = load_and_compose(&root);
    let gates = GateOptions::default();

    // No cors anywhere; the API policies have no `<base />`, so nothing global reaches them.
    let facts = repo.facts_for(&root.join("apis/basic-api/policy.xml"), &gates.gates());
    assert_eq!(facts.repo_has_cors, Some(false));
    assert_eq!(facts.ancestor_has_cors, Some(false));
    assert_eq!(
        inbound_names(&repo, "basic-api", Some("create-item"), Some("product1")),
        [
            "find-and-replace @ apis/basic-api/operations/create-item/policy.xml",
            "set-header @ apis/basic-api/operations/create-item/policy.xml",
        ]
    );
    // The revision shares its API's membership of product1.
    assert!(
        repo.chains()
            .iter()
            .any(|c| c.api == "revisioned-api;rev=2" && c.product.as_deref() == Some("product1"))
    );
    // Only the API policies' sections without `<base />` are reported: no `<cors>` runs, and
    // none is lost.
    let rules: Vec<Rule> = findings(&repo, &gates, &CorsOriginsOptions::default())
        .iter()
        .map(|f| f.diagnostic.rule)
        .collect();
    assert!(!rules.is_empty());
    assert!(rules.iter().all(|r| *r == Rule::BaseMissing), "{rules:?}");

    // With an origin declared, the one `cors-origins` finding is at the global inbound.
    let origins = CorsOriginsOptions {
        origins: vec!["https://app.contoso.com".to_owned()],
        ..CorsOriginsOptions::default()
    };
    let findings: Vec<_> = findings(&repo, &gates, &origins)
        .into_iter()
        .filter(|f| f.diagnostic.rule != Rule::BaseMissing)
        .collect();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].diagnostic.rule, Rule::CorsOrigins);
    assert_eq!(repo.display_path(&findings[0].path), "policy.xml");
}

#[test]
fn another_redbeard_global_cors_and_starter_gates() {
    let Some(root) = corpus_root(REDBEARD) else {
        return;
    };
    let repo = load_and_compose(&root);
    let gates = GateOptions::default();

    // starter's membership is the union of its `apis/` markers and its `apis.json`:
    // star-wars is only in the latter, doc-intelligence only in the former.
    for api in ["star-wars", "doc-intelligence", "echo-api"] {
        assert!(
            repo.chains()
                .iter()
                .any(|c| c.api == api && c.product.as_deref() == Some("starter")),
            "{api} via starter"
        );
    }
    assert_eq!(
        repo.facts_for(&root.join("products/starter/policy.xml"), &gates.gates())
            .ancestor_has_cors,
        Some(true)
    );
    let starter = inbound_names(&repo, "star-wars", None, Some("starter"));
    assert_eq!(
        starter[..3],
        [
            "rate-limit @ products/starter/policy.xml",
            "quota @ products/starter/policy.xml",
            "cors @ policy.xml",
        ]
    );

    // The gate problems: starter's rate-limit (and quota after it) run before the global
    // cors that its `<base />` brings in, and so does the `return-response` of the operation
    // OAuthProtectedResource (a default gate since issue 13); one finding each, whose fix
    // moves `<base />` above them. Two global origins end with `/` (info).
    let findings = findings(&repo, &gates, &CorsOriginsOptions::default());
    let seen: Vec<(Rule, String, usize)> = findings
        .iter()
        .map(|f| {
            let doc = repo.document(&f.path).unwrap();
            let line = doc
                .line_index()
                .line_column(doc.source(), f.diagnostic.range.start())
                .line;
            (f.diagnostic.rule, repo.display_path(&f.path), line)
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                Rule::BaseFirst,
                "apis/dotnetfunc-api/operations/OAuthProtectedResource/policy.xml".to_owned(),
                10
            ),
            (Rule::CorsOriginInvalid, "policy.xml".to_owned(), 18),
            (Rule::CorsOriginInvalid, "policy.xml".to_owned(), 19),
            (
                Rule::BaseFirst,
                "products/starter/policy.xml".to_owned(),
                15
            ),
        ]
    );
    assert!(
        findings[0]
            .diagnostic
            .message
            .contains("`<return-response>`")
    );
    assert!(findings[3].diagnostic.message.contains("`<rate-limit>`"));
    assert!(findings.iter().all(|f| f.diagnostic.fix.is_some()));
}

#[test]
fn mitulashah_global_cors_and_usage_fragment() {
    let Some(root) = corpus_root(MITULASHAH) else {
        return;
    };
    let repo = load_and_compose(&root);
    let gates = GateOptions::default();

    let facts = repo.facts_for(
        &root.join("apis/demo-conference-api/policy.xml"),
        &gates.gates(),
    );
    assert_eq!(facts.ancestor_has_cors, Some(true));
    assert_eq!(facts.repo_has_cors, Some(true));
    assert_eq!(
        facts.gate_fragments,
        BTreeSet::from(["usage-policies-inbound".to_owned()])
    );
    assert!(facts.cors_fragments.is_empty());

    // The fragment's gates run after the global cors, so nothing is reported.
    for api in ["demo-conference-api", "demo-conference-api;rev=1"] {
        let names = inbound_names(&repo, api, None, None);
        assert_eq!(names[0], "cors @ policy.xml");
        assert_eq!(
            names[2..4],
            [
                "rate-limit @ policy fragments/usage-policies-inbound/policy.xml",
                "quota-by-key @ policy fragments/usage-policies-inbound/policy.xml",
            ]
        );
    }
    // Only the global origin `https://colors-web.azurewebsites.net/` (info) is reported.
    let gate_free = |gates: &GateOptions| {
        let found = findings(&repo, gates, &CorsOriginsOptions::default());
        let rules: Vec<Rule> = found.iter().map(|f| f.diagnostic.rule).collect();
        assert_eq!(rules, [Rule::CorsOriginInvalid]);
    };
    gate_free(&gates);
    // With validate-jwt and validate-content counted twice, still nothing runs before the cors.
    let strict = GateOptions {
        extend_gates: vec!["validate-jwt".to_owned(), "validate-content".to_owned()],
        ..GateOptions::default()
    };
    gate_free(&strict);
}

//! Everything the rules say about the fixture repos (each file's own findings, with the
//! repo's facts, and the cross-scope findings), rendered `path:line:col rule message`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use apimfix::repo::Repo;
use apimfix::rules::cors_first::GateOptions;
use apimfix::rules::cors_origins::CorsOriginsOptions;
use apimfix::rules::{RepoFinding, RuleSettings};

use crate::repo_support::findings;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/repo")
        .join(name)
}

fn origins(list: &[&str]) -> CorsOriginsOptions {
    CorsOriginsOptions {
        origins: list.iter().map(|o| (*o).to_owned()).collect(),
        ..CorsOriginsOptions::default()
    }
}

fn render(repo: &Repo, findings: &[RepoFinding]) -> String {
    let mut out = String::new();
    for f in findings {
        let doc = repo
            .document(&f.path)
            .expect("findings point into parsed files");
        let at = doc
            .line_index()
            .line_column(doc.source(), f.diagnostic.range.start());
        out.push_str(&format!(
            "{}:{at} {} {}\n",
            repo.display_path(&f.path),
            f.diagnostic.rule.name(),
            f.diagnostic.message
        ));
    }
    out
}

fn findings_of(name: &str, declared: &[&str]) -> String {
    let repo = Repo::load(&fixture(name)).unwrap();
    let findings = findings(&repo, &GateOptions::default(), &origins(declared));
    render(&repo, &findings)
}

#[test]
fn no_cors_anywhere_with_origins_declared() {
    insta::assert_snapshot!(findings_of("no-cors", &["https://app.contoso.com"]));
}

#[test]
fn no_cors_anywhere_without_origins_is_quiet() {
    assert_eq!(findings_of("no-cors", &[]), "");
}

#[test]
fn cors_lacking_declared_origins() {
    insta::assert_snapshot!(findings_of(
        "cors-lacks-origin",
        &[
            "https://APP.contoso.com",
            "https://admin.contoso.com",
            "http://portal.contoso.com",
        ]
    ));
}

#[test]
fn global_cors_lost_by_a_section_without_base() {
    insta::assert_snapshot!(findings_of("lost-base", &[]));
}

#[test]
fn gates_before_cors_in_the_same_file_and_before_base() {
    insta::assert_snapshot!(findings_of("gate-order", &[]));
}

#[test]
fn product_gates_before_base_under_global_cors() {
    insta::assert_snapshot!(findings_of("product-gates", &[]));
}

#[test]
fn fragment_holding_a_gate_included_before_cors() {
    insta::assert_snapshot!(findings_of("fragment-gate", &[]));
}

#[test]
fn workspace_gate_before_an_api_cors_after_base() {
    insta::assert_snapshot!(findings_of("workspace", &[]));
}

#[test]
fn no_global_policy_points_at_the_first_api_file() {
    insta::assert_snapshot!(findings_of("no-global", &["https://app.contoso.com"]));
}

#[test]
fn mixed_repo() {
    insta::assert_snapshot!(findings_of(
        "mixed",
        &["https://app.contoso.com", "https://admin.contoso.com"]
    ));
}

#[test]
fn extended_gates_count() {
    let gates = GateOptions {
        extend_gates: vec!["SET-HEADER".to_owned()],
        ..GateOptions::default()
    };
    // lost-base: every set-header runs after the cors or in a chain without one.
    let repo = Repo::load(&fixture("lost-base")).unwrap();
    let base = findings(&repo, &GateOptions::default(), &origins(&[]));
    assert_eq!(findings(&repo, &gates, &origins(&[])), base);

    // workspace: the global set-header runs before the workspace API's cors, so it now counts,
    // matched case-insensitively.
    let repo = Repo::load(&fixture("workspace")).unwrap();
    let text = render(&repo, &findings(&repo, &gates, &origins(&[])));
    assert!(
        text.contains("`<cors>` runs after `<set-header>` of global scope (policy.xml:3)"),
        "{text}"
    );
}

#[test]
fn from_documents_matches_load() {
    let root = fixture("mixed");
    let loaded = Repo::load(&root).unwrap();
    let documents: Vec<(PathBuf, Arc<apimfix::syntax::Document>)> = loaded
        .paths()
        .map(|p| {
            let bytes = std::fs::read(p).unwrap();
            let doc = apimfix::syntax::parse_bytes(bytes, &Default::default()).unwrap();
            (p.to_path_buf(), Arc::new(doc))
        })
        .collect();
    let handed = Repo::from_documents(&root, documents).unwrap();
    let gates = GateOptions::default();
    let declared = origins(&["https://admin.contoso.com"]);
    assert_eq!(
        render(&handed, &findings(&handed, &gates, &declared)),
        render(&loaded, &findings(&loaded, &gates, &declared))
    );
    assert_eq!(handed.chains(), loaded.chains());
}

#[test]
fn cross_scope_findings_carry_no_fix_and_the_rule_severity() {
    let mut seen = 0;
    for (name, declared) in [
        ("workspace", &[][..]),
        ("no-global", &["https://a.example"][..]),
    ] {
        let repo = Repo::load(&fixture(name)).unwrap();
        let settings = RuleSettings {
            cors_origins: apimfix::rules::Toggle::Options(origins(declared)),
            ..RuleSettings::default()
        };
        for f in apimfix::rules::check_repo(&repo, &settings) {
            assert!(f.diagnostic.fix.is_none());
            assert_eq!(f.diagnostic.severity, f.diagnostic.rule.default_severity());
            seen += 1;
        }
    }
    assert!(
        seen >= 2,
        "both fixtures have a finding only the chains show"
    );
}

/// The rule fixtures tree (tests/fixtures/rules) as one repo: every CORS defect class of
/// issue 13 shows there, the cross-scope ones (subscription-key header, header versioning,
/// CORS headers set in another file of the chain, a `<cors>` fragment outside inbound) too.
#[test]
fn rule_fixtures_as_a_repo() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules");
    let repo = Repo::load(&root).unwrap();
    assert!(repo.errors().is_empty(), "{:?}", repo.errors());
    let findings = findings(&repo, &GateOptions::default(), &origins(&[]));
    insta::assert_snapshot!(render(&repo, &findings));
}

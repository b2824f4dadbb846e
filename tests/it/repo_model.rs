//! The repo model on the fixture repos: loading, chains, effective policies, lookup errors,
//! per-file facts and root discovery.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use apimfix::repo::{Chain, Repo, RepoError, Section, find_roots};
use apimfix::report::effective::{to_json, to_xml};
use apimfix::rules::cors_first::GateOptions;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/repo")
        .join(name)
}

fn load(name: &str) -> Repo {
    Repo::load(&fixture(name)).unwrap()
}

fn chain_labels(repo: &Repo) -> Vec<String> {
    repo.chains().iter().map(Chain::to_string).collect()
}

#[test]
fn chains_cover_products_apis_and_operations() {
    let repo = load("product-gates");
    // billing: in starter by `apis.json`; orders: in starter by `productApiInformation.json`
    // and in unlimited by `apis.json` (two products, so three chains). `ghost` is listed but
    // has no folder. billing's `refund` operation has no policy file but is a chain.
    assert_eq!(
        chain_labels(&repo),
        [
            "billing/pay",
            "billing/refund",
            "billing/pay via starter",
            "billing/refund via starter",
            "orders",
            "orders via starter",
            "orders via unlimited",
        ]
    );
}

#[test]
fn revisions_and_workspaces_are_their_own_apis() {
    let repo = load("mixed");
    assert_eq!(
        chain_labels(&repo),
        [
            "broken",
            "orders/list-orders",
            "orders/list-orders via gold",
            "orders;rev=2",
            "orders;rev=2 via gold",
            "team-a/inventory",
        ]
    );
    let inventory = repo.chains().pop().unwrap();
    assert_eq!(inventory.workspace.as_deref(), Some("team-a"));
    assert_eq!(inventory.api, "inventory");
    assert_eq!(inventory.api_id(), "team-a/inventory");
}

#[test]
fn unparsable_files_and_bad_metadata_are_recorded_not_fatal() {
    let repo = load("mixed");
    let errors: Vec<String> = repo
        .errors()
        .iter()
        .map(|e| match e {
            RepoError::Syntax { path, .. } => format!("syntax {}", repo.display_path(path)),
            RepoError::Json { path, .. } => format!("json {}", repo.display_path(path)),
            other => format!("other {other}"),
        })
        .collect();
    assert_eq!(
        errors,
        [
            "json products/silver/apis.json",
            "syntax apis/broken/policy.xml"
        ]
    );
    // The broken API counts as having its default policy: `<base />` everywhere.
    let effective = repo.effective("broken", None, None).unwrap();
    let names: Vec<&str> = effective
        .section(Section::Inbound)
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(names, ["rate-limit-by-key", "cors"]);
    assert!(
        repo.document(&fixture("mixed").join("apis/broken/policy.xml"))
            .is_none()
    );
}

#[test]
fn missing_root_is_an_io_error_with_its_path() {
    let missing = fixture("does-not-exist");
    match Repo::load(&missing) {
        Err(RepoError::Io { path, .. }) => assert_eq!(path, missing),
        other => panic!("expected an I/O error, got {other:?}"),
    }
}

#[test]
fn effective_xml_operation_through_product() {
    let repo = load("product-gates");
    let effective = repo
        .effective("billing", Some("pay"), Some("starter"))
        .unwrap();
    insta::assert_snapshot!(to_xml(&effective));
}

#[test]
fn effective_xml_nested_base_in_choose() {
    let repo = load("gate-order");
    insta::assert_snapshot!(to_xml(&repo.effective("search", None, None).unwrap()));
}

#[test]
fn effective_xml_lost_base_inherits_nothing() {
    let repo = load("lost-base");
    let effective = repo.effective("orders", Some("list-orders"), None).unwrap();
    insta::assert_snapshot!(to_xml(&effective));
}

#[test]
fn effective_xml_workspace_and_fragments() {
    let repo = load("mixed");
    insta::assert_snapshot!(to_xml(
        &repo.effective("team-a/inventory", None, None).unwrap()
    ));
}

#[test]
fn effective_xml_revision_through_product() {
    let repo = load("mixed");
    let effective = repo.effective("orders;rev=2", None, Some("gold")).unwrap();
    insta::assert_snapshot!(to_xml(&effective));
}

#[test]
fn effective_json_fragment_and_unresolved_include() {
    let repo = load("fragment-gate");
    let orders = to_json(&repo.effective("orders", None, None).unwrap());
    let unresolved = to_json(&repo.effective("unresolved", None, None).unwrap());
    let both = serde_json::json!({ "orders": orders, "unresolved": unresolved });
    insta::assert_snapshot!(serde_json::to_string_pretty(&both).unwrap());
}

#[test]
fn workspace_fragment_shadows_the_service_fragment() {
    let repo = load("workspace");
    let from = |api: &str| {
        let effective = repo.effective(api, None, None).unwrap();
        let statement = effective
            .section(Section::Inbound)
            .iter()
            .find(|s| s.fragment.as_deref() == Some("headers"))
            .cloned()
            .unwrap();
        statement.file
    };
    assert_eq!(from("orders"), "policy fragments/headers/policy.xml");
    assert_eq!(
        from("team-a/orders"),
        "workspaces/team-a/policy fragments/headers/policy.xml"
    );
    insta::assert_snapshot!(to_xml(
        &repo.effective("team-a/orders", None, Some("team")).unwrap()
    ));
}

#[test]
fn effective_statements_keep_file_line_and_verbatim_source() {
    let repo = load("gate-order");
    let effective = repo.effective("orders", None, None).unwrap();
    let inbound = effective.section(Section::Inbound);
    let quota = &inbound[0];
    assert_eq!(
        (quota.name.as_str(), quota.file.as_str(), quota.line),
        ("quota", "apis/orders/policy.xml", 3)
    );
    assert_eq!(
        quota.source,
        r#"<quota calls="1000" renewal-period="3600" />"#
    );
    let cors = &inbound[2];
    assert_eq!(
        (cors.name.as_str(), cors.file.as_str(), cors.line),
        ("cors", "policy.xml", 4)
    );
    let text = std::fs::read_to_string(&cors.path).unwrap();
    assert_eq!(&text[cors.range.start()..cors.range.end()], cors.source);
    assert!(cors.source.ends_with("</cors>"));
    // The global backend's forward-request arrives through the API's `<base />`.
    let backend = effective.section(Section::Backend);
    assert_eq!(backend.len(), 1);
    assert_eq!(backend[0].name, "forward-request");
}

#[test]
fn no_global_file_means_no_global_statements() {
    let repo = load("no-global");
    let effective = repo.effective("alpha", None, Some("p1")).unwrap();
    let names: Vec<&str> = effective
        .section(Section::Inbound)
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(names, ["set-header"]);
    assert!(effective.section(Section::Backend).is_empty());
}

#[test]
fn unknown_names_list_what_is_known() {
    let repo = load("product-gates");
    let err = repo.effective("order", None, None).unwrap_err();
    assert!(matches!(
        &err,
        RepoError::UnknownApi { name, known } if name == "order" && known == &["billing", "orders"]
    ));
    assert_eq!(
        err.to_string(),
        "unknown API `order`; known APIs: `billing`, `orders`"
    );

    let err = repo.effective("billing", Some("charge"), None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "API `billing` has no operation `charge`; its operations: `pay`, `refund`"
    );
    let err = repo.effective("orders", Some("get"), None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "API `orders` has no operation `get`; it has no operation folders"
    );

    // `unlimited` exists but does not hold billing; `gold` does not exist at all.
    for product in ["unlimited", "gold"] {
        let err = repo.effective("billing", None, Some(product)).unwrap_err();
        assert!(matches!(
            &err,
            RepoError::UnknownProduct { known, .. } if known == &["starter"]
        ));
        assert_eq!(
            err.to_string(),
            format!("no product `{product}` holds API `billing`; products holding it: `starter`")
        );
    }
    let repo = load("no-cors");
    let err = repo.effective("orders", None, Some("starter")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no product `starter` holds API `orders`; no product holds it"
    );
}

#[test]
fn facts_per_scope() {
    let root = fixture("product-gates");
    let repo = Repo::load(&root).unwrap();
    let gates = GateOptions::default();
    let facts = |rel: &str| repo.facts_for(&root.join(rel), &gates.gates());

    let global = facts("policy.xml");
    assert_eq!(global.ancestor_has_cors, Some(false));
    assert_eq!(global.repo_has_cors, Some(true));
    assert_eq!(
        facts("products/starter/policy.xml").ancestor_has_cors,
        Some(true)
    );
    assert_eq!(
        facts("apis/orders/policy.xml").ancestor_has_cors,
        Some(true)
    );
    assert_eq!(
        facts("apis/billing/operations/pay/policy.xml").ancestor_has_cors,
        Some(true)
    );
    // Not a file of the repo: nothing known.
    assert_eq!(
        facts("apis/billing/operations/refund/policy.xml"),
        Default::default()
    );
}

#[test]
fn facts_ancestors_in_some_chain() {
    // workspace: no cors at global or workspace scope; the workspace API holds one itself.
    let root = fixture("workspace");
    let repo = Repo::load(&root).unwrap();
    let gates = GateOptions::default();
    let facts = |rel: &str| repo.facts_for(&root.join(rel), &gates.gates());
    assert_eq!(
        facts("workspaces/team-a/apis/orders/policy.xml").ancestor_has_cors,
        Some(false)
    );
    assert_eq!(
        facts("workspaces/team-a/policy.xml").ancestor_has_cors,
        Some(false)
    );
    assert_eq!(facts("apis/orders/policy.xml").repo_has_cors, Some(true));
    assert_eq!(
        facts("policy fragments/headers/policy.xml").ancestor_has_cors,
        None,
        "fragments run at whatever scope includes them"
    );

    // mixed: the revision is in gold (a product with cors); the workspace API sees global's.
    let root = fixture("mixed");
    let repo = Repo::load(&root).unwrap();
    let facts = |rel: &str| repo.facts_for(&root.join(rel), &gates.gates());
    assert_eq!(
        facts("apis/orders;rev=2/policy.xml").ancestor_has_cors,
        Some(true)
    );
    assert_eq!(
        facts("products/gold/policy.xml").ancestor_has_cors,
        Some(true)
    );
    let inventory = facts("workspaces/team-a/apis/inventory/policy.xml");
    assert_eq!(inventory.ancestor_has_cors, Some(true));
    assert_eq!(
        inventory.gate_fragments,
        BTreeSet::from(["usage".to_owned()])
    );
    assert_eq!(
        inventory.cors_fragments,
        BTreeSet::from(["cors-common".to_owned()])
    );
}

#[test]
fn facts_without_cors_anywhere() {
    let root = fixture("no-cors");
    let repo = Repo::load(&root).unwrap();
    let gates = GateOptions {
        extend_gates: vec!["set-header".to_owned()],
        ..GateOptions::default()
    };
    let facts = repo.facts_for(&root.join("apis/orders/policy.xml"), &gates.gates());
    assert_eq!(facts.ancestor_has_cors, Some(false));
    assert_eq!(facts.repo_has_cors, Some(false));
    assert!(facts.gate_fragments.is_empty());
}

#[test]
fn find_roots_names_each_artifacts_root_once() {
    let a = fixture("mixed");
    let b = fixture("no-global");
    let files = vec![
        a.join("policy.xml"),
        a.join("apis/orders;rev=2/policy.xml"),
        a.join("workspaces/team-a/apis/inventory/policy.xml"),
        a.join("policy fragments/usage/policy.xml"),
        b.join("apis/alpha/policy.xml"),
        PathBuf::from("elsewhere/globalServicePolicy.xml"),
        PathBuf::from("elsewhere/policy.xml"),
    ];
    assert_eq!(find_roots(&files), [a, b]);
}

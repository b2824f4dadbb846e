//! Layouts beside the APIOps extractor tree, end to end: the apiops-cli tree, the
//! devops-resource-kit creator configuration, environments and named values.

use std::path::{Path, PathBuf};

use crate::common::{TestDir, apimfix};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/repo")
        .join(name)
}

/// `apimfix ARGS` run in the fixture folder `name`.
fn run_in(name: &str, args: &[&str]) -> crate::common::Run {
    let output = apimfix()
        .current_dir(fixture(name))
        .args(args)
        .output()
        .unwrap();
    crate::common::Run::from(output)
}

/// The `path:line:col: rule` heads of the findings in a text report.
fn heads(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|l| !l.starts_with(' ') && l.contains(": ") && l.matches(':').count() >= 4)
        .map(|l| {
            let mut parts = l.splitn(5, ':');
            let path = parts.next().unwrap();
            let line = parts.next().unwrap();
            let col = parts.next().unwrap();
            let rule = parts.next().unwrap().trim();
            let rule = rule.trim_end_matches(" [*]");
            format!("{path}:{line}:{col}: {rule}")
        })
        .collect()
}

#[test]
fn apiops_cli_tree_is_a_repo() {
    let run = run_in("apiops-cli", &["check", "-v", "."]);
    let mut heads = heads(&run.stdout);
    heads.sort();
    assert_eq!(
        heads,
        [
            // The API's `<cors>` runs first, so the operation's never applies.
            "apim-artifacts/apis/books/operations/list/policy.xml:4:9: cors-shadowed",
            // The product's fragment rate-limits before the API's `<cors>`, found through
            // `products/starter/apis.json` and `policyFragments/`.
            "apim-artifacts/apis/books/policy.xml:4:9: base-first",
        ],
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("apim-artifacts/policyFragments/limits/policy.xml: scope fragment"),
        "{}",
        run.stderr
    );
    // The resolver's data source is no policy document: left alone, not a syntax error and
    // not a file of unknown scope.
    assert!(
        run.stderr
            .contains("apim-artifacts/apis/books/resolvers/book-author/policy.xml: skipped"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("unknown scope"), "{}", run.stderr);
    assert_eq!(run.code, 1);
}

#[test]
fn resolver_policies_have_their_own_scope() {
    let t = TestDir::new();
    t.write("a/apis/g/apiInformation.json", "{}");
    t.write(
        "a/apis/g/resolvers/q/policy.xml",
        "<policies>\n    <inbound>\n        <base />\n    </inbound>\n</policies>\n",
    );
    let run = t.run(&["check", "-v", "a"]);
    assert!(
        run.stderr.contains(
            "a/apis/g/resolvers/q/policy.xml: scope resolver (path pattern apiops-cli `apis/<api>/resolvers/<resolver>/policy.xml`)"
        ),
        "{}",
        run.stderr
    );
    // No parent: `<base />` is flagged, and no section asks for one.
    assert_eq!(
        heads(&run.stdout),
        ["a/apis/g/resolvers/q/policy.xml:3:9: base-forbidden"],
        "{}",
        run.stdout
    );
}

#[test]
fn resource_kit_creator_configuration_is_a_repo() {
    let run = run_in("resource-kit", &["check", "-v", "."]);
    let mut heads = heads(&run.stdout);
    heads.sort();
    assert_eq!(
        heads,
        [
            // The API's `<cors>` runs first: the operation's is dead.
            "Input/get-order.xml:4:9: cors-shadowed",
            // Product `Gold Tier` (linked by display name) quotas before the API's `<cors>`.
            "Input/orders-api.xml:4:9: base-first",
        ],
        "{}",
        run.stdout
    );
    for (file, scope) in [
        ("global.xml", "global"),
        ("gold.xml", "product"),
        ("orders-api.xml", "api"),
        ("get-order.xml", "operation"),
    ] {
        assert!(
            run.stderr.contains(&format!(
                "Input/{file}: scope {scope} (the resource-kit creator configuration that names the file)"
            )),
            "{file}: {}",
            run.stderr
        );
    }
    assert!(!run.stderr.contains("unknown scope"), "{}", run.stderr);
}

#[test]
fn resource_kit_effective_policy() {
    let run = run_in(
        "resource-kit",
        &[
            "effective",
            "Input/creator.yml",
            "--api",
            "orders",
            "--operation",
            "getOrder",
            "--product",
            "Gold Tier",
        ],
    );
    // A product is named by its `name`; the display name is no product.
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("`gold`"), "{}", run.stderr);

    let run = run_in(
        "resource-kit",
        &[
            "effective",
            "Input/creator.yml",
            "--api",
            "orders",
            "--operation",
            "getOrder",
            "--product",
            "gold",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let origins: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("<!-- from "))
        .map(str::trim)
        .collect();
    assert_eq!(
        origins,
        [
            // The global policy is named by an absolute Windows path of another machine.
            "<!-- from Input/global.xml:3 -->",
            "<!-- from Input/gold.xml:4 -->",
            "<!-- from Input/orders-api.xml:4 -->",
            "<!-- from Input/get-order.xml:4 -->",
            "<!-- from Input/global.xml:8 -->",
        ],
        "{}",
        run.stdout
    );
}

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

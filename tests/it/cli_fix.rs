//! End-to-end: `apimfix fix` on the bundled example repos (all four seed scenarios).

use crate::common::{TestDir, git};

#[test]
fn fix_prints_a_diff_that_git_applies_and_changes_nothing_on_disk() {
    let t = TestDir::copy_of("examples");
    let before = t.snapshot_bytes();
    let run = t.run(&["fix", "."]);
    assert_eq!(run.code, 1, "a printed diff exits 1\n{}", run.stderr);
    assert_eq!(
        t.snapshot_bytes(),
        before,
        "fix without --write touches nothing"
    );
    insta::assert_snapshot!("examples_fix_diff", run.stdout);

    // The diff applies with `git apply`, as reviewdog -f=diff and suggest-changes need.
    git(t.path(), &["init", "-q"]);
    std::fs::write(t.path().join("fix.patch"), &run.stdout).unwrap();
    git(t.path(), &["apply", "--check", "fix.patch"]);
    git(t.path(), &["apply", "fix.patch"]);
    std::fs::remove_file(t.path().join("fix.patch")).unwrap();
    std::fs::remove_dir_all(t.path().join(".git")).unwrap();

    // Applying the diff gives what --write gives.
    let written = TestDir::copy_of("examples");
    // Exits 1: the unsafe `base-missing` findings remain.
    assert_eq!(written.run(&["fix", "--write", "."]).code, 1);
    let strip = |t: &TestDir| {
        t.snapshot_bytes()
            .into_iter()
            .map(|(p, b)| (p.strip_prefix(t.path()).unwrap().to_path_buf(), b))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&t), strip(&written));
}

#[test]
fn fix_write_repairs_every_seed_scenario_and_a_second_run_finds_nothing() {
    let t = TestDir::copy_of("examples");
    // `base-missing` in the examples turns on the parents' rate limits: unsafe (issue #12).
    let first = t.run(&["fix", "--write", "--unsafe-fixes", "."]);
    assert_eq!(
        first.code, 0,
        "nothing unfixed remains\nstdout:\n{}\nstderr:\n{}",
        first.stdout, first.stderr
    );

    // Scenario 1: the repo without any <cors> gets one at global scope.
    assert!(
        t.read("no-cors/policy.xml")
            .contains("<origin>https://portal.contoso.com</origin>")
    );
    // Scenario 1b: the declared origin is appended to the existing <cors>.
    let global = t.read("contoso/policy.xml");
    assert!(global.contains("<origin>https://admin.contoso.com</origin>\n                <origin>https://portal.contoso.com</origin>"), "{global}");
    // Scenario 2: the API that lost <base /> gets it back, with its CRLF and tabs.
    assert!(
        t.read("contoso/apis/orders/policy.xml")
            .starts_with("<policies>\r\n\t<inbound>\r\n\t\t<base />\r\n")
    );
    // Scenario 3: <cors> now comes before the global rate limit.
    assert!(global.find("<cors").unwrap() < global.find("<rate-limit-by-key").unwrap());
    // Scenario 4: the product's <base /> comes before its rate limit and quota.
    let product = t.read("contoso/products/starter/policy.xml");
    assert!(
        product.find("<base />").unwrap() < product.find("<rate-limit").unwrap(),
        "{product}"
    );

    let after = t.snapshot_bytes();
    let second = t.run(&["fix", "--write", "."]);
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert_eq!(t.snapshot_bytes(), after, "the second run changes nothing");
    let check = t.run(&["check", "."]);
    assert_eq!(
        check.code, 0,
        "check finds nothing after the fix:\n{}",
        check.stdout
    );
}

#[test]
fn check_reports_every_scenario_with_positions() {
    let t = TestDir::copy_of("examples");
    let run = t.run(&["check", "--output-format", "json", "."]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let mut found: Vec<String> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{}:{} {}",
                f["path"].as_str().unwrap(),
                f["location"]["line"],
                f["rule"].as_str().unwrap()
            )
        })
        .collect();
    found.sort();
    insta::assert_debug_snapshot!("examples_check_findings", found);
}

#[test]
fn stdin_prints_the_fixed_text() {
    let t = TestDir::new();
    let src = "<policies>\n  <inbound>\n    <rate-limit calls=\"1\" renewal-period=\"1\" />\n  </inbound>\n</policies>\n";
    let run = t.run_stdin(
        &[
            "fix",
            "-",
            "--stdin-filename",
            "apis/a/policy.xml",
            "--scope",
            "api",
            // No repo around stdin: what `<base />` turns on is unknown, so the fix is unsafe.
            "--unsafe-fixes",
        ],
        src,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "<policies>\n  <inbound>\n    <base />\n    <rate-limit calls=\"1\" renewal-period=\"1\" />\n  </inbound>\n</policies>\n"
    );
}

#[test]
fn clean_files_exit_zero_with_no_output() {
    let t = TestDir::new();
    t.write(
        "apis/a/policy.xml",
        "<policies>\n  <inbound>\n    <base />\n  </inbound>\n</policies>\n",
    );
    let run = t.run(&["fix", "."]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""));
    assert_eq!(t.run(&["check", "."]).code, 0);
}

/// Also shows the canonical order the fixes converge to: `<cors>`, `<base />`, then gates.
#[test]
fn fix_keeps_bom_crlf_and_tabs() {
    let t = TestDir::new();
    let src = "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<policies>\r\n\t<inbound>\r\n\t\t<quota calls=\"1\" renewal-period=\"1\" />\r\n\t\t<cors>\r\n\t\t\t<allowed-origins>\r\n\t\t\t\t<origin>https://a.contoso.com</origin>\r\n\t\t\t</allowed-origins><allowed-headers><header>*</header></allowed-headers>\r\n\t\t</cors>\r\n\t</inbound>\r\n\t<outbound />\r\n</policies>";
    t.write("apis/a/policy.xml", src);
    let run = t.run(&["fix", "--write", "."]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        t.read("apis/a/policy.xml"),
        "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<policies>\r\n\t<inbound>\r\n\t\t<cors>\r\n\t\t\t<allowed-origins>\r\n\t\t\t\t<origin>https://a.contoso.com</origin>\r\n\t\t\t</allowed-origins><allowed-headers><header>*</header></allowed-headers>\r\n\t\t</cors>\r\n\t\t<base />\r\n\t\t<quota calls=\"1\" renewal-period=\"1\" />\r\n\t</inbound>\r\n\t<outbound>\r\n\t\t<base />\r\n\t</outbound>\r\n</policies>"
    );
}

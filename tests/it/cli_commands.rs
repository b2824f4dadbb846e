//! End-to-end: the commands besides `fix`, and the options every file command shares.

use crate::common::{TestDir, apimfix};

const MESSY: &str = "<policies>\n<inbound>\n  <base/>\n      <set-header name=\"a\"   exists-action=\"override\"><value>@(context.Request.Headers.GetValueOrDefault(\"x\", \"\"))</value></set-header>\n\n\n</inbound>\n    <backend><base /></backend>\n</policies>";

#[test]
fn rules_lists_every_rule_and_rule_explains_one() {
    let out = apimfix().arg("rules").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for name in [
        "base-missing",
        "base-first",
        "cors-first",
        "cors-origins",
        "cors-shadowed",
        "cors-product-scope",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(name)),
            "{name} missing from:\n{text}"
        );
    }
    let out = apimfix().args(["rule", "cors-first"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("# cors-first\n"), "{text}");
    for heading in [
        "## What it does",
        "## Why is this bad?",
        "## Example",
        "## Fix safety",
        "## References",
    ] {
        assert!(text.contains(heading), "{heading}");
    }
    let unknown = apimfix().args(["rule", "cors-last"]).output().unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("known rules: base-missing"));
}

#[test]
fn effective_composes_a_chain_of_the_example_repo() {
    let out = apimfix()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "effective",
            "examples/contoso",
            "--api",
            "orders",
            "--operation",
            "get-order",
            "--product",
            "starter",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    insta::assert_snapshot!(
        "effective_orders_get_order_via_starter",
        String::from_utf8(out.stdout).unwrap()
    );
    let json = apimfix()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "effective",
            "examples/contoso",
            "--api",
            "echo",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(
        value.to_string().contains("rate-limit-by-key"),
        "the global inbound is composed in"
    );
    let unknown = apimfix()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["effective", "examples/contoso", "--api", "ordres"])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    let err = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        err.contains("ordres") && err.contains("orders") && err.contains("echo"),
        "{err}"
    );
}

#[test]
fn fmt_diff_check_write_and_stdin() {
    let t = TestDir::new();
    t.write("apis/a/policy.xml", MESSY);
    let diff = t.run(&["fmt", "."]);
    assert_eq!(diff.code, 1, "{}", diff.stderr);
    assert!(
        diff.stdout
            .starts_with("diff --git a/apis/a/policy.xml b/apis/a/policy.xml\n")
    );
    assert_eq!(
        t.read("apis/a/policy.xml"),
        MESSY,
        "fmt without --write touches nothing"
    );
    let check = t.run(&["fmt", "--check", "."]);
    assert_eq!(
        (check.code, check.stdout.as_str()),
        (1, "apis/a/policy.xml\n")
    );
    assert_eq!(t.run(&["fmt", "--write", "."]).code, 0);
    let formatted = t.read("apis/a/policy.xml");
    insta::assert_snapshot!("fmt_messy", formatted);
    assert_eq!(
        t.run(&["fmt", "--check", "."]).code,
        0,
        "formatting is stable"
    );
    let stdin = t.run_stdin(&["fmt", "-"], MESSY);
    assert_eq!((stdin.code, stdin.stdout.as_str()), (0, formatted.as_str()));
}

#[test]
fn fix_format_fixes_then_formats() {
    let t = TestDir::new();
    t.write("apis/a/policy.xml", MESSY.replace("  <base/>\n", ""));
    assert_eq!(t.run(&["fix", "--write", "--format", "."]).code, 0);
    let text = t.read("apis/a/policy.xml");
    assert!(text.starts_with("<policies>\n    <inbound>\n        <base />\n        <set-header name=\"a\" exists-action=\"override\">"), "{text}");
    assert_eq!(t.run(&["fmt", "--check", "."]).code, 0);
}

#[test]
fn verbose_says_each_scope_and_why() {
    let t = TestDir::new();
    t.write(
        "apis/a/policy.xml",
        "<policies><inbound><base /></inbound></policies>",
    );
    t.write("misc/thing.xml", "<policies><inbound /></policies>");
    let run = t.run(&["check", "-v", "."]);
    assert!(
        run.stderr.contains("apis/a/policy.xml: scope api"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("misc/thing.xml: scope unknown"),
        "{}",
        run.stderr
    );
    let forced = t.run(&["check", "--scope", "operation", "misc/thing.xml"]);
    assert_eq!(
        forced.code, 1,
        "with a known scope the missing base is found"
    );
}

#[test]
fn statistics_count_findings_per_rule() {
    let t = TestDir::new();
    t.write(
        "apis/a/policy.xml",
        "<policies>\n<inbound />\n<outbound />\n</policies>",
    );
    let run = t.run(&["check", "--statistics", "."]);
    assert!(
        run.stdout
            .lines()
            .any(|l| l.trim_start().starts_with("2  base-missing")),
        "{}",
        run.stdout
    );
}

#[test]
fn machine_formats_keep_stdout_for_the_report() {
    let t = TestDir::new();
    t.write("apis/a/policy.xml", "<policies>\n<inbound />\n</policies>");
    t.write("apis/b/policy.xml", "<policies>\n<inbound>\n</policies>");
    for format in ["json", "sarif", "rdjson"] {
        let run = t.run(&["check", "--output-format", format, "."]);
        assert_eq!(run.code, 2, "the broken file makes it exit 2");
        let value: serde_json::Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{format}: {e}\n{}", run.stdout));
        assert!(value.to_string().contains("base-missing"), "{format}");
        assert!(
            run.stderr.contains("apis/b/policy.xml:3:1: error"),
            "{format}: {}",
            run.stderr
        );
    }
    let github = t.run(&[
        "check",
        "--output-format",
        "github",
        "--exit-zero",
        "apis/a",
    ]);
    assert_eq!(github.code, 0);
    assert!(
        github
            .stdout
            .starts_with("::warning file=apis/a/policy.xml,line=2"),
        "{}",
        github.stdout
    );
}

#[test]
fn config_errors_point_at_the_line_and_exit_2() {
    let t = TestDir::new();
    t.write("apis/a/policy.xml", "<policies><inbound /></policies>");
    t.write("rules.yaml", "rules:\n  cors-first:\n    gatez: [quota]\n");
    let run = t.run(&["check", "."]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("rules.yaml:3:5"), "{}", run.stderr);
    assert!(run.stderr.contains("gatez"), "{}", run.stderr);
}

#[test]
fn config_turns_rules_off_and_ignores_per_file() {
    let t = TestDir::new();
    t.write("apis/a/policy.xml", "<policies><inbound /></policies>");
    t.write("apis/legacy/policy.xml", "<policies><inbound /></policies>");
    t.write(
        "rules.yaml",
        "per-file-ignores:\n  \"apis/legacy/*\": [base-missing]\n",
    );
    let run = t.run(&["check", "."]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("apis/a/policy.xml") && !run.stdout.contains("apis/legacy"),
        "{}",
        run.stdout
    );
    t.write("rules.yaml", "rules:\n  base-missing: false\n");
    assert_eq!(t.run(&["check", "."]).code, 0);
}

/// Files are worked on repo by repo (and loose files in batches) on several threads; the
/// output must still come in path order, whatever unit a file was in, and be the same on
/// every run. With the cross-scope findings of each repo in it.
#[test]
fn output_is_in_path_order_across_repos_and_loose_files() {
    let t = TestDir::new();
    let lost_base =
        "<policies><inbound><rate-limit calls=\"5\" renewal-period=\"60\" /></inbound></policies>";
    let global = "<policies><inbound><cors><allowed-origins><origin>https://a.example</origin></allowed-origins><allowed-headers><header>*</header></allowed-headers></cors></inbound></policies>";
    for repo in ["b-repo", "a-repo", "c-repo/nested"] {
        t.write(&format!("{repo}/policy.xml"), global);
        t.write(&format!("{repo}/apis/x/policy.xml"), lost_base);
        t.write(&format!("{repo}/apis/y/operations/o/policy.xml"), lost_base);
    }
    // More loose files than one batch holds, with names that sort between the repos. Their
    // scope is unknown, so they get the scope-free findings.
    let wildcard = "<policies><inbound><cors allow-credentials=\"true\"><allowed-origins><origin>*</origin></allowed-origins></cors></inbound></policies>";
    for i in 0..150 {
        t.write(&format!("b-loose/{i:03}.xml"), wildcard);
    }
    t.write("a.xml", wildcard);
    t.write("c-repo/zz.xml", wildcard);

    let first = t.run(&["check", "-v", "--output-format", "json", "."]);
    assert_eq!(first.code, 1, "{}", first.stderr);
    let json: serde_json::Value = serde_json::from_str(&first.stdout).unwrap();
    let paths: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted, "findings in path order");
    let files: std::collections::BTreeSet<&str> = paths.iter().copied().collect();
    assert_eq!(
        files.len(),
        3 * 2 + 150 + 2,
        "every file with a finding is reported"
    );
    // The cross-scope view is there: each repo's API policy lost its `<base />`, so the
    // global `<cors>` never runs for it.
    assert!(
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "base-missing" && f["path"] == "c-repo/nested/apis/x/policy.xml"),
        "{}",
        first.stdout
    );

    let scopes: Vec<&str> = first
        .stderr
        .lines()
        .filter(|l| l.contains(": scope "))
        .map(|l| l.split(": scope ").next().unwrap())
        .collect();
    let mut sorted_scopes = scopes.clone();
    sorted_scopes.sort();
    assert_eq!(scopes, sorted_scopes, "-v notes in path order");
    assert_eq!(scopes.len(), 3 * 3 + 150 + 2);

    for _ in 0..3 {
        let again = t.run(&["check", "-v", "--output-format", "json", "."]);
        assert_eq!(again.stdout, first.stdout, "the same output on every run");
    }
}

//! Regressions from the adversarial review: each test reproduces a reported defect.

use crate::common::TestDir;

const GLOBAL_CORS: &str = "<policies>\n  <inbound>\n    <cors>\n      <allowed-origins>\n        <origin>https://global.contoso.com</origin>\n      </allowed-origins><allowed-headers><header>*</header></allowed-headers>\n    </cors>\n  </inbound>\n  <backend>\n    <forward-request />\n  </backend>\n</policies>\n";

#[test]
fn a_global_cors_nested_in_choose_still_counts() {
    let t = TestDir::new();
    t.write("policy.xml", "<policies>\n  <inbound>\n    <choose>\n      <when condition=\"@(true)\">\n        <cors>\n          <allowed-origins>\n            <origin>https://portal.contoso.com</origin>\n          </allowed-origins><allowed-headers><header>*</header></allowed-headers>\n        </cors>\n      </when>\n    </choose>\n  </inbound>\n</policies>\n");
    t.write(
        "apis/a/policy.xml",
        "<policies>\n  <inbound>\n    <base />\n  </inbound>\n</policies>\n",
    );
    t.write(
        "rules.yaml",
        "rules:\n  cors-origins:\n    origins: [https://portal.contoso.com]\n",
    );
    let run = t.run(&["check", "."]);
    assert!(!run.stdout.contains("no `<cors>` runs"), "{}", run.stdout);
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[test]
fn a_cors_that_applies_in_some_chain_is_not_shadowed() {
    let t = TestDir::new();
    t.write("policy.xml", GLOBAL_CORS);
    // API a puts its own <cors> first: the global one loses there, but applies to API c.
    t.write("apis/a/policy.xml", "<policies>\n  <inbound>\n    <cors>\n      <allowed-origins>\n        <origin>https://api.contoso.com</origin>\n      </allowed-origins><allowed-headers><header>*</header></allowed-headers>\n    </cors>\n    <base />\n  </inbound>\n</policies>\n");
    t.write(
        "apis/c/policy.xml",
        "<policies>\n  <inbound>\n    <base />\n  </inbound>\n</policies>\n",
    );
    let run = t.run(&["check", "."]);
    assert!(
        !run.stdout.contains("policy.xml:3:5: cors-shadowed"),
        "{}",
        run.stdout
    );
    // Without API c, the global <cors> never applies: that is still reported.
    std::fs::remove_dir_all(t.path().join("apis/c")).unwrap();
    let run = t.run(&["check", "."]);
    assert!(
        run.stdout.contains("policy.xml:3:5: cors-shadowed"),
        "{}",
        run.stdout
    );
}

#[test]
fn base_first_keeps_a_local_cors_ahead_of_the_inherited_one() {
    let t = TestDir::new();
    t.write("policy.xml", GLOBAL_CORS);
    t.write("apis/a/policy.xml", "<policies>\n  <inbound>\n    <rate-limit calls=\"1\" renewal-period=\"1\" />\n    <cors>\n      <allowed-origins>\n        <origin>https://api.contoso.com</origin>\n      </allowed-origins><allowed-headers><header>*</header></allowed-headers>\n    </cors>\n    <base />\n  </inbound>\n</policies>\n");
    // An API that inherits the global <cors>, so that one applies somewhere.
    t.write(
        "apis/c/policy.xml",
        "<policies>\n  <inbound>\n    <base />\n  </inbound>\n</policies>\n",
    );
    // The APIs have no `<backend>`, so the global `forward-request` does not run for them:
    // `base-missing` reports that (issue #12), which is not what this test is about.
    assert_eq!(
        t.run(&["fix", "--write", "--ignore", "base-missing", "."])
            .code,
        0
    );
    let fixed = t.read("apis/a/policy.xml");
    assert!(
        fixed.find("<cors>").unwrap() < fixed.find("<base />").unwrap(),
        "{fixed}"
    );
    let check = t.run(&["check", "--ignore", "base-missing", "."]);
    assert_eq!(
        check.code, 0,
        "nothing left, no cors-shadowed on the API's own cors:\n{}",
        check.stdout
    );
}

#[test]
fn a_closed_pipe_keeps_the_exit_code() {
    let t = TestDir::new();
    for i in 0..300 {
        t.write(
            &format!("apis/a{i}/policy.xml"),
            "<policies>\n  <inbound />\n</policies>\n",
        );
    }
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_apimfix"))
        .current_dir(t.path())
        .args(["check", "--output-format", "json", "."])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    assert_eq!(
        child.wait().unwrap().code(),
        Some(1),
        "findings still exit 1 when the reader left"
    );
}

#[test]
fn fmt_check_on_stdin_lists_it_and_exits_1() {
    let t = TestDir::new();
    let run = t.run_stdin(
        &["fmt", "--check", "-"],
        "<policies><inbound><base/></inbound></policies>",
    );
    assert_eq!((run.code, run.stdout.as_str()), (1, "-\n"));
    let formatted = t
        .run_stdin(
            &["fmt", "-"],
            "<policies><inbound><base/></inbound></policies>",
        )
        .stdout;
    let clean = t.run_stdin(&["fmt", "--check", "-"], &formatted);
    assert_eq!((clean.code, clean.stdout.as_str()), (0, ""));
}

#[test]
fn a_missing_path_is_in_the_machine_report() {
    let t = TestDir::new();
    let run = t.run(&["check", "--output-format", "json", "nope"]);
    assert_eq!(run.code, 2);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["errors"][0]["path"], "nope");
    assert!(
        run.stderr.contains("nope: error: No such file"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("nope: error: nope"),
        "the path is not repeated: {}",
        run.stderr
    );
}

#[cfg(unix)]
#[test]
fn unwritten_files_count_no_fix_and_keep_their_findings() {
    use std::os::unix::fs::PermissionsExt;
    let t = TestDir::new();
    let ro = t.write(
        "apis/ro/policy.xml",
        "<policies>\n  <inbound />\n</policies>\n",
    );
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o444)).unwrap();
    let run = t.run(&["fix", "--write", "--output-format", "json", "."]);
    assert_eq!(run.code, 2);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        json["findings"].as_array().unwrap().len(),
        1,
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("Fixed 0 findings in 0 files; 1 finding remains"),
        "{}",
        run.stderr
    );
}

#[cfg(unix)]
#[test]
fn check_reads_through_a_named_symlink() {
    let t = TestDir::new();
    let target = t.write(
        "real/policy.xml",
        "<policies>\n  <inbound />\n</policies>\n",
    );
    std::os::unix::fs::symlink(&target, t.path().join("link.xml")).unwrap();
    let run = t.run(&["check", "--scope", "api", "link.xml"]);
    assert_eq!(
        run.code, 1,
        "a read-only run follows the link: {}",
        run.stderr
    );
    assert_eq!(
        t.run(&["fix", "--write", "link.xml"]).code,
        2,
        "a writing run still refuses it"
    );
}

#[test]
fn a_bom_does_not_shift_columns() {
    let t = TestDir::new();
    t.write(
        "apis/a/policy.xml",
        "\u{feff}<policies><inbound /></policies>",
    );
    let run = t.run(&["check", "."]);
    assert!(
        run.stdout.contains("apis/a/policy.xml:1:11: base-missing"),
        "{}",
        run.stdout
    );
}

#[test]
fn base_in_two_branches_of_a_choose_is_expanded_in_place_in_each() {
    let t = TestDir::new();
    t.write("policy.xml", GLOBAL_CORS);
    t.write("apis/a/policy.xml", "<policies>\n  <inbound>\n    <choose>\n      <when condition=\"@(true)\">\n        <base />\n      </when>\n      <otherwise>\n        <base />\n      </otherwise>\n    </choose>\n  </inbound>\n</policies>\n");
    let run = t.run(&["effective", ".", "--api", "a"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Issue #12: each `<base />` shows the parent where it stands (one branch runs), and
    // nothing of the parent is appended after the `<choose>`.
    assert_eq!(run.stdout.matches("<cors>").count(), 2, "{}", run.stdout);
    let after = run.stdout.split("</choose>").nth(1).unwrap();
    assert!(!after.contains("<cors>"), "{}", run.stdout);
    assert!(!run.stdout.contains("<base />"), "{}", run.stdout);
}

#[test]
fn cross_scope_findings_use_the_config_of_their_file() {
    let t = TestDir::new();
    t.write("policy.xml", "<policies>\n  <inbound>\n    <cors>\n      <allowed-origins>\n        <origin>https://a.contoso.com</origin>\n      </allowed-origins><allowed-headers><header>*</header></allowed-headers>\n    </cors>\n  </inbound>\n</policies>\n");
    t.write(
        "apis/a/policy.xml",
        "<policies>\n  <inbound>\n    <base />\n  </inbound>\n</policies>\n",
    );
    // Only the APIs folder declares an origin: the global policy is not governed by it.
    t.write(
        "apis/.apimfix.yaml",
        "rules:\n  cors-origins:\n    origins: [https://legacy.example]\n",
    );
    let run = t.run(&["check", "."]);
    assert!(
        !run.stdout.contains("policy.xml:3:5: cors-origins"),
        "{}",
        run.stdout
    );
    t.write(
        ".apimfix.yaml",
        "rules:\n  cors-origins:\n    origins: [https://legacy.example]\n",
    );
    let run = t.run(&["check", "."]);
    assert!(
        run.stdout.contains("policy.xml:3:5: cors-origins"),
        "{}",
        run.stdout
    );
}

#[test]
fn bad_product_metadata_is_an_error() {
    let t = TestDir::new();
    t.write("policy.xml", GLOBAL_CORS);
    t.write(
        "apis/a/policy.xml",
        "<policies>\n  <inbound>\n    <base />\n  </inbound>\n</policies>\n",
    );
    t.write("products/p/apis.json", "not json");
    let run = t.run(&["check", "."]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("products/p/apis.json"),
        "{}",
        run.stderr
    );
    assert_eq!(t.run(&["effective", ".", "--api", "a"]).code, 2);
}

#[test]
fn force_exclude_honours_ignore_files_for_named_files() {
    let t = TestDir::new();
    let ignored = t.write(
        "apis/e/policy.xml",
        "<policies>\n  <inbound />\n</policies>\n",
    );
    t.write(".apimfixignore", "apis/e/\n");
    let run = t.run(&["fix", "--write", "--force-exclude", "apis/e/policy.xml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(&ignored).unwrap(),
        "<policies>\n  <inbound />\n</policies>\n"
    );
    // Without --force-exclude a named file is always taken.
    assert_eq!(t.run(&["check", "apis/e/policy.xml"]).code, 1);
}

#[test]
fn format_widths_out_of_range_are_config_errors() {
    let t = TestDir::new();
    t.write(
        "apis/a/policy.xml",
        "<policies><inbound><base /></inbound></policies>",
    );
    t.write("rules.yaml", "format:\n  indent-width: 0\n");
    let run = t.run(&["fmt", "."]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(
            "rules.yaml:2:3: error: format: indent-width: 0 is out of range: expected 1 to 16"
        ),
        "{}",
        run.stderr
    );
    t.write("rules.yaml", "format:\n  line-width: 100000\n");
    assert_eq!(t.run(&["fmt", "."]).code, 2);
}

#[test]
fn fix_write_finishes_what_one_file_starts_in_another() {
    // Code-review finding: creating the global <cors> makes the product's base-first apply;
    // one `fix --write` must repair both, and a `check` after it find nothing.
    let t = TestDir::new();
    t.write("policy.xml", "<policies>\n  <inbound />\n</policies>\n");
    t.write("products/p/policy.xml", "<policies>\n  <inbound>\n    <rate-limit calls=\"1\" renewal-period=\"1\" />\n    <base />\n  </inbound>\n</policies>\n");
    t.write("products/p/apis/a/productApiInformation.json", "{}");
    t.write(
        "apis/a/policy.xml",
        "<policies>\n  <inbound>\n    <base />\n  </inbound>\n</policies>\n",
    );
    t.write(
        "rules.yaml",
        "rules:\n  cors-origins:\n    origins: [https://portal.contoso.com]\n",
    );
    let run = t.run(&["fix", "--write", "."]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let product = t.read("products/p/policy.xml");
    assert!(
        product.find("<base />").unwrap() < product.find("<rate-limit").unwrap(),
        "{product}"
    );
    let check = t.run(&["check", "."]);
    assert_eq!(check.code, 0, "{}", check.stdout);
}

#[test]
fn no_global_file_leaves_global_has_cors_to_the_config() {
    let t = TestDir::new();
    t.write("products/p/policy.xml", "<policies>\n  <inbound>\n    <quota calls=\"1\" renewal-period=\"1\" />\n    <base />\n  </inbound>\n</policies>\n");
    t.write(
        "apis/a/policy.xml",
        "<policies>\n  <inbound>\n    <base />\n  </inbound>\n</policies>\n",
    );
    assert_eq!(t.run(&["check", "."]).code, 0);
    t.write(
        "rules.yaml",
        "rules:\n  base-first:\n    global-has-cors: true\n",
    );
    let run = t.run(&["check", "."]);
    assert!(
        run.stdout.contains("products/p/policy.xml:3:5: base-first"),
        "{}",
        run.stdout
    );
}

/// A walked root spelled `link/../repo` is the `repo` beside the link's target, not the one
/// the text suggests: the listings the walk made there must not answer for `./repo`.
#[test]
fn a_root_spelled_through_link_dot_dot_does_not_lend_its_listings() {
    let t = TestDir::new();
    let rate_limit_first = "<policies><inbound><rate-limit calls=\"5\" renewal-period=\"60\" /><base /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>";
    t.write("work/repo/apis/a/policy.xml", rate_limit_first);
    t.write("work/repo/policy.xml", GLOBAL_CORS);
    t.write("elsewhere/repo/apis/zzz/policy.xml", rate_limit_first);
    t.write("elsewhere/deep/.keep", "");
    std::os::unix::fs::symlink("../elsewhere/deep", t.path().join("work/link")).unwrap();
    let run = crate::common::apimfix()
        .current_dir(t.path().join("work"))
        .args(["check", "link/../repo", "repo/apis/a/policy.xml"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        stdout.contains("repo/apis/a/policy.xml:1:20: base-first"),
        "the global <cors> of work/repo is seen: {stdout}"
    );
}

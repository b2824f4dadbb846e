//! Regressions from the adversarial review: each test reproduces a reported defect.

mod common;

use common::TestDir;

const GLOBAL_CORS: &str = "<policies>\n  <inbound>\n    <cors>\n      <allowed-origins>\n        <origin>https://global.contoso.com</origin>\n      </allowed-origins>\n    </cors>\n  </inbound>\n  <backend>\n    <forward-request />\n  </backend>\n</policies>\n";

#[test]
fn a_global_cors_nested_in_choose_still_counts() {
    let t = TestDir::new();
    t.write("policy.xml", "<policies>\n  <inbound>\n    <choose>\n      <when condition=\"@(true)\">\n        <cors>\n          <allowed-origins>\n            <origin>https://portal.contoso.com</origin>\n          </allowed-origins>\n        </cors>\n      </when>\n    </choose>\n  </inbound>\n</policies>\n");
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
    t.write("apis/a/policy.xml", "<policies>\n  <inbound>\n    <cors>\n      <allowed-origins>\n        <origin>https://api.contoso.com</origin>\n      </allowed-origins>\n    </cors>\n    <base />\n  </inbound>\n</policies>\n");
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
    t.write("apis/a/policy.xml", "<policies>\n  <inbound>\n    <rate-limit calls=\"1\" renewal-period=\"1\" />\n    <cors>\n      <allowed-origins>\n        <origin>https://api.contoso.com</origin>\n      </allowed-origins>\n    </cors>\n    <base />\n  </inbound>\n</policies>\n");
    // An API that inherits the global <cors>, so that one applies somewhere.
    t.write(
        "apis/c/policy.xml",
        "<policies>\n  <inbound>\n    <base />\n  </inbound>\n</policies>\n",
    );
    assert_eq!(t.run(&["fix", "--write", "."]).code, 0);
    let fixed = t.read("apis/a/policy.xml");
    assert!(
        fixed.find("<cors>").unwrap() < fixed.find("<base />").unwrap(),
        "{fixed}"
    );
    let check = t.run(&["check", "."]);
    assert_eq!(
        check.code, 0,
        "nothing left, no cors-shadowed on the API's own cors:\n{}",
        check.stdout
    );
}

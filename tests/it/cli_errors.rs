//! End-to-end: bad input gets a clear error with `path:line:column`, exit 2, the file is left
//! untouched, and the files beside it are still processed.

use crate::common::TestDir;

const NEEDS_BASE: &str = "<policies>\n  <inbound>\n    <rate-limit calls=\"1\" renewal-period=\"1\" />\n  </inbound>\n</policies>\n";

/// A repo with one good file needing a fix and one bad file; asserts the bad one is reported
/// at `line:col` with `message`, left as it was, and the good one still fixed.
fn assert_isolated(bad: &[u8], line_col: &str, message: &str) {
    let t = TestDir::new();
    t.write("apis/good/policy.xml", NEEDS_BASE);
    let bad_path = t.write("apis/bad/policy.xml", bad);
    let run = t.run(&["fix", "--write", "."]);
    assert_eq!(run.code, 2, "errors exit 2\n{}", run.stderr);
    let expected = format!("apis/bad/policy.xml:{line_col}: error: {message}");
    assert!(
        run.stderr.contains(&expected),
        "expected `{expected}` in:\n{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read(&bad_path).unwrap(),
        bad,
        "the bad file is untouched"
    );
    assert!(
        t.read("apis/good/policy.xml").contains("<base />"),
        "the good file is still fixed"
    );
}

#[test]
fn mismatched_tag() {
    assert_isolated(
        b"<policies>\n  <inbound>\n    <base />\n  </outbound>\n</policies>\n",
        "4:3",
        "mismatched closing tag: expected `</inbound>`, found `</outbound>`",
    );
}

#[test]
fn unclosed_element() {
    assert_isolated(
        b"<policies>\n  <inbound>\n    <base />\n",
        "2:3",
        "unclosed element `<inbound>`",
    );
}

#[test]
fn unterminated_expression() {
    assert_isolated(b"<policies>\n  <inbound>\n    <set-body>@{ return \"x\"; </set-body>\n  </inbound>\n</policies>", "3:15", "unterminated policy expression");
}

#[test]
fn not_utf8() {
    assert_isolated(
        b"<policies>\n  <inbound>\xff\xfe</inbound>\n</policies>",
        "2:12",
        "not UTF-8",
    );
}

#[test]
fn binary_data() {
    assert_isolated(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "3:1", "a NUL byte");
}

#[test]
fn empty_file() {
    assert_isolated(
        b"",
        "1:1",
        "the file is empty: expected a `<policies>` or `<fragment>` root element",
    );
}

#[test]
fn deeply_nested() {
    let mut doc = String::from("<policies><inbound>");
    doc.push_str(&"<choose>".repeat(100_000));
    doc.push_str(&"</choose>".repeat(100_000));
    doc.push_str("</inbound></policies>");
    let col = format!("1:{}", 20 + 8 * 254);
    assert_isolated(doc.as_bytes(), &col, "elements nest deeper than 256 levels");
}

#[test]
fn huge_file() {
    let mut doc = String::from("<policies>\n  <inbound>\n");
    let line = "    <set-header name=\"x\" exists-action=\"override\"><value>padding</value></set-header>\n";
    while doc.len() < 50 * 1024 * 1024 {
        doc.push_str(line);
    }
    doc.push_str("  </inbound>\n</policies>\n");
    assert_isolated(doc.as_bytes(), "1:1", "file too large");
}

#[test]
fn not_a_policy_is_an_error_when_named_and_skipped_when_walked() {
    let t = TestDir::new();
    t.write(
        "pom.xml",
        "<project><modelVersion>4.0.0</modelVersion></project>",
    );
    t.write(
        "apis/a/policy.xml",
        "<policies><inbound><base /></inbound></policies>",
    );
    assert_eq!(
        t.run(&["check", "."]).code,
        0,
        "a walked non-policy xml is skipped quietly"
    );
    let named = t.run(&["check", "pom.xml"]);
    assert_eq!(named.code, 2);
    assert!(
        named
            .stderr
            .contains("pom.xml:1:2: error: not an APIM policy document"),
        "{}",
        named.stderr
    );
}

#[test]
fn missing_path_is_reported_and_the_rest_still_checked() {
    let t = TestDir::new();
    t.write("apis/a/policy.xml", NEEDS_BASE);
    let run = t.run(&["check", "nope.xml", "apis"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("nope.xml"), "{}", run.stderr);
    assert!(
        run.stdout.contains("apis/a/policy.xml:2:3: base-missing"),
        "{}",
        run.stdout
    );
}

#[cfg(unix)]
#[test]
fn read_only_file_is_not_written_and_others_are() {
    use std::os::unix::fs::PermissionsExt;
    let t = TestDir::new();
    let ro = t.write("apis/ro/policy.xml", NEEDS_BASE);
    t.write("apis/rw/policy.xml", NEEDS_BASE);
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o444)).unwrap();
    let run = t.run(&["fix", "--write", "."]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("apis/ro/policy.xml"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&ro).unwrap(), NEEDS_BASE);
    assert!(t.read("apis/rw/policy.xml").contains("<base />"));
}

#[cfg(unix)]
#[test]
fn symlinks_are_not_followed_unless_asked() {
    let t = TestDir::new();
    let target = t.write("real/apis/a/policy.xml", NEEDS_BASE);
    std::fs::create_dir_all(t.path().join("repo/apis/a")).unwrap();
    std::os::unix::fs::symlink(&target, t.path().join("repo/apis/a/policy.xml")).unwrap();
    assert_eq!(
        t.run(&["fix", "--write", "repo"]).code,
        0,
        "a walked symlink is skipped"
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), NEEDS_BASE);
    let named = t.run(&["fix", "--write", "repo/apis/a/policy.xml"]);
    assert_eq!(named.code, 2, "{}", named.stderr);
    assert!(named.stderr.contains("symbolic link"), "{}", named.stderr);
    let followed = t.run(&[
        "fix",
        "--write",
        "--follow-symlinks",
        "repo/apis/a/policy.xml",
    ]);
    assert_eq!(followed.code, 0, "{}", followed.stderr);
    assert!(
        std::fs::read_to_string(&target)
            .unwrap()
            .contains("<base />")
    );
    assert!(
        t.path().join("repo/apis/a/policy.xml").is_symlink(),
        "the link itself stays a link"
    );
}

#[test]
fn paths_with_spaces_and_revisions() {
    let t = TestDir::new();
    t.write("my repo/apis/orders;rev=2/policy.xml", NEEDS_BASE);
    let run = t.run(&["fix", "."]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("+++ b/my repo/apis/orders;rev=2/policy.xml"),
        "{}",
        run.stdout
    );
    crate::common::git(t.path(), &["init", "-q"]);
    std::fs::write(t.path().join("p.patch"), &run.stdout).unwrap();
    crate::common::git(t.path(), &["apply", "p.patch"]);
    assert!(
        t.read("my repo/apis/orders;rev=2/policy.xml")
            .contains("<base />")
    );
}

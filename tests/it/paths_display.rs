//! Printed paths (issue 16 item 9): a crafted name cannot forge a report line, and a name
//! that is not UTF-8 prints as escaped bytes that can be typed back.

use crate::common::TestDir;

#[cfg(unix)]
#[test]
fn names_with_a_newline_or_a_non_utf8_byte_print_escaped() {
    use std::os::unix::ffi::OsStrExt;
    let t = TestDir::new();
    // The name forges a second, fake report line when printed raw.
    t.write("x.xml\n/etc/passwd:1:1: error: forged.xml", "<policies>\n");
    let odd = std::ffi::OsStr::from_bytes(b"c\xff.xml");
    std::fs::write(t.path().join(odd), "<policies>\n").unwrap();
    let run = t.run(&["check", "."]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("x.xml\\n/etc/passwd:1:1: error: forged.xml:1:1: error: unclosed element"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.lines().any(|l| l.starts_with("/etc/passwd")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("c\\xff.xml:1:1: error:"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains('\u{fffd}'), "{}", run.stderr);
}

/// The diff names the real file, quoted as git quotes it, so `git apply` finds it.
#[cfg(unix)]
#[test]
fn a_diff_for_an_odd_name_applies_with_git() {
    use std::os::unix::ffi::OsStrExt;
    let t = TestDir::new();
    let unformatted = "<policies><inbound><base /></inbound></policies>\n";
    t.write("apis/b\nx/policy.xml", unformatted);
    let odd = std::ffi::OsStr::from_bytes(b"apis/c\xff/policy.xml");
    std::fs::create_dir_all(
        t.path()
            .join("apis")
            .join(std::ffi::OsStr::from_bytes(b"c\xff")),
    )
    .unwrap();
    std::fs::write(t.path().join(odd), unformatted).unwrap();
    crate::common::git(t.path(), &["init", "-q"]);
    let run = t.run(&["fmt", "."]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains("\"a/apis/b\\nx/policy.xml\""),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("\"a/apis/c\\377/policy.xml\""),
        "{}",
        run.stdout
    );
    t.write("p.patch", &run.stdout);
    crate::common::git(t.path(), &["apply", "p.patch"]);
    assert_ne!(t.read("apis/b\nx/policy.xml"), unformatted);
}

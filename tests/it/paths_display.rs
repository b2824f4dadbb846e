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

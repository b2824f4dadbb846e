//! Symbolic links (issue 16 item 8): no write through a linked folder without
//! `--follow-symlinks`, and no source lines of a file reached through a link in a report.

use crate::common::TestDir;

const UNFORMATTED: &str = "<policies><inbound><base /></inbound></policies>\n";

#[cfg(unix)]
#[test]
fn no_write_through_a_linked_folder() {
    let t = TestDir::new();
    t.write("outside/x.xml", UNFORMATTED);
    t.write("tree/.keep", "");
    std::os::unix::fs::symlink("../outside", t.path().join("tree/linkdir")).unwrap();
    // A trailing `/` makes the system follow the link: refused all the same.
    for target in ["tree/linkdir/x.xml", "tree/linkdir", "tree/linkdir/"] {
        let run = t.run(&["fmt", "--write", target]);
        assert_eq!(run.code, 2, "{target}: {run:?}");
        assert!(
            run.stderr.contains(&format!(
                "{target}: error: goes through the symbolic link tree/linkdir; pass --follow-symlinks"
            )) || run.stderr.contains(&format!("{target}: error: is a symbolic link")),
            "{target}: {}",
            run.stderr
        );
        assert_eq!(t.read("outside/x.xml"), UNFORMATTED, "{target}");
    }
    let run = t.run(&["fmt", "--write", "--follow-symlinks", "tree/linkdir/x.xml"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_ne!(t.read("outside/x.xml"), UNFORMATTED, "followed on purpose");
}

#[cfg(unix)]
#[test]
fn a_linked_file_is_checked_without_showing_its_lines() {
    let t = TestDir::new();
    // A link added to the tree that points at a file the runner can read.
    t.write(
        "secrets/token.xml",
        "<policies>\n  <inbound>SECRET-TOKEN-4242\n</policies>\n",
    );
    t.write("tree/.keep", "");
    std::os::unix::fs::symlink("../secrets/token.xml", t.path().join("tree/link.xml")).unwrap();
    std::os::unix::fs::symlink("../secrets", t.path().join("tree/linkdir")).unwrap();
    for named in ["tree/link.xml", "tree/linkdir/token.xml"] {
        let run = t.run(&["check", named]);
        assert_eq!(run.code, 2, "{named}: {run:?}");
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(!all.contains("SECRET"), "{named}: {all}");
        assert!(
            all.contains(":3:1: error: mismatched closing tag"),
            "{named}: {all}"
        );
        assert!(
            all.contains("source not shown: the file was reached through a symbolic link"),
            "{named}: {all}"
        );
        let run = t.run(&["check", "--follow-symlinks", named]);
        assert!(run.stderr.contains("SECRET-TOKEN-4242"), "{named}: {run:?}");
    }
}

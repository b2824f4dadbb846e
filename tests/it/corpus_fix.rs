//! The real corpus through the binary: every file reads, fixes only insert or move lines,
//! and fixing twice changes nothing the second time.
//!
//! Runs over `$APIMFIX_CORPUS` when set (CI sets it to `../shared/corpus`), else over the
//! bundled examples.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::common::{TestDir, copy_tree};

fn corpus() -> (TestDir, bool) {
    match std::env::var_os("APIMFIX_CORPUS") {
        Some(dir) => {
            let t = TestDir::new();
            copy_tree(&PathBuf::from(dir), &t.path().join("corpus"));
            (t, true)
        }
        None => (TestDir::copy_of("examples"), false),
    }
}

#[test]
fn corpus_reads_fixes_minimally_and_is_idempotent() {
    let (t, real) = corpus();
    let files = t
        .snapshot_bytes()
        .iter()
        .filter(|(p, _)| p.extension().is_some_and(|e| e == "xml"))
        .count();
    assert!(files > 0, "no policy files found");
    if real {
        assert!(files >= 369, "APIMFIX_CORPUS holds only {files} xml files");
    }

    let check = t.run(&["check", "--exit-zero", "."]);
    assert_eq!(
        check.code, 0,
        "no file may fail to read or parse:\n{}",
        check.stderr
    );

    let diff = t.run(&["fix", "."]);
    assert_ne!(diff.code, 2, "{}", diff.stderr);
    assert_removed_lines_reappear(&diff.stdout);

    let first = t.run(&["fix", "--write", "--exit-zero", "."]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let after_first = t.snapshot_bytes();
    let second = t.run(&["fix", "."]);
    assert_eq!(
        (second.code, second.stdout.as_str()),
        (0, ""),
        "a second fix changes nothing:\n{}",
        second.stderr
    );
    assert_eq!(t.snapshot_bytes(), after_first);
    eprintln!(
        "checked {files} files; first fix: {}",
        first.stderr.lines().last().unwrap_or("")
    );
}

/// Per file of a unified diff: every `-` line appears among its `+` lines (a fix inserts or
/// moves, it never rewrites a line), or reappears with a character removed inside an
/// `<origin>` (`cors-origin-invalid` drops a trailing `/` or quotation marks).
fn assert_removed_lines_reappear(diff: &str) {
    let mut file = String::new();
    let mut removed: HashMap<String, Vec<String>> = HashMap::new();
    let mut added: HashMap<String, Vec<String>> = HashMap::new();
    for line in diff.lines() {
        if let Some(path) = line.strip_prefix("+++ b/") {
            file = path.to_owned();
        } else if line.starts_with("--- ") || line.starts_with("diff --git") {
        } else if let Some(l) = line.strip_prefix('-') {
            removed.entry(file.clone()).or_default().push(l.to_owned());
        } else if let Some(l) = line.strip_prefix('+') {
            added.entry(file.clone()).or_default().push(l.to_owned());
        }
    }
    for (file, lines) in removed {
        let mut pool = added.get(&file).cloned().unwrap_or_default();
        for l in lines {
            let at = pool.iter().position(|a| *a == l).or_else(|| {
                pool.iter()
                    .position(|a| only_inserted(&l, a) || opened(&l, a) || trimmed_origin(&l, a))
            });
            assert!(
                at.is_some(),
                "{file}: the fix rewrote the line {l:?} instead of moving it"
            );
            pool.remove(at.unwrap());
        }
    }
}

/// Whether `after` is `before` with text inserted (an element added inline).
fn only_inserted(before: &str, after: &str) -> bool {
    let mut rest = after.chars();
    before.chars().all(|c| rest.any(|a| a == c))
}

/// Whether `after` is the `<origin>` line `before` with text removed, and nothing else.
fn trimmed_origin(before: &str, after: &str) -> bool {
    before.contains("<origin>")
        && after.contains("<origin>")
        && after.len() < before.len()
        && only_inserted(after, before)
}

/// Whether `before` is a self-closed element `<x />` that `after` opens as `<x>`.
fn opened(before: &str, after: &str) -> bool {
    let b = before.trim();
    let Some(name) = b.strip_prefix('<').and_then(|r| r.strip_suffix("/>")) else {
        return false;
    };
    let name = name.trim();
    !name.contains(' ')
        && after.trim_start().starts_with(&format!("<{name}>"))
        && after.starts_with(&before[..before.len() - b.len()])
}

//! The unified diff: every case must go through `git apply --check` and `git apply` and give
//! the new text back byte for byte.

use std::path::Path;
use std::process::Command;

use crate::report_support::*;
use apimfix::fix::apply_edits;
use apimfix::report::diff::unified_diff;
use proptest::prelude::*;

/// A throwaway git repository.
struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Repo {
        let repo = Repo {
            dir: tempfile::tempdir().expect("a temp dir"),
        };
        repo.git(&["init", "-q"]);
        repo
    }

    fn git(&self, args: &[&str]) -> std::process::Output {
        let output = Command::new("git")
            .args(["-c", "core.autocrlf=false", "-c", "core.quotePath=false"])
            .args(args)
            .current_dir(self.dir.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", self.dir.path())
            .output()
            .expect("git runs");
        assert!(
            output.status.success(),
            "git {args:?} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    fn write(&self, path: &str, text: &str) {
        let full = self.dir.path().join(path);
        std::fs::create_dir_all(full.parent().expect("a parent")).expect("mkdir");
        std::fs::write(full, text).expect("write");
    }

    fn read(&self, path: &str) -> Vec<u8> {
        std::fs::read(self.dir.path().join(path)).expect("read")
    }

    /// `git apply --check`, then `git apply`, of `patch`.
    fn apply(&self, patch: &str) {
        let file = self.dir.path().join(Path::new("the.patch"));
        std::fs::write(&file, patch).expect("write the patch");
        let file = file.to_str().expect("a UTF-8 temp path");
        self.git(&["apply", "--check", file]);
        self.git(&["apply", file]);
    }
}

/// Diffs `old` to `new` at `path`, applies the diff with git and checks the bytes.
#[track_caller]
/// The diff of `old` -> `new` for the file at `path` (raw), made from its shown path as the
/// engine makes it, and checked by `git apply`.
fn round_trip(path: &str, old: &str, new: &str) -> String {
    let shown = apimfix::paths::escape_for_display(std::path::Path::new(path));
    let diff = unified_diff(&shown, old, new);
    assert!(!diff.is_empty(), "no diff for a change");
    let repo = Repo::new();
    repo.write(path, old);
    repo.apply(&diff);
    assert_eq!(
        String::from_utf8_lossy(&repo.read(path)),
        new,
        "git apply gave other bytes; the diff was:\n{diff}"
    );
    diff
}

#[test]
fn equal_texts_give_an_empty_diff() {
    assert_eq!(unified_diff("p.xml", POLICY, POLICY), "");
}

#[test]
fn the_fixes_of_a_report_as_a_diff() {
    let report = policy_report();
    let edits: Vec<_> = report
        .diagnostics
        .iter()
        .filter_map(|d| d.fix.as_ref())
        .flat_map(|fix| fix.edits())
        .collect();
    let fixed = apply_edits(&report.source, &edits).expect("the fixes do not overlap");
    let diff = round_trip(&report.display_path, &report.source, &fixed);
    insta::assert_snapshot!(diff);
}

#[test]
fn lf() {
    round_trip("p.xml", "a\nb\nc\n", "a\nB\nc\n");
}

#[test]
fn crlf_lines_keep_their_cr() {
    let diff = round_trip(
        "p.xml",
        "<policies>\r\n    <inbound />\r\n</policies>\r\n",
        "<policies>\r\n    <inbound>\r\n        <base />\r\n    </inbound>\r\n</policies>\r\n",
    );
    assert!(diff.contains("+        <base />\r\n"), "{diff:?}");
}

#[test]
fn mixed_endings() {
    round_trip(
        "p.xml",
        "one\r\ntwo\nthree\r\nfour\n",
        "one\r\ntwo\nTHREE\r\nfour\n",
    );
    round_trip("p.xml", "one\r\ntwo\nthree\r\n", "one\ntwo\r\nthree\n");
}

#[test]
fn lone_cr_is_not_a_line_break() {
    round_trip("p.xml", "a\rb\nc\n", "a\rb\nC\n");
    round_trip("p.xml", "a\nb\r", "a\nB\r");
}

#[test]
fn bom_is_kept_and_can_change() {
    round_trip(
        "p.xml",
        "\u{feff}<policies>\n</policies>\n",
        "\u{feff}<policies/>\n",
    );
    round_trip("p.xml", "\u{feff}a\nb\n", "a\nb\n");
}

#[test]
fn no_final_newline_in_either_or_both() {
    let both = round_trip("p.xml", "a\nb", "a\nB");
    assert_eq!(
        both.matches("\\ No newline at end of file").count(),
        2,
        "{both}"
    );
    let added = round_trip("p.xml", "a\nb", "a\nb\n");
    assert_eq!(added.matches("\\ No newline").count(), 1, "{added}");
    let removed = round_trip("p.xml", "a\nb\n", "a\nb");
    assert_eq!(removed.matches("\\ No newline").count(), 1, "{removed}");
    // The unchanged last line without newline is context, and still marked.
    let context = round_trip("p.xml", "a\nb\nc", "A\nb\nc");
    assert!(
        context.ends_with(" c\n\\ No newline at end of file\n"),
        "{context}"
    );
}

#[test]
fn empty_old_or_new_file() {
    round_trip("p.xml", "", "<policies />\n");
    round_trip("p.xml", "<policies />\n", "");
}

#[test]
fn paths_with_spaces_semicolons_and_non_ascii() {
    let diff = round_trip("apis/echo api;rev=2/pölicy café.xml", "a\n", "b\n");
    assert!(
        diff.starts_with(
            "diff --git a/apis/echo api;rev=2/pölicy café.xml b/apis/echo api;rev=2/pölicy café.xml\n\
             --- a/apis/echo api;rev=2/pölicy café.xml\t\n\
             +++ b/apis/echo api;rev=2/pölicy café.xml\t\n"
        ),
        "{diff}"
    );
}

#[test]
fn paths_git_must_quote() {
    let diff = round_trip("apis/we\"ird\\name\tx.xml", "a\n", "b\n");
    assert!(
        diff.starts_with(
            "diff --git \"a/apis/we\\\"ird\\\\name\\tx.xml\" \"b/apis/we\\\"ird\\\\name\\tx.xml\"\n"
        ),
        "{diff}"
    );
}

#[test]
fn several_hunks() {
    let old: String = (1..=40).map(|i| format!("line {i}\n")).collect();
    let new = old
        .replace("line 3\n", "line three\n")
        .replace("line 20\n", "")
        .replace("line 38\n", "line 38\nline 38.5\n");
    let diff = round_trip("p.xml", &old, &new);
    assert_eq!(diff.matches("\n@@ ").count(), 3, "{diff}");
    assert!(diff.contains("@@ -1,6 +1,6 @@\n"), "{diff}");
    assert!(diff.contains("@@ -17,7 +17,6 @@\n"), "{diff}");
    assert!(diff.contains("@@ -36,5 +35,6 @@\n"), "{diff}");
}

#[test]
fn several_files_in_one_patch() {
    let files = [
        ("apis/a/policy.xml", "a\nb\nc\n", "a\nB\nc\n"),
        ("apis/b c/policy.xml", "x\r\ny\r\n", "x\r\nY\r\n"),
        ("global/policy.xml", "<policies>", "<policies />\n"),
    ];
    let repo = Repo::new();
    let mut patch = String::new();
    for (path, old, new) in files {
        repo.write(path, old);
        patch.push_str(&unified_diff(path, old, new));
    }
    repo.apply(&patch);
    for (path, _, new) in files {
        assert_eq!(repo.read(path), new.as_bytes(), "{path}");
    }
}

/// Builds a text from line indices: each picks a line body, each ending picks `\n`, `\r\n`,
/// a lone `\r` plus `\n`, or nothing (no final newline when last).
fn text_from(lines: &[(u8, u8)]) -> String {
    const BODIES: [&str; 6] = ["<a>", "  <b />", "", "</a>", "\u{feff}x", "é"];
    const ENDINGS: [&str; 4] = ["\n", "\r\n", "\r\n", "\r\r\n"];
    let mut text = String::new();
    for (i, &(body, ending)) in lines.iter().enumerate() {
        text.push_str(BODIES[usize::from(body) % BODIES.len()]);
        let last = i + 1 == lines.len();
        if !(last && ending >= 200) {
            text.push_str(ENDINGS[usize::from(ending) % ENDINGS.len()]);
        }
    }
    text
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Random small texts with every kind of line ending go through `git apply`.
    #[test]
    fn random_texts_round_trip_through_git_apply(
        old in prop::collection::vec((any::<u8>(), any::<u8>()), 0..12),
        new in prop::collection::vec((any::<u8>(), any::<u8>()), 0..12),
    ) {
        let (old, new) = (text_from(&old), text_from(&new));
        prop_assume!(old != new);
        round_trip("apis/x y/policy.xml", &old, &new);
    }
}

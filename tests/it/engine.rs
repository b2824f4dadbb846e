//! The engine as a library: check, fix (with its rounds) and fmt over a temporary repo or a
//! text from stdin, and its typed errors.

use std::io::Cursor;
use std::path::Path;

use apimfix::engine::{self, Error, FileError, FileResult, Formatted, Inputs, Note, Options};
use apimfix::layout::Scope;

use crate::common::TestDir;

/// A repo where fixing one file (a new global `<cors>`) makes a rule apply in another (the
/// product's `base-first`): only a second round of fixes settles it.
fn two_round_repo() -> TestDir {
    let t = TestDir::new();
    t.write("policy.xml", "<policies>\n  <inbound />\n</policies>\n");
    t.write(
        "products/p/policy.xml",
        "<policies>\n  <inbound>\n    <rate-limit calls=\"1\" renewal-period=\"1\" />\n    <base />\n  </inbound>\n</policies>\n",
    );
    t.write("products/p/apis/a/productApiInformation.json", "{}");
    t.write(
        "apis/a/policy.xml",
        "<policies>\n  <inbound>\n    <base />\n  </inbound>\n</policies>\n",
    );
    t.write(
        "rules.yaml",
        "rules:\n  cors-origins:\n    origins: [https://portal.contoso.com]\n",
    );
    t
}

fn paths(t: &TestDir) -> Inputs {
    Inputs::Paths(vec![t.path().to_path_buf()])
}

/// The files that have something to show, by path relative to `root`.
fn shown(root: &Path, results: &[Option<Box<FileResult>>]) -> Vec<(String, Vec<&'static str>)> {
    results
        .iter()
        .flatten()
        .map(|r| {
            let path = r.path.as_deref().unwrap().strip_prefix(root).unwrap();
            let rules = r.diagnostics.iter().map(|d| d.rule.name()).collect();
            (path.to_string_lossy().replace('\\', "/"), rules)
        })
        .collect()
}

#[test]
fn check_finds_the_cross_scope_finding_of_a_repo() {
    let t = two_round_repo();
    let run = engine::check(paths(&t), &Options::default(), &()).unwrap();
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    assert_eq!(
        shown(t.path(), &run.results),
        vec![("policy.xml".to_owned(), vec!["cors-origins"])]
    );
    let finding = &run.results.iter().flatten().next().unwrap().diagnostics[0];
    assert!(finding.message.contains("https://portal.contoso.com"));
    assert!(finding.fix.is_some());
}

#[test]
fn check_notes_each_file_scope_when_asked() {
    let t = two_round_repo();
    let options = Options {
        notes: true,
        ..Options::default()
    };
    let run = engine::check(paths(&t), &options, &()).unwrap();
    assert!(
        run.notes
            .iter()
            .any(|n| matches!(n, Note::Scope { display_path, scope: Scope::Product, .. } if display_path.ends_with("products/p/policy.xml"))),
        "{:?}",
        run.notes
    );
    let quiet = engine::check(paths(&t), &Options::default(), &()).unwrap();
    assert!(quiet.notes.is_empty(), "{:?}", quiet.notes);
}

#[test]
fn fix_rounds_settle_a_fix_that_makes_a_rule_apply_in_another_file() {
    let t = two_round_repo();
    let run = engine::fix(paths(&t), &Options::default(), &()).unwrap();
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    let fixed: Vec<_> = run.results.iter().flatten().collect();
    let changed: Vec<&Path> = fixed
        .iter()
        .filter(|f| f.changed)
        .map(|f| {
            f.result
                .path
                .as_deref()
                .unwrap()
                .strip_prefix(t.path())
                .unwrap()
        })
        .collect();
    assert_eq!(
        changed,
        vec![Path::new("policy.xml"), Path::new("products/p/policy.xml")]
    );
    let product = fixed
        .iter()
        .find(|f| f.result.display_path.ends_with("products/p/policy.xml"))
        .unwrap();
    // Only the second round, on the facts of the fixed global policy, moves `<base />`.
    assert_eq!(product.applied.values().sum::<usize>(), 1);
    assert!(product.output.as_deref().unwrap().contains("+    <base />"));
    assert!(fixed.iter().all(|f| f.result.diagnostics.is_empty()));
    // Without `write`, nothing changes on disk.
    assert!(t.read("products/p/policy.xml").contains("/>\n    <base />"));

    let write = Options {
        write: true,
        ..Options::default()
    };
    let written = engine::fix(paths(&t), &write, &()).unwrap();
    assert!(written.results.iter().flatten().all(|f| f.output.is_none()));
    let product = t.read("products/p/policy.xml");
    assert!(product.find("<base />").unwrap() < product.find("<rate-limit").unwrap());
    let after = engine::check(paths(&t), &Options::default(), &()).unwrap();
    assert!(after.results.iter().all(Option::is_none));
}

#[test]
fn stdin_is_placed_at_its_filename() {
    let text = "<policies>\n  <inbound>\n    <rate-limit calls=\"1\" renewal-period=\"1\" />\n  </inbound>\n</policies>\n";
    let stdin = || Inputs::Stdin {
        source: Box::new(Cursor::new(text.as_bytes().to_vec())),
        filename: Some("apis/a/policy.xml".into()),
    };
    let check = engine::check(stdin(), &Options::default(), &()).unwrap();
    assert!(check.reads_stdin);
    let result = check.results[0].as_ref().unwrap();
    assert_eq!(result.display_path, "apis/a/policy.xml");
    assert_eq!(result.path, None);
    // At API scope (the filename says so), `<inbound>` needs a `<base />`.
    assert_eq!(result.diagnostics[0].rule.name(), "base-missing");

    // No repo around stdin: what `<base />` turns on is not known, so the fix is unsafe.
    let safe = engine::fix(stdin(), &Options::default(), &()).unwrap();
    let kept = safe.results[0].as_ref().unwrap();
    assert_eq!(kept.output.as_deref(), Some(text));
    let unsafe_fixes = Options {
        unsafe_fixes: true,
        ..Options::default()
    };
    let fix = engine::fix(stdin(), &unsafe_fixes, &()).unwrap();
    let fixed = fix.results[0].as_ref().unwrap();
    let output = fixed.output.as_deref().unwrap();
    assert!(output.contains("<base />"), "{output}");
    assert_eq!(fixed.applied.values().sum::<usize>(), 1);

    // The formatter indents by four: stdin's output is the new text.
    let fmt = engine::fmt(stdin(), &Options::default(), &()).unwrap();
    assert!(
        matches!(&fmt.results[..], [Formatted::Changed { output: Some(new), .. }] if new.starts_with(b"<policies>\n    <inbound>")),
        "{:?}",
        fmt.results
    );
}

#[test]
fn fmt_lists_writes_or_diffs() {
    let t = TestDir::new();
    let path = t.write(
        "apis/a/policy.xml",
        "<policies><inbound><base /></inbound></policies>\n",
    );
    let listed = engine::fmt(
        paths(&t),
        &Options {
            list_only: true,
            ..Options::default()
        },
        &(),
    )
    .unwrap();
    assert!(
        matches!(&listed.results[..], [Formatted::Changed { output: None, display_path }] if display_path.ends_with("apis/a/policy.xml")),
        "{:?}",
        listed.results
    );
    let diff = engine::fmt(paths(&t), &Options::default(), &()).unwrap();
    assert!(
        matches!(&diff.results[..], [Formatted::Changed { output: Some(diff), .. }] if diff.starts_with(b"diff --git")),
        "{:?}",
        diff.results
    );
    let before = std::fs::read_to_string(&path).unwrap();
    engine::fmt(
        paths(&t),
        &Options {
            write: true,
            ..Options::default()
        },
        &(),
    )
    .unwrap();
    assert_ne!(std::fs::read_to_string(&path).unwrap(), before);
    let again = engine::fmt(paths(&t), &Options::default(), &()).unwrap();
    assert!(matches!(
        &again.results[..],
        [Formatted::Unchanged { output: None }]
    ));
}

#[test]
fn a_missing_path_is_a_typed_error_apart_from_its_path() {
    let t = TestDir::new();
    let missing = t.path().join("nope");
    let run = engine::check(
        Inputs::Paths(vec![missing.clone()]),
        &Options::default(),
        &(),
    )
    .unwrap();
    assert!(run.results.is_empty());
    let [error] = &run.errors[..] else {
        panic!("{:?}", run.errors)
    };
    assert_eq!(error.path.as_deref(), Some(missing.as_path()));
    assert!(
        matches!(error.error, FileError::Discover(_)),
        "{:?}",
        error.error
    );
    let message = error.error.to_string();
    assert!(
        !message.contains("nope"),
        "the path is kept apart: {message}"
    );
}

#[test]
fn a_syntax_error_is_the_file_result() {
    let t = TestDir::new();
    t.write(
        "apis/a/policy.xml",
        "<policies>\n  <inbound>\n</policies>\n",
    );
    let run = engine::check(paths(&t), &Options::default(), &()).unwrap();
    let result = run.results[0].as_ref().unwrap();
    let Some(FileError::Syntax(e)) = &result.error else {
        panic!("{:?}", result.error)
    };
    assert!(!e.message.is_empty());
    // The text the error points into.
    assert_eq!(&*result.source, "<policies>\n  <inbound>\n</policies>\n");
    assert!(
        !result
            .error
            .as_ref()
            .unwrap()
            .to_string()
            .contains("policy.xml")
    );
}

#[test]
fn a_broken_config_is_a_typed_error() {
    let t = TestDir::new();
    t.write(
        "apis/a/policy.xml",
        "<policies>\n  <inbound />\n</policies>\n",
    );
    let broken = t.write("broken.yaml", "rules: [\n");
    let options = Options {
        config: Some(broken.clone()),
        ..Options::default()
    };
    let Err(Error::Config(e)) = engine::check(paths(&t), &options, &()) else {
        panic!("a broken --config stops the run")
    };
    assert_eq!(e.path(), broken.as_path());

    // A broken config found beside the files: each file it governs reports it.
    t.write("rules.yaml", "rules: [\n");
    let run = engine::check(paths(&t), &Options::default(), &()).unwrap();
    let config_errors = run
        .errors
        .iter()
        .map(|e| &e.error)
        .chain(
            run.results
                .iter()
                .flatten()
                .filter_map(|r| r.error.as_ref()),
        )
        .filter(|e| matches!(e, FileError::Config(_)))
        .count();
    assert!(config_errors > 0, "{:?} {:?}", run.errors, run.results);
}

#[test]
fn stdin_cannot_be_combined_with_paths() {
    let run = engine::check(
        Inputs::Paths(vec!["-".into(), "examples".into()]),
        &Options::default(),
        &(),
    );
    assert!(matches!(run, Err(Error::StdinWithOtherPaths)));
}

#[cfg(unix)]
#[test]
fn a_failed_write_is_a_typed_error_and_the_file_keeps_its_findings() {
    use std::os::unix::fs::PermissionsExt;
    let t = TestDir::new();
    let ro = t.write(
        "apis/ro/policy.xml",
        "<policies>\n  <inbound />\n</policies>\n",
    );
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o444)).unwrap();
    let options = Options {
        write: true,
        ..Options::default()
    };
    let run = engine::fix(paths(&t), &options, &()).unwrap();
    let [Some(file)] = &run.results[..] else {
        panic!("{:?}", run.results)
    };
    assert!(file.write_failed && !file.changed);
    assert!(file.applied.is_empty());
    let Some(error @ FileError::Write(_)) = &file.result.error else {
        panic!("{:?}", file.result.error)
    };
    assert!(!error.to_string().contains("policy.xml"), "{error}");
    assert_eq!(file.result.diagnostics[0].rule.name(), "base-missing");
    assert_eq!(
        std::fs::read_to_string(&ro).unwrap(),
        "<policies>\n  <inbound />\n</policies>\n"
    );
}

#[test]
fn the_observer_hears_each_phase_and_each_file() {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Default)]
    struct Counting {
        phases: Mutex<Vec<String>>,
        total: AtomicUsize,
        read: AtomicUsize,
    }
    impl engine::Observer for Counting {
        fn phase(&self, name: &str) {
            self.phases.lock().unwrap().push(name.to_owned());
        }
        fn reading(&self, total: usize) {
            self.total.store(total, Ordering::SeqCst);
        }
        fn read_one(&self) {
            self.read.fetch_add(1, Ordering::SeqCst);
        }
    }

    let t = two_round_repo();
    let seen = Counting::default();
    engine::check(paths(&t), &Options::default(), &seen).unwrap();
    assert_eq!(seen.total.load(Ordering::SeqCst), 3);
    assert_eq!(seen.read.load(Ordering::SeqCst), 3);
    assert_eq!(
        *seen.phases.lock().unwrap(),
        ["walk", "discovery", "read, parse, model and work"]
    );
}

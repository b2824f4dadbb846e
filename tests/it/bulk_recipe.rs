//! The bulk-migration recipe (`scripts/bulk-fix.sh`), run the way multi-gitter runs it: clone
//! each repo, run the script in the clone, and commit (which opens the pull request) only
//! when the script exited 0 and the tree changed. Twenty generated repos, of five kinds.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{TestDir, git};

const MISSING_BASE: &str = "<policies>\n  <inbound>\n    <set-header name=\"x\" exists-action=\"override\"><value>1</value></set-header>\n  </inbound>\n</policies>\n";
const GLOBAL: &str = "<policies>\n  <inbound>\n    <cors>\n      <allowed-origins>\n        <origin>https://portal.contoso.com</origin>\n      </allowed-origins>\n      <allowed-headers>\n        <header>*</header>\n      </allowed-headers>\n    </cors>\n  </inbound>\n</policies>\n";
const CLEAN_API: &str = "<policies>\n  <inbound>\n    <base />\n  </inbound>\n</policies>\n";
const BROKEN: &str = "<policies>\n  <inbound>\n    <base />\n  </inbound>\n";
/// `cors-wildcard-credentials`: reported, never fixed.
const UNFIXABLE: &str = "<policies>\n  <inbound>\n    <cors allow-credentials=\"true\">\n      <allowed-origins>\n        <origin>*</origin>\n      </allowed-origins>\n      <allowed-headers>\n        <header>*</header>\n      </allowed-headers>\n    </cors>\n    <base />\n  </inbound>\n</policies>\n";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// An API lost its `<base />`: fixed, a pull request.
    Fixable,
    /// Nothing to do: no pull request.
    Clean,
    /// A fixable API and a file that does not parse: skipped, untouched.
    Broken,
    /// A fixable API and a finding no fix repairs: the fix is committed, the rest listed.
    FixableAndUnfixable,
    /// The devops resource kit's file names: fixed.
    ResourceKit,
}

fn kind(i: usize) -> Kind {
    [
        Kind::Fixable,
        Kind::Clean,
        Kind::Broken,
        Kind::FixableAndUnfixable,
        Kind::ResourceKit,
    ][i % 5]
}

/// A repo on "the server": a git repo with one commit.
fn make_origin(dir: &Path, kind: Kind) {
    let write = |rel: &str, text: &str| {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("README.md", "policies\n");
    match kind {
        Kind::ResourceKit => {
            write("policies/globalServicePolicy.xml", GLOBAL);
            write("policies/orders-apiPolicy.xml", MISSING_BASE);
        }
        _ => {
            write("apim/policy.xml", GLOBAL);
            write("apim/apis/ok/policy.xml", CLEAN_API);
            match kind {
                Kind::Fixable => write("apim/apis/orders/policy.xml", MISSING_BASE),
                Kind::Clean => {}
                Kind::Broken => {
                    write("apim/apis/orders/policy.xml", MISSING_BASE);
                    write("apim/apis/broken/policy.xml", BROKEN);
                }
                Kind::FixableAndUnfixable => {
                    write("apim/apis/orders/policy.xml", MISSING_BASE);
                    write("apim/apis/open/policy.xml", UNFIXABLE);
                }
                Kind::ResourceKit => unreachable!(),
            }
        }
    }
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "-A"]);
    commit(dir, "initial");
}

fn commit(dir: &Path, message: &str) {
    git(
        dir,
        &[
            "-c",
            "user.name=bot",
            "-c",
            "user.email=bot@example.com",
            "commit",
            "-q",
            "-m",
            message,
        ],
    );
}

struct Outcome {
    code: i32,
    stdout: String,
    pull_request: bool,
    clone: PathBuf,
}

/// What multi-gitter does for one repo: clone, run, commit if exit 0 and the tree changed.
fn multi_gitter_one(origin: &Path, work: &Path, name: &str, summaries: &Path) -> Outcome {
    let clone = work.join(name);
    let status = Command::new("git")
        .args(["clone", "-q"])
        .arg(origin)
        .arg(&clone)
        .status()
        .unwrap();
    assert!(status.success());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/bulk-fix.sh");
    let out = Command::new("sh")
        .arg(&script)
        .current_dir(&clone)
        .env("APIMFIX", assert_cmd::cargo::cargo_bin("apimfix"))
        .env("REPOSITORY", format!("org/{name}"))
        .env("APIMFIX_SUMMARY_DIR", summaries)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let code = out.status.code().unwrap_or(-1);
    let changed = !git(&clone, &["status", "--porcelain"]).stdout.is_empty();
    let pull_request = code == 0 && changed;
    if pull_request {
        git(&clone, &["add", "-A"]);
        commit(&clone, "Repair CORS in APIM policies (apimfix)");
    }
    Outcome {
        code,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        pull_request,
        clone,
    }
}

#[test]
fn multi_gitter_over_twenty_repos() {
    let t = TestDir::new();
    let origins = t.path().join("origins");
    let work = t.path().join("work");
    let summaries = t.path().join("summaries");
    std::fs::create_dir_all(&work).unwrap();
    for i in 0..20 {
        let name = format!("repo-{i:02}");
        let origin = origins.join(&name);
        std::fs::create_dir_all(&origin).unwrap();
        make_origin(&origin, kind(i));
        let outcome = multi_gitter_one(&origin, &work, &name, &summaries);
        let kind = kind(i);
        let status = git(&outcome.clone, &["status", "--porcelain"]).stdout;
        assert!(
            status.is_empty(),
            "{name}: the tree is clean after the run: {status:?}"
        );
        match kind {
            Kind::ResourceKit => {
                // No APIOps repo model for a resource kit: what `<base />` would turn on is
                // not known, so `base-missing` is unsafe and a bulk run leaves it (issue #12).
                assert_eq!(outcome.code, 0, "{name} {kind:?}: {}", outcome.stdout);
                assert!(
                    !outcome.pull_request,
                    "{name}: no safe fix, no pull request"
                );
                assert!(
                    outcome.stdout.contains("| `base-missing` | 0 | 1 |"),
                    "{}",
                    outcome.stdout
                );
            }
            Kind::Fixable | Kind::FixableAndUnfixable => {
                assert_eq!(outcome.code, 0, "{name} {kind:?}: {}", outcome.stdout);
                assert!(outcome.pull_request, "{name} {kind:?}: a pull request");
                assert!(outcome.stdout.contains("**Fixed**"), "{}", outcome.stdout);
                assert!(
                    outcome.stdout.contains("| `base-missing` | 1 | 0 |"),
                    "{}",
                    outcome.stdout
                );
                // What the pull request holds: nothing fixable remains.
                let check = crate::common::Run::from(
                    crate::common::apimfix()
                        .current_dir(&outcome.clone)
                        .args(["check", "--output-format", "json", "."])
                        .output()
                        .unwrap(),
                );
                let json: serde_json::Value = serde_json::from_str(&check.stdout).unwrap();
                let left: Vec<&str> = json["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f["rule"].as_str().unwrap())
                    .collect();
                if kind == Kind::FixableAndUnfixable {
                    assert_eq!(left, ["cors-wildcard-credentials"]);
                    assert!(
                        outcome
                            .stdout
                            .contains("| `cors-wildcard-credentials` | 0 | 1 |"),
                        "{}",
                        outcome.stdout
                    );
                } else {
                    assert!(left.is_empty(), "{name}: {left:?}");
                }
            }
            Kind::Clean => {
                assert_eq!(outcome.code, 0);
                assert!(
                    !outcome.pull_request,
                    "{name}: nothing to fix, no pull request"
                );
                assert!(
                    outcome.stdout.contains("**Nothing to fix.**"),
                    "{}",
                    outcome.stdout
                );
            }
            Kind::Broken => {
                assert_eq!(outcome.code, 2, "{name}: {}", outcome.stdout);
                assert!(!outcome.pull_request);
                assert!(outcome.stdout.contains("**Skipped**"), "{}", outcome.stdout);
                assert!(
                    outcome
                        .stdout
                        .contains("- `apim/apis/broken/policy.xml:1:1`: syntax error"),
                    "the blocker is named: {}",
                    outcome.stdout
                );
                // Nothing written, not even the good file's fix.
                assert_eq!(
                    std::fs::read_to_string(outcome.clone.join("apim/apis/orders/policy.xml"))
                        .unwrap(),
                    MISSING_BASE
                );
            }
        }
        let log = git(&outcome.clone, &["log", "--oneline"]).stdout;
        let commits = String::from_utf8_lossy(&log).lines().count();
        assert_eq!(commits, 1 + usize::from(outcome.pull_request), "{name}");
    }
    // One summary per repo, to paste into the tracking issue.
    let mut files: Vec<_> = std::fs::read_dir(&summaries)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(files.len(), 20);
    assert_eq!(files[0], "org_repo-00.md");
    let first = std::fs::read_to_string(summaries.join(&files[0])).unwrap();
    assert!(first.starts_with("## org/repo-00\n"), "{first}");

    // A second run over the merged pull requests changes nothing more.
    for i in [0, 3, 4] {
        let name = format!("repo-{i:02}");
        let clone = work.join(&name);
        let out = Command::new("sh")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/bulk-fix.sh"))
            .current_dir(&clone)
            .env("APIMFIX", assert_cmd::cargo::cargo_bin("apimfix"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        assert!(
            git(&clone, &["status", "--porcelain"]).stdout.is_empty(),
            "{name}"
        );
    }
}

#[test]
fn a_dirty_tree_is_skipped() {
    let t = TestDir::new();
    make_origin(t.path(), Kind::Fixable);
    t.write("notes.txt", "work in progress\n");
    let out = Command::new("sh")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/bulk-fix.sh"))
        .current_dir(t.path())
        .env("APIMFIX", assert_cmd::cargo::cargo_bin("apimfix"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(t.read("apim/apis/orders/policy.xml"), MISSING_BASE);
}

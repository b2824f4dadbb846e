//! Helpers for end-to-end tests: a temporary folder of files, and the built binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

/// A temporary folder the test fills with files.
pub struct TestDir {
    pub dir: tempfile::TempDir,
}

impl TestDir {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// A copy of `examples/<name>` (or any folder of the crate).
    pub fn copy_of(relative: &str) -> Self {
        let t = Self::new();
        let from = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
        copy_tree(&from, t.path());
        t
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, relative: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        path
    }

    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path().join(relative)).unwrap()
    }

    /// `apimfix ARGS` run inside this folder.
    pub fn run(&self, args: &[&str]) -> Run {
        let output = apimfix()
            .current_dir(self.path())
            .args(args)
            .output()
            .unwrap();
        Run::from(output)
    }

    pub fn run_stdin(&self, args: &[&str], stdin: &str) -> Run {
        let output = apimfix()
            .current_dir(self.path())
            .args(args)
            .write_stdin(stdin)
            .output()
            .unwrap();
        Run::from(output)
    }

    /// Every file below the folder with its bytes, sorted: to assert nothing changed.
    pub fn snapshot_bytes(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        walk(self.path(), &mut out);
        out.sort();
        out
    }
}

fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, out);
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path, bytes));
        }
    }
}

pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
            // Sources may be read-only (the shared corpus is); the copy is ours to change.
            let mut permissions = std::fs::metadata(&target).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            permissions.set_readonly(false);
            std::fs::set_permissions(&target, permissions).unwrap();
        }
    }
}

pub fn apimfix() -> Command {
    let mut cmd = Command::cargo_bin("apimfix").unwrap();
    cmd.env_remove("APIMFIX_CORPUS").env("NO_COLOR", "1");
    cmd
}

/// What a run of the binary printed, and how it exited.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// Runs `git` in `dir`, panicking with its output on failure.
pub fn git(dir: &Path, args: &[&str]) -> Output {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Every `*.xml` file below `dir`, sorted.
pub fn xml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot read directory {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|x| x == "xml") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The real corpus named by `APIMFIX_CORPUS` (CI sets it to `../shared/corpus`), or else this
/// project's own fixture trees, so corpus tests always check something; `true` for the corpus.
pub fn corpus_or_fixtures() -> (PathBuf, bool) {
    match std::env::var_os("APIMFIX_CORPUS") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            assert!(
                dir.is_dir(),
                "APIMFIX_CORPUS={} is not a directory",
                dir.display()
            );
            (dir, true)
        }
        None => (
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"),
            false,
        ),
    }
}

/// The built binary as a plain `std` command, for tests that spawn and wait themselves.
pub fn apimfix_std() -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin!("apimfix"));
    cmd.env_remove("APIMFIX_CORPUS").env("NO_COLOR", "1");
    cmd
}

//! `apimfix server` under a real client: headless Neovim (Debian's `neovim` package) and its
//! built-in LSP client, driven by `tests/nvim/lsp_client.lua`. The findings Neovim holds
//! equal `check`'s, a fix applied through its code action menu equals `fix --write`, and
//! formatting through it equals `fmt --write`.
//!
//! Skipped, saying so, when `nvim` is not installed (`.ci/run` installs it).

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common::{TestDir, xml_files};

fn nvim_missing() -> bool {
    let found = Command::new("nvim")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("skipped: `nvim` is not installed (apt-get install neovim)");
    }
    !found
}

/// Runs the Lua client on `file` (relative to `dir`) with `action`; returns what it wrote.
fn nvim(dir: &TestDir, file: &str, action: &str) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/nvim/lsp_client.lua");
    let out = dir.path().join(".nvim-out.json");
    let _ = std::fs::remove_file(&out);
    let status = Command::new("nvim")
        .args(["--headless", "-u", "NONE", "-i", "NONE", "-n", "-c"])
        .arg(format!("luafile {}", script.display()))
        .current_dir(dir.path())
        .env("APIMFIX_BIN", assert_cmd::cargo::cargo_bin("apimfix"))
        .env("APIMFIX_FILE", file)
        .env("APIMFIX_OUT", &out)
        .env("APIMFIX_ACTION", action)
        .env_remove("APIMFIX_CORPUS")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("nvim runs");
    let written = std::fs::read_to_string(&out).unwrap_or_default();
    assert!(
        status.status.success(),
        "nvim on {file} ({action}): {written} {}",
        String::from_utf8_lossy(&status.stderr)
    );
    serde_json::from_str(&written).expect("the script's JSON")
}

/// (rule, line, column, end line, end column, message), 1-based, from `check`'s JSON.
type Finding = (String, u64, u64, u64, u64, String);

fn check_findings(dir: &TestDir, file: &str) -> Vec<(Finding, bool)> {
    let run = dir.run(&["check", "--output-format", "json", file]);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let finding = (
                f["rule"].as_str().unwrap().to_owned(),
                f["location"]["line"].as_u64().unwrap(),
                f["location"]["column"].as_u64().unwrap(),
                f["end_location"]["line"].as_u64().unwrap(),
                f["end_location"]["column"].as_u64().unwrap(),
                f["message"].as_str().unwrap().to_owned(),
            );
            let fixable = f["fix"]["applicability"] == "safe";
            (finding, fixable)
        })
        .collect()
}

/// Neovim's diagnostics (0-based, byte columns; the examples are ASCII) in `check`'s terms.
fn nvim_findings(out: &Value) -> Vec<Finding> {
    out["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let n = |k: &str| d[k].as_u64().unwrap() + 1;
            (
                d["code"].as_str().unwrap().to_owned(),
                n("lnum"),
                n("col"),
                n("end_lnum"),
                n("end_col"),
                d["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn example_files(dir: &TestDir) -> Vec<String> {
    xml_files(dir.path())
        .iter()
        .map(|p| {
            p.strip_prefix(dir.path())
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[test]
fn neovim_sees_checks_findings_and_its_fix_all_equals_fix_write() {
    if nvim_missing() {
        return;
    }
    let editor = TestDir::copy_of("examples");
    let cli = TestDir::copy_of("examples");
    let mut fixed = 0;
    for file in example_files(&editor) {
        let findings = check_findings(&editor, &file);
        let fixable = findings.iter().any(|(_, fixable)| *fixable);
        let out = nvim(&editor, &file, if fixable { "fixall" } else { "none" });
        let want: Vec<Finding> = findings.into_iter().map(|(f, _)| f).collect();
        assert_eq!(nvim_findings(&out), want, "{file}");
        if fixable {
            fixed += 1;
            let run = cli.run(&["fix", "--write", &file]);
            assert!(run.code <= 1, "{run:?}");
        }
        assert_eq!(editor.read(&file), cli.read(&file), "{file}");
    }
    assert!(fixed >= 3, "files fixed through Neovim: {fixed}");
}

#[test]
fn neovim_quick_fix_equals_fix_write() {
    if nvim_missing() {
        return;
    }
    let editor = TestDir::copy_of("examples");
    let cli = TestDir::copy_of("examples");
    // One finding, with a safe fix (the preferred quick fix): all that `fix --write` does.
    // (`apis/orders` lost `<base />`, whose fix turns on rate limits: unsafe, not preferred.)
    let file = "contoso/products/starter/policy.xml";
    assert_eq!(check_findings(&editor, file).len(), 1);
    nvim(&editor, file, "quickfix");
    let run = cli.run(&["fix", "--write", file]);
    assert!(run.code <= 1, "{run:?}");
    assert_ne!(editor.read(file), TestDir::copy_of("examples").read(file));
    assert_eq!(editor.read(file), cli.read(file));
}

#[test]
fn neovim_formatting_equals_fmt_write() {
    if nvim_missing() {
        return;
    }
    let editor = TestDir::copy_of("examples");
    let cli = TestDir::copy_of("examples");
    let original = TestDir::copy_of("examples");
    let mut changed = 0;
    for file in example_files(&editor) {
        nvim(&editor, &file, "format");
        let run = cli.run(&["fmt", "--write", &file]);
        assert!(run.code <= 1, "{run:?}");
        assert_eq!(editor.read(&file), cli.read(&file), "{file}");
        if editor.read(&file) != original.read(&file) {
            changed += 1;
        }
    }
    assert!(changed >= 3, "files formatted through Neovim: {changed}");
}

#[test]
fn neovim_places_findings_and_fixes_on_non_ascii_lines() {
    if nvim_missing() {
        return;
    }
    // `é` is 2 bytes and 1 UTF-16 unit, `😀` 4 bytes and 2 units: the server speaks UTF-16,
    // Neovim turns it into byte columns.
    let text = "<policies>\n  <!-- café 😀 --><inbound>\n    <set-header name=\"x-é\" exists-action=\"override\"><value>😀</value></set-header>\n  </inbound>\n  <backend>\n    <base />\n  </backend>\n  <outbound>\n    <base />\n  </outbound>\n  <on-error>\n    <base />\n  </on-error>\n</policies>\n";
    let file = "apis/echo/policy.xml";
    let editor = TestDir::new();
    editor.write(file, text);
    let cli = TestDir::new();
    cli.write(file, text);
    let out = nvim(&editor, file, "quickfix");
    let found = &out["diagnostics"][0];
    assert_eq!(found["code"], "base-missing", "{out}");
    let line = text.lines().nth(1).unwrap();
    assert_eq!(found["lnum"], 1);
    assert_eq!(found["col"], line.find("<inbound>").unwrap(), "{out}");
    let run = cli.run(&["fix", "--write", file]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(editor.read(file), cli.read(file));
}

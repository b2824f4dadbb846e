//! Issue 17: the bugs a new user met, and the conventions a ruff user expects. Each test
//! reproduces one reported defect or pins one convention (see the README's table against
//! ruff).

use crate::common::{TestDir, apimfix};

const NEEDS_BASE: &str = "<policies>\n  <inbound>\n    <rate-limit calls=\"1\" renewal-period=\"1\" />\n  </inbound>\n</policies>\n";
const CLEAN_API: &str = "<policies>\n  <inbound>\n    <base />\n  </inbound>\n</policies>\n";
const BROKEN: &str = "<policies>\n  <inbound>\n    <base />\n  </inbound>\n";

fn examples() -> TestDir {
    TestDir::copy_of("examples")
}

// ---- Bug 1: statistics never break a machine format ----

#[test]
fn statistics_go_to_stderr_with_a_machine_format() {
    let t = examples();
    for format in ["json", "sarif", "rdjson"] {
        let run = t.run(&["check", "--statistics", "--output-format", format, "."]);
        assert_eq!(run.code, 1, "{format}: {}", run.stderr);
        serde_json::from_str::<serde_json::Value>(&run.stdout)
            .unwrap_or_else(|e| panic!("{format}: stdout is one JSON document: {e}"));
        assert!(
            run.stderr.contains("base-missing"),
            "{format}: {}",
            run.stderr
        );
    }
    let run = t.run(&["check", "--statistics", "--output-format", "github", "."]);
    assert!(
        run.stdout.lines().all(|l| l.starts_with("::")),
        "{}",
        run.stdout
    );
    // The text format keeps them on stdout, before the summary.
    let run = t.run(&["check", "--statistics", "."]);
    assert!(run.stdout.contains("3  base-missing"), "{}", run.stdout);
}

// ---- Bug 2: --stdin-filename reads stdin ----

#[test]
fn stdin_filename_without_a_dash_reads_stdin() {
    let t = TestDir::new();
    t.write(
        "apis/other/policy.xml",
        "<policies>\n<inbound>\n<base/>\n</inbound>\n</policies>\n",
    );
    let messy = "<policies>\n<inbound>\n<base/>\n</inbound>\n</policies>\n";
    let run = t.run_stdin(
        &["fmt", "--stdin-filename", "apis/orders/policy.xml"],
        messy,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("<policies>\n    <inbound>"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("apis/other"),
        "the folder is not read: {}",
        run.stdout
    );
    let run = t.run_stdin(
        &["check", "--stdin-filename", "apis/orders/policy.xml"],
        NEEDS_BASE,
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains("apis/orders/policy.xml:2:3: base-missing"),
        "{}",
        run.stdout
    );
    // Paths besides it are refused, not silently preferred.
    let run = t.run_stdin(
        &["check", "--stdin-filename", "x/policy.xml", "apis"],
        NEEDS_BASE,
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("`--stdin-filename` reads stdin"),
        "{}",
        run.stderr
    );
}

// ---- Bug 3: fix --output-format without --write ----

#[test]
fn fix_output_format_without_write_is_refused_with_a_way_out() {
    let t = examples();
    let before = t.snapshot_bytes();
    let run = t.run(&["fix", "--output-format", "json", "."]);
    assert_eq!(run.code, 2);
    assert!(run.stdout.is_empty(), "no diff either: {}", run.stdout);
    assert!(run.stderr.contains("--write"), "{}", run.stderr);
    assert!(
        run.stderr.contains("apimfix check --output-format json"),
        "{}",
        run.stderr
    );
    assert_eq!(t.snapshot_bytes(), before);
    let run = t.run(&[
        "fix",
        "--write",
        "--unsafe-fixes",
        "--output-format",
        "json",
        ".",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str::<serde_json::Value>(&run.stdout).unwrap();
}

// ---- Bug 4: pseudo-rules explained; SARIF help and executionSuccessful ----

#[test]
fn rule_explains_the_pseudo_rules_the_reports_use() {
    for id in ["syntax-error", "io-error", "internal-error"] {
        let run = apimfix().args(["rule", id]).output().unwrap();
        assert!(run.status.success(), "{id}");
        let text = String::from_utf8(run.stdout).unwrap();
        assert!(text.starts_with(&format!("# {id}\n")), "{text}");
    }
    let run = apimfix().args(["rule", "cors-frist"]).output().unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("syntax-error"));
}

#[test]
fn sarif_gives_every_rule_help_and_fails_the_run_that_exits_2() {
    let t = TestDir::new();
    t.write("apis/a/policy.xml", NEEDS_BASE);
    t.write("apis/b/policy.xml", BROKEN);
    let run = t.run(&["check", "--output-format", "sarif", "."]);
    assert_eq!(run.code, 2);
    let log: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let run0 = &log["runs"][0];
    for rule in run0["tool"]["driver"]["rules"].as_array().unwrap() {
        let id = rule["id"].as_str().unwrap();
        let text = rule["help"]["text"]
            .as_str()
            .unwrap_or_else(|| panic!("{id} has help.text"));
        let markdown = rule["help"]["markdown"].as_str().unwrap();
        assert!(
            !text.contains('`') && !text.contains("## "),
            "{id}: plain text: {text}"
        );
        assert!(
            markdown.contains("## ") || markdown.contains('`'),
            "{id}: {markdown}"
        );
    }
    assert_eq!(run0["invocations"][0]["executionSuccessful"], false);
    t.write("apis/b/policy.xml", CLEAN_API);
    let run = t.run(&["check", "--output-format", "sarif", "."]);
    assert_eq!(run.code, 1);
    let log: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        log["runs"][0]["invocations"][0]["executionSuccessful"],
        true
    );
}

// ---- Bug 5: -v, comment typos, nothing found, unknown scope ----

#[test]
fn verbose_names_ignored_files_and_the_config_of_each_file() {
    let t = TestDir::new();
    crate::common::git(t.path(), &["init", "-q"]);
    t.write(".gitignore", "build/\n");
    t.write(".apimfixignore", "apis/legacy/\n");
    t.write("build/apis/x/policy.xml", CLEAN_API);
    t.write("apis/legacy/policy.xml", CLEAN_API);
    t.write("apis/a/policy.xml", CLEAN_API);
    t.write("apis/.apimfix.yaml", "rules:\n  base-missing: true\n");
    let run = t.run(&["check", "-v", "."]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for skipped in ["build/apis/x/policy.xml", "apis/legacy/policy.xml"] {
        assert!(
            run.stderr
                .contains(&format!("{skipped}: skipped: ignored by")),
            "{skipped}: {}",
            run.stderr
        );
    }
    assert!(
        run.stderr.contains("apis/a/policy.xml: scope api"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("config apis/.apimfix.yaml"),
        "{}",
        run.stderr
    );
}

#[test]
fn verbose_says_an_explicit_config_roots_its_globs_in_its_folder() {
    let t = TestDir::new();
    t.write("apis/a/policy.xml", CLEAN_API);
    t.write(
        "elsewhere/x.yaml",
        "per-file-ignores:\n  \"apis/*/policy.xml\": [base-missing]\n",
    );
    let run = t.run(&["check", "-v", "--config", "elsewhere/x.yaml", "."]);
    assert!(
        run.stderr
            .contains("globs are relative to its folder, elsewhere"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_misspelt_rule_in_an_ignore_comment_is_a_warning_with_its_place() {
    let t = TestDir::new();
    t.write(
        "apis/a/policy.xml",
        "<policies>\n  <inbound>\n    <!-- apimfix-ignore: cors-frist -->\n    <base />\n  </inbound>\n</policies>\n",
    );
    let run = t.run(&["check", "."]);
    assert_eq!(run.code, 0);
    assert!(
        run.stderr
            .contains("warning: apis/a/policy.xml:3:26: `cors-frist`"),
        "{}",
        run.stderr
    );
    assert!(t.run(&["check", "-q", "."]).stderr.is_empty());
}

#[test]
fn an_empty_folder_warns_that_no_policy_file_was_found() {
    let t = TestDir::new();
    std::fs::create_dir(t.path().join("empty")).unwrap();
    let run = t.run(&["check", "empty"]);
    assert_eq!(run.code, 0);
    assert!(
        run.stderr
            .contains("warning: no policy file found in empty"),
        "{}",
        run.stderr
    );
    let run = t.run(&["fmt", "--check", "empty"]);
    assert!(
        run.stderr.contains("no policy file found"),
        "{}",
        run.stderr
    );
}

#[test]
fn files_of_unknown_scope_are_counted() {
    let t = TestDir::new();
    t.write("misc/thing.xml", CLEAN_API);
    let run = t.run(&["check", "."]);
    assert_eq!(run.code, 0);
    assert!(
        run.stderr
            .contains("note: 1 file of unknown scope (misc/thing.xml)"),
        "{}",
        run.stderr
    );
    // -v says why, without repeating the word or the absolute path.
    let run = t.run(&["check", "-v", "misc/thing.xml"]);
    assert!(
        run.stderr.contains(
            "misc/thing.xml: scope unknown (no layout places it: no APIOps or apiops-cli folder"
        ),
        "{}",
        run.stderr
    );
    let run = t.run_stdin(&["check", "-v", "-"], CLEAN_API);
    assert!(run.stderr.contains("-: scope unknown ("), "{}", run.stderr);
    assert!(
        !run.stderr.contains("/-"),
        "stdin is `-`, not a path: {}",
        run.stderr
    );
}

// ---- Bug 6: --scope values, help text ----

#[test]
fn scope_values_are_listed_in_help_and_completion() {
    let help = apimfix().args(["check", "--help"]).output().unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    assert!(
        help.contains(
            "[possible values: global, workspace, product, api, operation, fragment, resolver]"
        ),
        "{help}"
    );
    assert!(!help.contains("schema in"), "{help}");
    let bash = apimfix().args(["completions", "bash"]).output().unwrap();
    let bash = String::from_utf8(bash.stdout).unwrap();
    assert!(
        bash.contains("global workspace product api operation fragment resolver"),
        "completion lists the scopes"
    );
    let run = apimfix().args(["check", "--scope", "x"]).output().unwrap();
    let err = String::from_utf8(run.stderr).unwrap();
    assert!(!err.contains("unknown"), "{err}");
}

// ---- Bug 7: wording ----

#[test]
fn one_unwritable_file_is_said_in_the_singular() {
    use std::os::unix::fs::PermissionsExt;
    let t = TestDir::new();
    let ro = t.write(
        "apis/ro/policy.xml",
        "<policies>\n  <inbound />\n</policies>\n",
    );
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o444)).unwrap();
    let run = t.run(&["fix", "--write", "."]);
    assert!(
        run.stderr.contains("; 1 file could not be written"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("file(s)"), "{}", run.stderr);
}

#[test]
fn a_syntax_error_is_printed_once_from_a_subfolder_too() {
    let t = TestDir::new();
    t.write("policy.xml", CLEAN_API.replace("    <base />\n", ""));
    t.write("apis/bad/policy.xml", BROKEN);
    t.write("apis/good/policy.xml", CLEAN_API);
    for (dir, shown) in [
        (".", "apis/bad/policy.xml:1:1: error"),
        ("apis/bad", "policy.xml:1:1: error"),
    ] {
        let run = crate::common::Run::from(
            apimfix()
                .current_dir(t.path().join(dir))
                .args(["check", "."])
                .output()
                .unwrap(),
        );
        assert_eq!(run.code, 2);
        assert_eq!(
            run.stderr.matches("unclosed element").count(),
            1,
            "{dir}: {}",
            run.stderr
        );
        assert!(run.stderr.contains(shown), "{dir}: {}", run.stderr);
        assert!(
            !run.stderr.contains(&t.path().display().to_string()),
            "{}",
            run.stderr
        );
    }
}

// ---- Bug 8: fix --format formats only what it fixes ----

#[test]
fn fix_format_formats_only_the_files_it_fixes() {
    let t = TestDir::new();
    let messy_clean = "<policies>\n<inbound>\n<base/>\n</inbound>\n</policies>\n";
    let messy_broken = "<policies>\n<inbound>\n<rate-limit calls=\"1\" renewal-period=\"1\"/>\n</inbound>\n</policies>\n";
    t.write("apis/clean/policy.xml", messy_clean);
    t.write("apis/fixme/policy.xml", messy_broken);
    let run = t.run(&["fix", "--write", "--format", "."]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("Fixed 1 finding in 1 file"),
        "{}",
        run.stderr
    );
    assert_eq!(
        t.read("apis/clean/policy.xml"),
        messy_clean,
        "not fixed, so not formatted"
    );
    assert!(
        t.read("apis/fixme/policy.xml")
            .starts_with("<policies>\n    <inbound>\n        <base />")
    );
}

// ---- Conventions ----

#[test]
fn the_summary_is_the_last_thing_printed() {
    let t = examples();
    let bin = assert_cmd::cargo::cargo_bin("apimfix");
    let run = std::process::Command::new("sh")
        .current_dir(t.path())
        .env("NO_COLOR", "1")
        .arg("-c")
        .arg(format!("'{}' fix . 2>&1", bin.display()))
        .output()
        .unwrap();
    let text = String::from_utf8(run.stdout).unwrap();
    let last: Vec<&str> = text.lines().rev().take(2).collect();
    assert_eq!(
        last[1], "Would fix 8 findings in 5 files; 3 findings remain",
        "{text}"
    );
    assert_eq!(last[0], "Apply them with `apimfix fix --write`");
    assert!(text.starts_with("diff --git a/"), "the diff first: {text}");
}

#[test]
fn check_says_how_many_are_fixable_and_with_what() {
    let run = examples().run(&["check", "."]);
    assert!(
        run.stdout
            .ends_with("11 findings\n[*] 8 fixable with `apimfix fix --write` (3 hidden fixes can be enabled with `--unsafe-fixes`)\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn check_fix_and_check_diff_are_fix_write_and_fix() {
    let a = examples();
    let b = examples();
    let diff = a.run(&["check", "--diff", "."]);
    assert_eq!(diff.code, 1);
    assert_eq!(diff.stdout, b.run(&["fix", "."]).stdout);
    let fixed = a.run(&["check", "--fix", "--unsafe-fixes", "--show-fixes", "."]);
    assert_eq!(fixed.code, 0, "{}", fixed.stderr);
    assert!(
        fixed.stderr.contains("- contoso/policy.xml:\n"),
        "{}",
        fixed.stderr
    );
    assert!(
        fixed.stderr.contains("    1 × cors-first\n"),
        "{}",
        fixed.stderr
    );
    assert_eq!(b.run(&["fix", "--write", "--unsafe-fixes", "."]).code, 0);
    let strip = |t: &TestDir| {
        t.snapshot_bytes()
            .into_iter()
            .map(|(p, b)| (p.strip_prefix(t.path()).unwrap().to_path_buf(), b))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&a), strip(&b));
}

#[test]
fn color_follows_the_flag_force_color_and_no_color() {
    let t = examples();
    let esc = |out: &[u8]| out.contains(&0x1b);
    let run = apimfix()
        .current_dir(t.path())
        .args(["check", "."])
        .output()
        .unwrap();
    assert!(!esc(&run.stdout), "NO_COLOR and a pipe: plain");
    let run = apimfix()
        .current_dir(t.path())
        .args(["--color", "always", "check", "."])
        .output()
        .unwrap();
    assert!(esc(&run.stdout));
    let run = apimfix()
        .current_dir(t.path())
        .env_remove("NO_COLOR")
        .env("FORCE_COLOR", "1")
        .args(["fix", "."])
        .output()
        .unwrap();
    let diff = String::from_utf8(run.stdout).unwrap();
    assert!(diff.contains("\u{1b}[32m+"), "a coloured diff: {diff}");
    let run = apimfix()
        .current_dir(t.path())
        .env("FORCE_COLOR", "1")
        .args(["check", "--color", "never", "."])
        .output()
        .unwrap();
    assert!(!esc(&run.stdout));
}

#[test]
fn select_ignore_and_extend_select_override_the_config() {
    let t = examples();
    let rules_of = |args: &[&str]| -> Vec<String> {
        let run = t.run(&[&["check", "--output-format", "json"], args, &["."]].concat());
        let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let mut rules: Vec<String> = json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap().to_owned())
            .collect();
        rules.dedup();
        rules.sort();
        rules.dedup();
        rules
    };
    assert_eq!(rules_of(&["--select", "base-missing"]), ["base-missing"]);
    assert!(
        !rules_of(&["--ignore", "base-missing,cors-first"])
            .iter()
            .any(|r| r == "base-missing" || r == "cors-first")
    );
    t.write("contoso/rules.yaml", "rules:\n  base-missing: false\n");
    t.write(
        "terraform/contoso/rules.yaml",
        "rules:\n  base-missing: false\n",
    );
    assert!(!rules_of(&[]).contains(&"base-missing".to_owned()));
    assert!(rules_of(&["--extend-select", "base-missing"]).contains(&"base-missing".to_owned()));
    let run = t.run(&["check", "--select", "cors-frist", "."]);
    assert_eq!(run.code, 2);
}

#[test]
fn show_settings_prints_the_config_that_applies() {
    let t = examples();
    let run = t.run(&[
        "check",
        "--show-settings",
        "--ignore",
        "cors-first",
        "contoso",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("# config file: contoso/rules.yaml"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("cors-first: false"), "{}", run.stdout);
    assert!(
        run.stdout.contains("https://admin.contoso.com"),
        "{}",
        run.stdout
    );
}

#[test]
fn silent_prints_nothing_and_keeps_the_exit_code() {
    let t = examples();
    for args in [
        &["check", "-s", "."][..],
        &["fix", "--silent", "."],
        &["fmt", "-s", "."],
    ] {
        let run = t.run(args);
        assert_eq!(run.code, 1, "{args:?}");
        assert!(
            run.stdout.is_empty() && run.stderr.is_empty(),
            "{args:?}: {run:?}"
        );
    }
}

#[test]
fn fmt_check_reports_unformatted_files_as_json_or_annotations() {
    let t = TestDir::new();
    t.write(
        "apis/a/policy.xml",
        "<policies>\n<inbound>\n<base/>\n</inbound>\n</policies>\n",
    );
    t.write("apis/b/policy.xml", BROKEN);
    let run = t.run(&["fmt", "--check", "--output-format", "json", "."]);
    assert_eq!(run.code, 2);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        json["unformatted"],
        serde_json::json!(["apis/a/policy.xml"])
    );
    assert_eq!(json["errors"][0]["path"], "apis/b/policy.xml");
    let run = t.run(&["fmt", "--check", "--output-format", "github", "."]);
    assert!(
        run.stdout
            .contains("::warning file=apis/a/policy.xml,title=apimfix fmt::not formatted"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("::error file=apis/b/policy.xml"),
        "{}",
        run.stdout
    );
    let run = t.run(&["fmt", "--output-format", "json", "."]);
    assert_eq!(run.code, 2, "needs --check");
}

#[test]
fn fix_writes_a_markdown_summary_per_rule() {
    let t = examples();
    t.write("contoso/apis/broken/policy.xml", BROKEN);
    let summary = t.path().join("../summary.md");
    let run = t.run(&[
        "fix",
        "--write",
        "--unsafe-fixes",
        "--summary",
        summary.to_str().unwrap(),
        ".",
    ]);
    assert_eq!(run.code, 2);
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains("| `base-missing` | 3 | 0 |"), "{md}");
    assert!(
        md.contains("- `contoso/apis/broken/policy.xml:1:1`: syntax error"),
        "{md}"
    );
    std::fs::remove_file(summary).unwrap();
}

#[test]
fn paths_in_messages_are_relative_like_the_report_paths() {
    let t = TestDir::new();
    t.write("policy.xml", "<policies>\n  <inbound>\n    <cors><allowed-origins><origin>https://a</origin></allowed-origins></cors>\n  </inbound>\n</policies>\n");
    t.write("apis/orders/policy.xml", "<policies>\n  <inbound>\n    <cors><allowed-origins><origin>https://b</origin></allowed-origins></cors>\n    <base />\n  </inbound>\n</policies>\n");
    let run = crate::common::Run::from(
        apimfix()
            .current_dir(t.path().join("apis"))
            .args(["check", "../policy.xml", "orders"])
            .output()
            .unwrap(),
    );
    assert!(
        run.stdout.contains("../policy.xml:3:5: cors-shadowed")
            && run.stdout.contains("(orders/policy.xml:3)"),
        "{}",
        run.stdout
    );
}

// ---- The README says what each command accepts ----

/// The option names of `apimfix <command> --help`.
fn options_of(command: &str) -> Vec<String> {
    let out = apimfix().args([command, "--help"]).output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    let mut names = Vec::new();
    for line in help.lines() {
        let line = line.trim_start();
        if !line.starts_with('-') {
            continue;
        }
        for word in line.split([' ', ',']) {
            if word.starts_with('-') {
                names.push(word.to_owned());
            } else if !word.is_empty() {
                break;
            }
        }
    }
    names
}

#[test]
fn the_readme_options_table_matches_each_command() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(
        !readme.contains("apimfix format"),
        "there is no `apimfix format` command"
    );
    assert!(
        readme.contains("if: success() || failure()"),
        "the SARIF upload runs on exit 2"
    );
    let table = readme
        .split("### Options\n")
        .nth(1)
        .unwrap()
        .split("\n\n")
        .next()
        .unwrap();
    let commands = ["check", "fix", "fmt"];
    let options: Vec<Vec<String>> = commands.iter().map(|c| options_of(c)).collect();
    let mut rows = 0;
    for row in table.lines().skip(2) {
        // `\|` inside a cell is an escaped bar, not a column.
        let row = row.replace("\\|", "/");
        let cells: Vec<&str> = row.split('|').skip(1).map(str::trim).collect();
        let flags: Vec<&str> = cells[0]
            .split('`')
            .filter_map(|part| part.split(' ').next())
            .filter(|f| f.starts_with('-'))
            .collect();
        assert!(!flags.is_empty(), "{row}");
        for (i, command) in commands.iter().enumerate() {
            let ticked = cells[1 + i].contains('✔');
            for flag in &flags {
                assert_eq!(
                    options[i].iter().any(|o| o == flag),
                    ticked,
                    "README says `{command} {flag}` is {}accepted",
                    if ticked { "" } else { "not " }
                );
            }
        }
        rows += 1;
    }
    assert!(rows >= 15, "{table}");
}

#[test]
fn a_config_error_names_keys_not_rust_types() {
    let t = TestDir::new();
    t.write("apis/a/policy.xml", CLEAN_API);
    for (yaml, says) in [
        ("rules: [1]\n", "rules: invalid type: sequence"),
        ("rulez: {}\n", "unknown field `rulez`"),
        ("format: 3\n", "format: invalid type"),
    ] {
        t.write(".apimfix.yaml", yaml);
        let run = t.run(&["check", "."]);
        assert_eq!(run.code, 2, "{yaml}");
        assert!(
            run.stderr.contains(".apimfix.yaml:1:"),
            "{yaml}: {}",
            run.stderr
        );
        assert!(run.stderr.contains(says), "{yaml}: {}", run.stderr);
        assert!(!run.stderr.contains("struct "), "{yaml}: {}", run.stderr);
    }
}

#[test]
fn fmt_says_nothing_about_scopes() {
    let t = TestDir::new();
    t.write("misc/thing.xml", CLEAN_API);
    let run = t.run(&["fmt", "--check", "."]);
    assert_eq!(run.code, 1, "2-space indents are reformatted");
    assert!(!run.stderr.contains("unknown scope"), "{}", run.stderr);
}

#[test]
fn the_fmt_summary_counts_the_files_it_could_not_format() {
    let t = crate::common::TestDir::new();
    t.write(
        "apis/a/policy.xml",
        "<policies><inbound><base /></inbound></policies>\n",
    );
    t.write("apis/b/policy.xml", "<policies><inbound>\n");
    let run = t.run(&["fmt", "--check", "."]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains(
            "1 file would be reformatted, 0 already formatted, 1 file could not be formatted or written"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn fmt_annotations_place_a_syntax_error_on_its_line() {
    let t = crate::common::TestDir::new();
    t.write("apis/b/policy.xml", "<policies>\n  <inbound>\n");
    let run = t.run(&["fmt", "--check", "--output-format", "github", "."]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stdout.contains(
            "::error file=apis/b/policy.xml,line=2,col=3,title=apimfix fmt::unclosed element"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn effective_takes_output_format_as_the_other_commands_do() {
    let run = crate::common::TestDir::copy_of("examples").run(&[
        "effective",
        "contoso",
        "--api",
        "orders",
        "--output-format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["api"], "orders");
}

#[test]
fn verbose_lists_walked_xml_that_is_not_a_policy() {
    let t = crate::common::TestDir::new();
    t.write("e/pom.xml", "<project/>\n");
    let run = t.run(&["check", "-v", "e"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains(
            "e/pom.xml: skipped: not a policy (its root is neither `<policies>` nor `<fragment>`)"
        ),
        "{}",
        run.stderr
    );
    let quiet = t.run(&["check", "e"]);
    assert!(!quiet.stderr.contains("pom.xml"), "{}", quiet.stderr);
}

#[test]
fn fix_summary_counts_files_with_errors_and_names_the_unsafe_flag() {
    let t = crate::common::TestDir::new();
    t.write(
        "apis/a/policy.xml",
        "<policies>\n  <inbound />\n</policies>\n",
    );
    t.write("apis/b/policy.xml", "<policies>\n  <inbound>\n");
    let run = t.run(&["fix", "--write", "."]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("; 1 file with errors"),
        "{}",
        run.stderr
    );

    let t = crate::common::TestDir::new();
    t.write(
        "apis/a/operations/o/policy.xml",
        "<policies>\n  <inbound>\n    <return-response>\n      <set-status code=\"200\" />\n    </return-response>\n    <base />\n  </inbound>\n  <backend><base /></backend>\n  <outbound><base /></outbound>\n  <on-error><base /></on-error>\n</policies>\n",
    );
    t.write(
        "rules.yaml",
        "rules:\n  base-first:\n    global-has-cors: true\n",
    );
    let run = t.run(&["fix", "--unsafe-fixes", "."]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("Apply them with `apimfix fix --write --unsafe-fixes`"),
        "{}",
        run.stderr
    );
}

//! The CI and pre-commit integrations (`.github/workflows/apimfix-*.yml`,
//! `.pre-commit-hooks.yaml`) against the binary they call: every `apimfix` command they hold
//! names a subcommand and flags the binary accepts, the commands run and their output fits the
//! consumer (reviewdog's `-f.diff.strip`, upload-sarif's file, annotations), and the hooks
//! behave as pre-commit needs when run on the examples.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use yaml_serde::Value;

const BIN: &str = env!("CARGO_BIN_EXE_apimfix");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

// ---------------------------------------------------------------------------------------------
// Helpers: YAML, the binary, shell words
// ---------------------------------------------------------------------------------------------

fn load_yaml(rel: &str) -> Value {
    let path = Path::new(ROOT).join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
    yaml_serde::from_str::<Value>(&text).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn run_bin(args: &[&str], cwd: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("running apimfix {args:?}: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `apimfix SUB --help`, which must succeed: the subcommand exists.
fn help_of(sub: &str) -> String {
    let out = run_bin(&[sub, "--help"], Path::new(ROOT));
    assert!(
        out.status.success(),
        "`apimfix {sub} --help` failed: the binary has no subcommand `{sub}`\n{}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// The byte offset of the line of `help` that declares the option `flag` (`--write`, `-q`):
/// `  -q, --quiet`, `      --write`; mentions in other options' descriptions do not count.
fn find_flag(help: &str, flag: &str) -> Option<usize> {
    let mut offset = 0;
    for line in help.split_inclusive('\n') {
        let t = line.trim_start();
        let names: Vec<&str> = t
            .split(", ")
            .take_while(|part| part.starts_with('-'))
            .map(|part| part.split([' ', '=', '\n']).next().unwrap_or(part))
            .collect();
        if names.contains(&flag) {
            return Some(offset);
        }
        offset += line.len();
    }
    None
}

/// The lines of `help` that describe the option declared at byte `at`, up to the next option.
fn option_block(help: &str, at: usize) -> &str {
    let mut end = help.len();
    let mut offset = at;
    for (n, line) in help[at..].split_inclusive('\n').enumerate() {
        let t = line.trim_start();
        let starts_option = t.starts_with("--")
            || (t.starts_with('-') && t[1..].starts_with(|c: char| c.is_ascii_alphanumeric()));
        if n > 0 && starts_option {
            end = offset;
            break;
        }
        offset += line.len();
    }
    &help[at..end]
}

/// Checks the words after `apimfix` against `SUB --help`: the subcommand exists, each flag is
/// one of its options, and a flag's value is one of its possible values. Returns the
/// positional arguments.
fn check_against_help(words: &[String], origin: &str) -> Vec<String> {
    assert_eq!(words[0], "apimfix", "{origin}: not an apimfix command");
    let sub = words
        .get(1)
        .unwrap_or_else(|| panic!("{origin}: `apimfix` without a subcommand"));
    assert!(
        !sub.starts_with('-'),
        "{origin}: `{sub}` where a subcommand should be"
    );
    let help = help_of(sub);
    let mut positional = Vec::new();
    let mut i = 2;
    while i < words.len() {
        let word = &words[i];
        i += 1;
        if !word.starts_with('-') || word == "-" {
            positional.push(word.clone());
            continue;
        }
        let (flag, inline_value) = match word.split_once('=') {
            Some((f, v)) => (f, Some(v.to_owned())),
            None => (word.as_str(), None),
        };
        let at = find_flag(&help, flag).unwrap_or_else(|| {
            panic!("{origin}: `apimfix {sub}` has no option `{flag}`; its help:\n{help}")
        });
        let block = option_block(&help, at);
        let takes_value = block[block.find(flag).unwrap() + flag.len()..].starts_with(" <");
        if !takes_value {
            assert!(inline_value.is_none(), "{origin}: `{flag}` takes no value");
            continue;
        }
        let value = inline_value.or_else(|| {
            i += 1;
            words.get(i - 1).cloned()
        });
        let value = value.unwrap_or_else(|| panic!("{origin}: `{flag}` lacks its value"));
        if block.to_lowercase().contains("possible values") {
            let listed = block.contains(&format!("- {value}:"))
                || block.split("possible values:").nth(1).is_some_and(|rest| {
                    rest.split(|c: char| c == ',' || c == ']' || c.is_whitespace())
                        .any(|v| v == value)
                });
            assert!(
                listed,
                "{origin}: `{value}` is not a possible value of `{flag}`:\n{block}"
            );
        }
    }
    positional
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    /// `|`, `||`, `&&`, `;` (also a newline), `&`, `(`, `)`.
    Control(String),
    /// `>`, `>>`, `<`, `2>`, `2>>`, `&>`: the next word is its target.
    Redirect(String),
}

/// Splits a shell script into words and operators: enough shell for a workflow's `run:`
/// (quotes, backslash-newline, comments); `$VAR` is kept as written.
fn shell_tokens(script: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let chars: Vec<char> = script.chars().collect();
    let mut i = 0;
    let flush = |word: &mut String, in_word: &mut bool, tokens: &mut Vec<Token>| {
        if *in_word {
            tokens.push(Token::Word(std::mem::take(word)));
            *in_word = false;
        }
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' if chars.get(i + 1) == Some(&'\n') => i += 2,
            '\\' => {
                word.extend(chars.get(i + 1));
                in_word = true;
                i += 2;
            }
            '\'' | '"' => {
                in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != c {
                    if c == '"' && chars[i] == '\\' && i + 1 < chars.len() {
                        i += 1;
                    }
                    word.push(chars[i]);
                    i += 1;
                }
                i += 1;
            }
            '#' if !in_word => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            ' ' | '\t' => {
                flush(&mut word, &mut in_word, &mut tokens);
                i += 1;
            }
            '\n' | ';' | '(' | ')' => {
                flush(&mut word, &mut in_word, &mut tokens);
                tokens.push(Token::Control(if c == '\n' {
                    ";".into()
                } else {
                    c.into()
                }));
                i += 1;
            }
            '|' | '&' => {
                flush(&mut word, &mut in_word, &mut tokens);
                let next = chars.get(i + 1).copied();
                if c == '&' && next == Some('>') {
                    tokens.push(Token::Redirect("&>".into()));
                    i += 2;
                } else if next == Some(c) {
                    tokens.push(Token::Control(format!("{c}{c}")));
                    i += 2;
                } else {
                    tokens.push(Token::Control(c.into()));
                    i += 1;
                }
            }
            '>' | '<' => {
                let mut op = String::new();
                if in_word && word.chars().all(|d| d.is_ascii_digit()) {
                    op = std::mem::take(&mut word);
                    in_word = false;
                }
                flush(&mut word, &mut in_word, &mut tokens);
                op.push(c);
                i += 1;
                if c == '>' && chars.get(i) == Some(&'>') {
                    op.push('>');
                    i += 1;
                }
                if chars.get(i) == Some(&'&') {
                    // 2>&1: a duplication, no file target.
                    op.push('&');
                    i += 1;
                }
                tokens.push(Token::Redirect(op));
            }
            _ => {
                word.push(c);
                in_word = true;
                i += 1;
            }
        }
    }
    flush(&mut word, &mut in_word, &mut tokens);
    tokens
}

/// One simple command of a script: its words, where its stdout goes, what it pipes into.
#[derive(Debug, Default, Clone)]
struct ShellCommand {
    words: Vec<String>,
    stdout_file: Option<String>,
    piped_to: Option<Vec<String>>,
}

fn shell_commands(script: &str) -> Vec<ShellCommand> {
    let mut commands: Vec<ShellCommand> = Vec::new();
    let mut current = ShellCommand::default();
    let mut pipe_from_previous = false;
    let mut tokens = shell_tokens(script).into_iter().peekable();
    let finish = |current: &mut ShellCommand, pipe_from_previous: bool, commands: &mut Vec<_>| {
        let done = std::mem::take(current);
        if done.words.is_empty() {
            return;
        }
        if pipe_from_previous {
            let prev: &mut ShellCommand = commands.last_mut().expect("a pipe follows a command");
            prev.piped_to = Some(done.words.clone());
        }
        commands.push(done);
    };
    while let Some(token) = tokens.next() {
        match token {
            Token::Word(w) => current.words.push(w),
            Token::Redirect(op) => {
                if op.ends_with('&') {
                    // 2>&1: the next word is a descriptor.
                    tokens.next();
                    continue;
                }
                let target = match tokens.next() {
                    Some(Token::Word(t)) => t,
                    other => panic!("redirect `{op}` without a target: {other:?}"),
                };
                if op == ">" || op == ">>" || op == "1>" || op == "&>" {
                    current.stdout_file = Some(target);
                }
            }
            Token::Control(op) => {
                let pipes = op == "|";
                finish(&mut current, pipe_from_previous, &mut commands);
                pipe_from_previous = pipes;
            }
        }
    }
    finish(&mut current, pipe_from_previous, &mut commands);
    commands
}

/// `$NAME` and `${NAME}` replaced from `env`; an unknown variable is a test failure.
fn expand(word: &str, env: &BTreeMap<String, String>, origin: &str) -> String {
    let mut out = String::new();
    let mut rest = word;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, len) = if let Some(braced) = after.strip_prefix('{') {
            let close = braced.find('}').expect("unclosed ${");
            (&braced[..close], close + 2)
        } else {
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..len], len)
        };
        let value = env
            .get(name)
            .unwrap_or_else(|| panic!("{origin}: `${name}` is not set in the workflow's env"));
        out.push_str(value);
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

// ---------------------------------------------------------------------------------------------
// Workflows
// ---------------------------------------------------------------------------------------------

/// One `run:` step of a workflow, with the env it sees (workflow, job, step).
struct RunStep {
    origin: String,
    job: String,
    index: usize,
    run: String,
    shell: Option<String>,
    env: BTreeMap<String, String>,
}

fn env_of(v: &Value, env: &mut BTreeMap<String, String>) {
    if let Some(map) = v.get("env").and_then(Value::as_mapping) {
        for (k, val) in map {
            let value = match val {
                Value::String(s) => s.clone(),
                other => yaml_serde::to_string(other).unwrap().trim().to_owned(),
            };
            env.insert(k.as_str().unwrap().to_owned(), value);
        }
    }
}

fn jobs(workflow: &Value) -> Vec<(String, &Value)> {
    workflow
        .get("jobs")
        .and_then(Value::as_mapping)
        .expect("a workflow has jobs")
        .iter()
        .map(|(k, v)| (k.as_str().unwrap().to_owned(), v))
        .collect()
}

fn job_steps(job: &Value) -> &[Value] {
    job.get("steps")
        .and_then(Value::as_sequence)
        .map_or(&[], |s| s.as_slice())
}

fn run_steps(rel: &str, workflow: &Value) -> Vec<RunStep> {
    let mut out = Vec::new();
    for (name, job) in jobs(workflow) {
        for (index, step) in job_steps(job).iter().enumerate() {
            let Some(run) = str_of(step, "run") else {
                continue;
            };
            let mut env = BTreeMap::new();
            env_of(workflow, &mut env);
            env_of(job, &mut env);
            env_of(step, &mut env);
            out.push(RunStep {
                origin: format!("{rel}: jobs.{name}.steps[{index}]"),
                job: name.clone(),
                index,
                run: run.to_owned(),
                shell: str_of(step, "shell").map(str::to_owned),
                env,
            });
        }
    }
    out
}

/// The `apimfix` commands of a workflow's `run:` steps, each with its step.
fn apimfix_commands(steps: &[RunStep]) -> Vec<(&RunStep, ShellCommand)> {
    steps
        .iter()
        .flat_map(|s| {
            shell_commands(&s.run)
                .into_iter()
                .filter(|c| c.words[0] == "apimfix")
                .map(move |c| (s, c))
        })
        .collect()
}

/// Runs a workflow's apimfix command from the repo root, as the workflow would after
/// checkout, with its variables expanded. Returns its output.
fn run_as_workflow(step: &RunStep, command: &ShellCommand) -> Output {
    assert!(
        !command.words.iter().any(|w| w == "--write"),
        "{}: a CI step rewriting files is not run by this test",
        step.origin
    );
    let args: Vec<String> = command.words[1..]
        .iter()
        .map(|w| expand(w, &step.env, &step.origin))
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_bin(&args, Path::new(ROOT))
}

fn triggers(workflow: &Value) -> Vec<String> {
    // `on` is a string key in YAML 1.2; a YAML 1.1 reader would make it `true`.
    let on = workflow
        .get("on")
        .or_else(|| workflow.as_mapping().and_then(|m| m.get(Value::Bool(true))))
        .expect("a workflow has `on`");
    match on {
        Value::String(s) => vec![s.clone()],
        Value::Sequence(s) => s
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Value::Mapping(m) => m
            .keys()
            .filter_map(|k| k.as_str().map(str::to_owned))
            .collect(),
        other => panic!("unexpected `on`: {other:?}"),
    }
}

/// The permission `name` a job gets (its own `permissions:`, else the workflow's).
fn permission(workflow: &Value, job: &Value, name: &str) -> Option<String> {
    let perms = job
        .get("permissions")
        .or_else(|| workflow.get("permissions"))?;
    perms.get(name).and_then(Value::as_str).map(str::to_owned)
}

fn job<'a>(workflow: &'a Value, name: &str) -> &'a Value {
    workflow.get("jobs").and_then(|j| j.get(name)).unwrap()
}

/// The index of the first step that installs apimfix, which must come before any use.
fn install_step(job_value: &Value, origin: &str) -> usize {
    job_steps(job_value)
        .iter()
        .position(|s| {
            str_of(s, "run").is_some_and(|r| {
                shell_commands(r).iter().any(|c| {
                    c.words.starts_with(&["cargo".into(), "install".into()])
                        && (c.words.iter().any(|w| w == "--path")
                            || c.words.iter().any(|w| w == "--git"))
                })
            })
        })
        .unwrap_or_else(|| panic!("{origin}: no step installs apimfix with cargo install"))
}

const WORKFLOWS: [&str; 2] = [
    ".github/workflows/apimfix-suggest.yml",
    ".github/workflows/apimfix-sarif.yml",
];

#[test]
fn workflow_commands_are_ones_the_binary_accepts() {
    for rel in WORKFLOWS {
        let workflow = load_yaml(rel);
        let run_steps = run_steps(rel, &workflow);
        let commands = apimfix_commands(&run_steps);
        assert!(!commands.is_empty(), "{rel}: no apimfix command");
        for (step, command) in &commands {
            let positional = check_against_help(&command.words, &step.origin);
            // The paths it is given exist in this repo, so the command checks something.
            for p in positional {
                let p = expand(&p, &step.env, &step.origin);
                assert!(
                    Path::new(ROOT).join(&p).exists(),
                    "{}: path `{p}` does not exist in the repo",
                    step.origin
                );
            }
            // apimfix is installed earlier in the same job.
            let job_value = job(&workflow, &step.job);
            assert!(
                install_step(job_value, &step.origin) < step.index,
                "{}: apimfix is used before it is installed",
                step.origin
            );
        }
    }
}

#[test]
fn suggest_workflow_pipes_rdjson_whose_suggestions_reviewdog_can_place() {
    let rel = WORKFLOWS[0];
    let workflow = load_yaml(rel);
    assert!(
        triggers(&workflow).iter().any(|t| t == "pull_request"),
        "{rel}: runs on pull_request"
    );
    let run_steps = run_steps(rel, &workflow);
    let commands = apimfix_commands(&run_steps);
    // Issue #12: `fix | reviewdog -f=diff` could post the deletion of a move without its
    // insertion; the recipe is `check --output-format rdjson`, one suggestion per fix.
    let (step, check) = commands
        .iter()
        .find(|(_, c)| c.words.get(1).is_some_and(|w| w == "check"))
        .unwrap_or_else(|| panic!("{rel}: no `apimfix check` step"));
    assert!(
        check
            .words
            .windows(2)
            .any(|w| w[0] == "--output-format" && w[1] == "rdjson"),
        "{}: `apimfix check` does not print rdjson",
        step.origin
    );
    let reviewdog = check.piped_to.as_ref().unwrap_or_else(|| {
        panic!(
            "{}: `apimfix check` is not piped into reviewdog",
            step.origin
        )
    });
    assert_eq!(reviewdog[0], "reviewdog", "{}", step.origin);
    for arg in ["-f=rdjson", "-reporter=github-pr-review", "-name=apimfix"] {
        assert!(
            reviewdog.iter().any(|w| w == arg),
            "{}: reviewdog lacks {arg}",
            step.origin
        );
    }
    assert!(
        !reviewdog.iter().any(|w| w == "-f=diff"),
        "{}: a diff can reach reviewers in halves",
        step.origin
    );
    // A failure of apimfix (exit 2) must fail the step: the pipe needs pipefail.
    assert!(
        step.shell.as_deref() == Some("bash") || step.run.contains("pipefail"),
        "{}: without `shell: bash` (pipefail) the pipe hides apimfix's exit code",
        step.origin
    );
    assert!(
        step.env.contains_key("REVIEWDOG_GITHUB_API_TOKEN"),
        "{}: reviewdog needs REVIEWDOG_GITHUB_API_TOKEN",
        step.origin
    );
    let job_value = job(&workflow, &step.job);
    assert_eq!(
        permission(&workflow, job_value, "pull-requests").as_deref(),
        Some("write"),
        "{rel}: posting a review needs pull-requests: write"
    );
    let setup = job_steps(job_value)
        .iter()
        .position(|s| str_of(s, "uses").is_some_and(|u| u.starts_with("reviewdog/action-setup@v1")))
        .unwrap_or_else(|| panic!("{rel}: no reviewdog/action-setup@v1 step"));
    assert!(
        setup < step.index,
        "{rel}: reviewdog is set up after its use"
    );

    // The report, as the step produces it: exit 0, paths of the repo's files, and each
    // suggestion on exactly the lines of its finding (reviewdog: "GitHub comment range and
    // suggestion line range must be same").
    let out = run_as_workflow(step, check);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}: {}",
        step.origin,
        text(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    let diagnostics = report["diagnostics"].as_array().unwrap();
    let mut suggested = 0;
    for d in diagnostics {
        let path = d["location"]["path"].as_str().unwrap();
        assert!(
            Path::new(ROOT).join(path).is_file(),
            "{}: `{path}` is not a file of the repo",
            step.origin
        );
        for s in d["suggestions"].as_array().into_iter().flatten() {
            suggested += 1;
            for end in ["start", "end"] {
                assert_eq!(
                    s["range"][end]["line"], d["location"]["range"][end]["line"],
                    "{}: {d}",
                    step.origin
                );
            }
        }
    }
    assert!(
        suggested > 0,
        "{}: the examples get no suggestion",
        step.origin
    );
}

#[test]
fn sarif_workflow_uploads_the_file_apimfix_writes() {
    let rel = WORKFLOWS[1];
    let workflow = load_yaml(rel);
    let run_steps = run_steps(rel, &workflow);
    let commands = apimfix_commands(&run_steps);
    let (step, check) = commands
        .iter()
        .find(|(_, c)| {
            c.words
                .windows(2)
                .any(|w| w[0] == "--output-format" && w[1] == "sarif")
        })
        .unwrap_or_else(|| panic!("{rel}: no `apimfix check --output-format sarif` step"));
    assert_eq!(check.words[1], "check", "{}", step.origin);
    assert!(
        check.words.iter().any(|w| w == "--exit-zero"),
        "{}: without --exit-zero findings fail the step and the upload is skipped",
        step.origin
    );
    let sarif_file = check
        .stdout_file
        .as_deref()
        .unwrap_or_else(|| panic!("{}: the SARIF is not written to a file", step.origin));

    let job_value = job(&workflow, &step.job);
    let upload = job_steps(job_value)
        .iter()
        .position(|s| {
            str_of(s, "uses").is_some_and(|u| u == "github/codeql-action/upload-sarif@v3")
        })
        .unwrap_or_else(|| panic!("{rel}: no github/codeql-action/upload-sarif@v3 step"));
    assert!(upload > step.index, "{rel}: the upload runs before apimfix");
    let upload_step = &job_steps(job_value)[upload];
    // Issue 17: exit 2 (a file that does not parse) still writes a complete SARIF file,
    // which must be uploaded: the upload runs after a failed step too.
    let condition = str_of(upload_step, "if").unwrap_or_default();
    assert!(
        ["always()", "success() || failure()", "!cancelled()"]
            .iter()
            .any(|c| condition.contains(c)),
        "{rel}: the upload is skipped when apimfix exits 2 (if: {condition:?})"
    );
    assert_eq!(
        upload_step
            .get("with")
            .and_then(|w| str_of(w, "sarif_file")),
        Some(sarif_file),
        "{rel}: upload-sarif's sarif_file is not the file apimfix writes"
    );
    assert_eq!(
        permission(&workflow, job_value, "security-events").as_deref(),
        Some("write"),
        "{rel}: upload-sarif needs security-events: write"
    );

    // The SARIF, as the step produces it: exit 0, SARIF 2.1.0 from apimfix, with result URIs
    // that are files of the repo (relative to the checkout), so code scanning can place them.
    let out = run_as_workflow(step, check);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        step.origin,
        text(&out.stderr)
    );
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).expect("SARIF is JSON");
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "apimfix");
    let results = run["results"].as_array().expect("results");
    assert!(!results.is_empty(), "the examples have findings");
    for result in results {
        let uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .expect("a result has a uri");
        let path = uri.replace("%20", " ").replace("%3B", ";");
        assert!(
            Path::new(ROOT).join(&path).is_file(),
            "SARIF uri `{uri}` is not a repo-relative file"
        );
    }
}

#[test]
fn sarif_workflow_has_a_plain_check_with_annotations() {
    let rel = WORKFLOWS[1];
    let workflow = load_yaml(rel);
    let run_steps = run_steps(rel, &workflow);
    let commands = apimfix_commands(&run_steps);
    let (step, check) = commands
        .iter()
        .find(|(_, c)| {
            c.words
                .windows(2)
                .any(|w| w[0] == "--output-format" && w[1] == "github")
        })
        .unwrap_or_else(|| panic!("{rel}: no `apimfix check --output-format github` step"));
    assert_eq!(check.words[1], "check", "{}", step.origin);
    // Annotations are workflow commands on stdout: nothing may swallow them.
    assert!(
        check.stdout_file.is_none() && check.piped_to.is_none(),
        "{}: the annotations must go to the log",
        step.origin
    );
    let out = run_as_workflow(step, check);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}: the examples have findings, which fail the check\n{}",
        step.origin,
        text(&out.stderr)
    );
    let stdout = text(&out.stdout);
    assert!(!stdout.is_empty());
    for line in stdout.lines() {
        assert!(
            line.starts_with("::error ")
                || line.starts_with("::warning ")
                || line.starts_with("::notice "),
            "not a workflow command: {line}"
        );
        if let Some(file) = line.split("file=").nth(1) {
            let file = file.split([',', ':']).next().unwrap();
            assert!(
                Path::new(ROOT).join(file).is_file(),
                "annotation on `{file}`"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// pre-commit hooks
// ---------------------------------------------------------------------------------------------

struct Hook {
    id: String,
    entry: Vec<String>,
}

fn hooks() -> Vec<Hook> {
    let manifest = load_yaml(".pre-commit-hooks.yaml");
    let list = manifest
        .as_sequence()
        .expect("the manifest is a list of hooks");
    list.iter()
        .map(|h| {
            let id = str_of(h, "id").expect("a hook has an id").to_owned();
            for key in ["name", "entry", "language"] {
                assert!(str_of(h, key).is_some(), "hook {id} lacks `{key}`");
            }
            assert_eq!(str_of(h, "language"), Some("rust"), "hook {id}");
            let types: Vec<&str> = h
                .get("types")
                .and_then(Value::as_sequence)
                .map(|t| t.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            assert_eq!(types, ["xml"], "hook {id}: types");
            let files = str_of(h, "files").unwrap_or_else(|| panic!("hook {id} lacks `files`"));
            assert!(
                files.contains("policy") && files.ends_with(r"\.xml$"),
                "hook {id}: `files` should match policy paths: {files}"
            );
            let entry: Vec<String> = shell_tokens(str_of(h, "entry").unwrap())
                .into_iter()
                .map(|t| match t {
                    Token::Word(w) => w,
                    other => panic!("hook {id}: the entry is one command, found {other:?}"),
                })
                .collect();
            Hook { id, entry }
        })
        .collect()
}

#[test]
fn hooks_are_the_documented_three() {
    let ids: Vec<String> = hooks().into_iter().map(|h| h.id).collect();
    assert_eq!(ids, ["apimfix-fix", "apimfix-fmt", "apimfix-check"]);
    // language: rust installs the crate's binaries: one must be named as the entry's word.
    let cargo = std::fs::read_to_string(Path::new(ROOT).join("Cargo.toml")).unwrap();
    let bin = cargo
        .split("[[bin]]")
        .nth(1)
        .expect("Cargo.toml has a [[bin]]");
    assert!(
        bin.contains("name = \"apimfix\""),
        "the binary is named apimfix"
    );
}

#[test]
fn hook_entries_are_commands_the_binary_accepts() {
    for hook in hooks() {
        let origin = format!(".pre-commit-hooks.yaml: {}", hook.id);
        assert_eq!(
            hook.entry[0], "apimfix",
            "{origin}: the entry starts with apimfix"
        );
        let positional = check_against_help(&hook.entry, &origin);
        assert!(
            positional.is_empty(),
            "{origin}: pre-commit appends the file names; the entry names no path"
        );
        assert!(
            hook.entry.iter().any(|w| w == "--force-exclude"),
            "{origin}: without --force-exclude the config's `exclude` is ignored for the files pre-commit names"
        );
        let sub = hook.entry[1].as_str();
        assert_eq!(
            hook.entry.iter().any(|w| w == "--write"),
            sub != "check",
            "{origin}: fix and fmt hooks write, check does not"
        );
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn policy_files(dir: &Path, base: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            policy_files(&path, base, out);
        } else if path.file_name().is_some_and(|n| n == "policy.xml") {
            out.push(
                path.strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
    out.sort();
}

fn snapshot(dir: &Path, files: &[String]) -> Vec<Vec<u8>> {
    files
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap())
        .collect()
}

/// Runs a hook the way pre-commit does: the entry, then the staged file names (here every
/// policy of the examples, as with `pre-commit run --all-files` and require_serial).
fn run_hook(hook: &Hook, dir: &Path, files: &[String]) -> Output {
    let mut args: Vec<&str> = hook.entry[1..].iter().map(String::as_str).collect();
    args.extend(files.iter().map(String::as_str));
    run_bin(&args, dir)
}

#[test]
fn hooks_behave_as_pre_commit_needs_on_the_examples() {
    let hooks = hooks();
    let hook = |id: &str| hooks.iter().find(|h| h.id == id).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&Path::new(ROOT).join("examples"), tmp.path());
    // `base-missing` in the examples turns on rate limits (unsafe, issue #12): a team that
    // lets the hook fix them says so in its config.
    for config in ["contoso/rules.yaml", "no-cors/rules.yaml"] {
        let path = tmp.path().join(config);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("unsafe-fixes: true\n{text}")).unwrap();
    }
    let mut files = Vec::new();
    policy_files(tmp.path(), tmp.path(), &mut files);
    assert!(files.len() > 3, "the examples hold policies: {files:?}");

    // check reports the examples' findings and changes nothing.
    let before = snapshot(tmp.path(), &files);
    let out = run_hook(hook("apimfix-check"), tmp.path(), &files);
    assert_eq!(out.status.code(), Some(1), "check: {}", text(&out.stderr));
    assert_eq!(snapshot(tmp.path(), &files), before, "check writes nothing");

    // fix rewrites files (so pre-commit fails the commit and shows them), and a second run,
    // pre-commit's next attempt, changes nothing and passes.
    let out = run_hook(hook("apimfix-fix"), tmp.path(), &files);
    assert_ne!(out.status.code(), Some(2), "fix: {}", text(&out.stderr));
    let fixed = snapshot(tmp.path(), &files);
    assert_ne!(fixed, before, "the fix hook changes the examples");
    let out = run_hook(hook("apimfix-fix"), tmp.path(), &files);
    assert_eq!(
        out.status.code(),
        Some(0),
        "fix again: {}",
        text(&out.stderr)
    );
    assert_eq!(
        snapshot(tmp.path(), &files),
        fixed,
        "fixing twice changes nothing"
    );
    let out = run_hook(hook("apimfix-check"), tmp.path(), &files);
    assert_eq!(
        out.status.code(),
        Some(0),
        "check after fix: {}",
        text(&out.stdout)
    );

    // fmt settles in one run too.
    let out = run_hook(hook("apimfix-fmt"), tmp.path(), &files);
    assert_eq!(out.status.code(), Some(0), "fmt: {}", text(&out.stderr));
    let formatted = snapshot(tmp.path(), &files);
    let out = run_hook(hook("apimfix-fmt"), tmp.path(), &files);
    assert_eq!(
        out.status.code(),
        Some(0),
        "fmt again: {}",
        text(&out.stderr)
    );
    assert_eq!(
        snapshot(tmp.path(), &files),
        formatted,
        "formatting twice changes nothing"
    );
}

#[test]
fn hooks_honour_the_config_exclude_for_named_files() {
    let tmp = tempfile::tempdir().unwrap();
    let legacy = tmp.path().join("apis/legacy");
    std::fs::create_dir_all(&legacy).unwrap();
    std::fs::write(
        tmp.path().join(".apimfix.yaml"),
        "exclude: [\"apis/legacy/\"]\n",
    )
    .unwrap();
    let broken = "<policies>\n  <inbound>\n    <rate-limit calls=\"1\" renewal-period=\"1\" />\n  </inbound>\n</policies>\n";
    std::fs::write(legacy.join("policy.xml"), broken).unwrap();
    let files = vec!["apis/legacy/policy.xml".to_owned()];

    // Without the flag the named file is read anyway: the reason every hook carries it.
    let plain = run_bin(&["check", "apis/legacy/policy.xml"], tmp.path());
    assert_eq!(plain.status.code(), Some(1), "{}", text(&plain.stdout));

    for hook in hooks() {
        let out = run_hook(&hook, tmp.path(), &files);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: an excluded file is skipped\n{}{}",
            hook.id,
            text(&out.stdout),
            text(&out.stderr)
        );
        assert_eq!(
            std::fs::read_to_string(legacy.join("policy.xml")).unwrap(),
            broken,
            "{}: an excluded file is not written",
            hook.id
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Completions, and the helpers themselves
// ---------------------------------------------------------------------------------------------

#[test]
fn completions_cover_the_subcommands() {
    for shell in ["bash", "zsh", "fish"] {
        let out = run_bin(&["completions", shell], Path::new(ROOT));
        assert!(
            out.status.success(),
            "completions {shell}: {}",
            text(&out.stderr)
        );
        let script = text(&out.stdout);
        for word in ["fix", "fmt", "check", "output-format"] {
            assert!(script.contains(word), "{shell} completions lack `{word}`");
        }
    }
}

#[test]
fn shell_commands_split_pipes_redirects_and_continuations() {
    let script = "# a comment naming apimfix fix\n\
                  apimfix fix --exit-zero \"$DIR\" \\\n  | reviewdog -f=diff -name='a b'\n\
                  apimfix check --output-format sarif . > out.sarif 2>&1 && echo ok; cargo install --path .\n";
    let commands = shell_commands(script);
    let words: Vec<Vec<String>> = commands.iter().map(|c| c.words.clone()).collect();
    assert_eq!(
        words,
        [
            vec!["apimfix", "fix", "--exit-zero", "$DIR"],
            vec!["reviewdog", "-f=diff", "-name=a b"],
            vec!["apimfix", "check", "--output-format", "sarif", "."],
            vec!["echo", "ok"],
            vec!["cargo", "install", "--path", "."],
        ]
    );
    assert_eq!(commands[0].piped_to.as_ref().unwrap()[0], "reviewdog");
    assert_eq!(commands[2].stdout_file.as_deref(), Some("out.sarif"));
    assert!(commands[2].piped_to.is_none());
    let env = BTreeMap::from([("DIR".to_owned(), "examples".to_owned())]);
    assert_eq!(expand("$DIR/x${DIR}", &env, "t"), "examples/xexamples");
}

#[test]
fn flags_are_checked_against_help() {
    let ok: Vec<String> = ["apimfix", "check", "--output-format=json", "-q", "x"]
        .map(String::from)
        .to_vec();
    assert_eq!(check_against_help(&ok, "t"), ["x"]);
    for bad in [
        &["apimfix", "check", "--no-such-flag"][..],
        &["apimfix", "check", "--output-format", "xml"],
        &["apimfix", "fmt", "--exit-zero"],
        &["apimfix", "lint"],
    ] {
        let words: Vec<String> = bad.iter().map(|s| s.to_string()).collect();
        let caught = std::panic::catch_unwind(|| check_against_help(&words, "t"));
        assert!(caught.is_err(), "{bad:?} should be refused");
    }
}

//! The command layer: turns arguments into runs of the library, and runs into output and an
//! [`Outcome`]. Only this layer prints; `main` maps the outcome to the exit code.

pub mod args;
mod check;
mod effective;
mod explain;
mod fix;
mod fmt;
mod progress;

use std::io::Write;

use std::io::IsTerminal;

use apimfix::engine::{self, FileResult, Inputs, PathError, Run};
use apimfix::report::{
    Color, FileErrors, FileReport, OutputFormat, ReportOptions, UnsafeFixes, write_report,
};

use args::{Cli, Command, FileArgs};

/// How a run ended; `main` turns it into the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0: nothing to report.
    Clean,
    /// Exit 1: findings, or changes pending.
    Pending,
    /// Exit 2: a file or the run failed.
    Error,
}

/// `--color`, set once at the start of a run.
static COLOR: std::sync::OnceLock<args::ColorChoice> = std::sync::OnceLock::new();

pub fn run(cli: &Cli, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let _ = COLOR.set(cli.color);
    let mut sink = std::io::sink();
    match &cli.command {
        Command::Check(args) => check::run(args, pick(&args.files, out, &mut sink)),
        Command::Fix(args) => fix::run(args, pick(&args.files, out, &mut sink)),
        Command::Fmt(args) => fmt::run(args, pick(&args.files, out, &mut sink)),
        Command::Effective(args) => effective::run(args, out),
        Command::Rule { name } => explain::rule(name, out),
        Command::Rules => explain::rules(out),
        Command::Server => apimfix::server::run(out, Box::new(std::io::stderr()))
            .map(|()| Outcome::Clean)
            .map_err(|e| anyhow::anyhow!(e)),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(*shell, &mut Cli::command(), "apimfix", out);
            Ok(Outcome::Clean)
        }
    }
}

/// `-s`: nothing on stdout either; the exit code tells.
fn pick<'a>(
    files: &FileArgs,
    out: &'a mut dyn Write,
    sink: &'a mut std::io::Sink,
) -> &'a mut dyn Write {
    if files.silent { sink } else { out }
}

impl FileArgs {
    /// `-q` or `-s`: no summary, notes or warnings.
    pub fn hushed(&self) -> bool {
        self.quiet || self.silent
    }
}

/// Warnings unless `-q`; with `-v`, which config applies, what was skipped and each file's
/// scope. On stderr.
fn print_notes<T>(run: &Run<T>, args: &FileArgs) {
    if !args.hushed() {
        for warning in &run.warnings {
            match warning {
                // A file the run did not read itself (a file it read reports its own
                // error, once).
                engine::Warning::LeftOutOfRepoModel { path, error } => eprintln!(
                    "warning: {}: the repo model leaves this file out: {}",
                    shown_path(path),
                    strip_path_prefix(error, path)
                ),
                engine::Warning::UnknownDirectiveInComment {
                    display_path,
                    line,
                    column,
                    directive,
                } => eprintln!(
                    "warning: {display_path}:{line}:{column}: `{directive}` is not an apimfix \
                     directive, so the comment silences nothing (`apimfix-ignore` and \
                     `apimfix-ignore-file` are)"
                ),
                engine::Warning::StrayTempFile { path, outcome } => {
                    let shown = shown_path(path);
                    let left = "a temporary file left by an interrupted apimfix run";
                    match outcome {
                        engine::StrayTemp::Removed => eprintln!("warning: {shown}: removed {left}"),
                        engine::StrayTemp::Kept => {
                            eprintln!("warning: {shown}: {left}, or in use by a running one; kept")
                        }
                        engine::StrayTemp::CannotRemove(e) => {
                            eprintln!("warning: {shown}: {left}; cannot remove it: {e}")
                        }
                        engine::StrayTemp::Found => eprintln!(
                            "warning: {shown}: {left}; `apimfix fmt --write` or `fix --write` on its folder removes it"
                        ),
                    }
                }
                engine::Warning::UnknownRuleInComment {
                    display_path,
                    line,
                    column,
                    name,
                } => eprintln!(
                    "warning: {display_path}:{line}:{column}: `{name}` in an `apimfix-ignore` \
                     comment is not a rule, so it silences nothing (`apimfix rules` lists them)"
                ),
            }
        }
        if !run.unknown_scope.is_empty() {
            let n = run.unknown_scope.len();
            eprintln!(
                "note: {n} file{} of unknown scope{}: the scope-dependent rules skip {}; set it \
                 with `--scope` or the config's `scopes:` (`-v` says why)",
                plural(n),
                if n == 1 {
                    format!(" ({})", run.unknown_scope[0])
                } else {
                    String::new()
                },
                if n == 1 { "it" } else { "them" },
            );
        }
    }
    if args.verbose {
        if let Some(config) = &args.config {
            let base = engine::display_path(
                &std::path::absolute(config)
                    .unwrap_or_else(|_| config.clone())
                    .parent()
                    .map(std::path::Path::to_path_buf)
                    .unwrap_or_default(),
            );
            eprintln!(
                "config: {} (--config) governs every file; its `per-file-ignores`, `exclude` \
                 and `scopes` globs are relative to its folder, {}",
                engine::display_path(config),
                if base.is_empty() { "." } else { &base }
            );
        }
        for note in &run.notes {
            match note {
                engine::Note::Skipped { path, reason } => {
                    eprintln!("{}: skipped: {reason}", engine::display_path(path))
                }
                engine::Note::Ignored { path, file } => eprintln!(
                    "{}: skipped: ignored by {}",
                    engine::display_path(path),
                    match file {
                        Some(file) => shown_path(file),
                        None => "a git exclude file or a global gitignore".to_owned(),
                    }
                ),
                engine::Note::Host {
                    display_path,
                    line,
                    column,
                    message,
                } => eprintln!("{display_path}:{line}:{column}: note: {message}"),
                engine::Note::Scope {
                    display_path,
                    scope,
                    source,
                    config,
                } => {
                    let why = match source {
                        apimfix::layout::ScopeSource::Unknown { .. } => {
                            apimfix::layout::UNKNOWN_SCOPE_WHY.to_owned()
                        }
                        other => other.to_string(),
                    };
                    let config = match config {
                        Some(c) => engine::display_path(c),
                        None => "the built-in defaults".to_owned(),
                    };
                    eprintln!("{display_path}: scope {scope} ({why}); config {config}");
                }
            }
        }
    }
}

/// `path` relative to the working directory, with `..` when it lies beside it (a repo's
/// sibling file, run from a subfolder): as a path the user typed would be shown.
fn shown_path(path: &std::path::Path) -> String {
    use std::path::{Component, PathBuf};
    let shown = engine::display_path(path);
    let (Ok(cwd), true) = (std::env::current_dir(), path.is_absolute()) else {
        return shown;
    };
    if path.starts_with(&cwd) {
        return shown;
    }
    let ours: Vec<Component> = cwd.components().collect();
    let theirs: Vec<Component> = path.components().collect();
    let common = ours.iter().zip(&theirs).take_while(|(a, b)| a == b).count();
    // Only the root in common: an unrelated place, shown as it is.
    if common <= 1 {
        return shown;
    }
    let mut relative = PathBuf::new();
    for _ in common..ours.len() {
        relative.push("..");
    }
    for c in &theirs[common..] {
        relative.push(c);
    }
    relative.to_string_lossy().replace('\\', "/")
}

/// `message` without a leading `path: ` or `` `path` `` (an error that names its file, shown
/// after it), and with the path shown as the reports show it elsewhere.
fn strip_path_prefix(message: &str, path: &std::path::Path) -> String {
    let full = path.display().to_string();
    let shown = engine::display_path(path);
    let rest = [
        format!("{full}: "),
        format!("`{full}` "),
        format!("{shown}: "),
    ]
    .iter()
    .find_map(|prefix| message.strip_prefix(prefix.as_str()))
    .unwrap_or(message);
    rest.replace(&full, &shown)
}

/// `s` after a count that is not one.
pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `warning: no policy file found in ...` when a run over paths read no policy file: an empty
/// folder, a wrong path, or files that are all ignored.
fn warn_if_nothing_read(files_read: usize, reads_stdin: bool, errors: usize, args: &FileArgs) {
    if files_read > 0 || reads_stdin || errors > 0 || args.hushed() {
        return;
    }
    let paths: Vec<String> = input_paths(args)
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    eprintln!(
        "warning: no policy file found in {} (`-v` lists what was skipped)",
        paths.join(", ")
    );
}

/// The paths given, or `.`.
fn input_paths(args: &FileArgs) -> Vec<std::path::PathBuf> {
    if args.paths.is_empty() {
        vec![".".into()]
    } else {
        args.paths.clone()
    }
}

/// Lets `value` go without freeing it. The process ends right after a run: freeing a bulk
/// run's hundreds of thousands of small allocations one by one only delays the exit (3% of a
/// 100,000-file `check`). Only for what lives until the end of a command.
fn leak_at_exit<T>(value: T) {
    std::mem::forget(value);
}

/// The engine's options for the file arguments every command shares; the command sets the
/// rest.
fn engine_options(args: &FileArgs) -> engine::Options {
    engine::Options {
        config: args.config.clone(),
        scope: args.scope.map(Into::into),
        follow_symlinks: args.follow_symlinks,
        force_exclude: args.force_exclude,
        notes: args.verbose,
        rules: engine::RuleSelection {
            select: args.select.clone(),
            extend_select: args.extend_select.clone(),
            ignore: args.ignore.clone(),
        },
        environment: args.environment.clone(),
        ..engine::Options::default()
    }
}

/// The inputs the paths name: stdin when the one path is `-`, or when `--stdin-filename` is
/// given without paths (as ruff and prettier do); else the paths, `.` by default (a `-` among
/// other paths is refused by the engine).
fn engine_inputs(args: &FileArgs) -> anyhow::Result<Inputs> {
    let dash = args.paths.len() == 1 && args.paths[0].as_os_str() == "-";
    if dash || (args.paths.is_empty() && args.stdin_filename.is_some()) {
        return Ok(Inputs::Stdin {
            source: Box::new(std::io::stdin()),
            filename: args.stdin_filename.clone(),
        });
    }
    if args.stdin_filename.is_some() {
        anyhow::bail!(
            "`--stdin-filename` reads stdin: give no PATH (or `-`), not {}",
            args.paths
                .iter()
                .map(|p| format!("`{}`", p.display()))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(Inputs::Paths(input_paths(args)))
}

/// An error that stopped a run, as `main` shows it after `apimfix: error: `: a config error
/// at its line and column in the config file.
fn run_error(e: engine::Error) -> anyhow::Error {
    match &e {
        engine::Error::Config(config) => anyhow::Error::msg(format!(
            "{}: {}",
            engine::config_place(config),
            config.message()
        )),
        other => anyhow::Error::msg(other.to_string()),
    }
}

/// Where an error not tied to a read file is shown, and what it says: a config error at its
/// line and column in the config file, else the path it concerns (empty when none).
fn place_and_message(e: &PathError) -> (String, String) {
    match &e.error {
        engine::FileError::Config(config) => (engine::config_place(config), config.message()),
        other => (
            e.path
                .as_deref()
                .map(engine::display_path)
                .unwrap_or_default(),
            other.to_string(),
        ),
    }
}

/// A file error as the reports show it: a syntax error at its place, an apimfix bug, or
/// anything else (read, write, config, repo model) as what it says.
fn report_error(e: engine::FileError) -> apimfix::report::FileError {
    use apimfix::report::FileError as Shown;
    match e {
        engine::FileError::Syntax(s) => Shown::Syntax(s),
        engine::FileError::Internal(m) => Shown::Internal(m),
        engine::FileError::Read(io) => Shown::Io(io),
        other => Shown::Other(other.to_string()),
    }
}

/// The results with the inline policies of one host merged into one result per host: a host
/// is one file to its user, and its text (shared by its policies' results) is then indexed
/// and shown once, not once per policy.
fn merge_host_members(results: Vec<FileResult>) -> Vec<FileResult> {
    let mut out: Vec<FileResult> = Vec::with_capacity(results.len());
    for result in results {
        if let Some(last) = out.last_mut() {
            let same_host = last.path.is_some()
                && last.path == result.path
                && last.display_path == result.display_path
                && !last.source.is_empty()
                && std::sync::Arc::ptr_eq(&last.source, &result.source)
                && last.error.is_none()
                && result.error.is_none();
            if same_host {
                last.diagnostics.extend(result.diagnostics);
                last.diagnostics.sort_by_key(|d| d.range.start());
                continue;
            }
        }
        out.push(result);
    }
    out
}

/// The report of one file's result.
fn report_of(result: FileResult) -> FileReport {
    let mut report = FileReport::new(result.display_path, result.path, result.source.to_string());
    report.diagnostics = result.diagnostics;
    report.error = result.error.map(report_error);
    report
}

/// Errors not tied to a file, on stderr.
fn print_top_errors(errors: &[PathError]) {
    for (path, message) in errors.iter().map(place_and_message) {
        if path.is_empty() {
            eprintln!("error: {message}");
        } else {
            eprintln!("{path}: error: {message}");
        }
    }
}

/// File errors in the text format, on stderr (stdout carries only the diff or report).
fn eprint_reports<'a>(reports: impl Iterator<Item = &'a FileReport>) {
    let only_errors: Vec<FileReport> = reports
        .filter(|r| r.error.is_some())
        .map(|r| {
            let mut copy =
                FileReport::new(r.display_path.clone(), r.path.clone(), r.source.clone());
            copy.error = r.error.as_ref().map(clone_shown_error);
            copy
        })
        .collect();
    if only_errors.is_empty() {
        return;
    }
    let mut err = std::io::stderr();
    let _ = write_report(
        OutputFormat::Text,
        &mut err,
        &only_errors,
        &report_options(Stream::Stderr, false),
    );
}

/// Where a report goes, which decides whether it gets colour.
#[derive(Clone, Copy)]
enum Stream {
    Stdout,
    Stderr,
}

/// Whether `stream` gets colour: `--color always|never`; with `auto` (the default),
/// `FORCE_COLOR` colours, else `NO_COLOR` does not, else a terminal does.
fn color_for(stream: Stream) -> Color {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0");
    let on = match COLOR.get().copied().unwrap_or(args::ColorChoice::Auto) {
        args::ColorChoice::Always => true,
        args::ColorChoice::Never => false,
        args::ColorChoice::Auto if set("FORCE_COLOR") => true,
        args::ColorChoice::Auto if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) => {
            false
        }
        args::ColorChoice::Auto => match stream {
            Stream::Stdout => std::io::stdout().is_terminal(),
            Stream::Stderr => std::io::stderr().is_terminal(),
        },
    };
    if on { Color::Always } else { Color::Never }
}

/// A unified diff with colours: removed lines red, added green, hunk headers cyan, file
/// headers bold (as `git diff` on a terminal).
fn paint_diff(diff: &str, color: Color) -> std::borrow::Cow<'_, str> {
    if color == Color::Never {
        return diff.into();
    }
    use anstyle::{AnsiColor, Effects, Style};
    let mut out = String::with_capacity(diff.len() + diff.len() / 8);
    for line in diff.split_inclusive('\n') {
        let style = if line.starts_with("+++ ") || line.starts_with("--- ") {
            Style::new().effects(Effects::BOLD)
        } else if line.starts_with('+') {
            AnsiColor::Green.on_default()
        } else if line.starts_with('-') {
            AnsiColor::Red.on_default()
        } else if line.starts_with("@@") {
            AnsiColor::Cyan.on_default()
        } else {
            out.push_str(line);
            continue;
        };
        let (body, end) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        out.push_str(&format!("{style}{body}{style:#}{end}"));
    }
    out.into()
}

/// Colour as [`color_for`] decides; `--unsafe-fixes` decides how the text report counts
/// unsafe fixes.
fn report_options(stream: Stream, unsafe_fixes: bool) -> ReportOptions {
    ReportOptions {
        color: color_for(stream),
        unsafe_fixes: if unsafe_fixes {
            UnsafeFixes::Enabled
        } else {
            UnsafeFixes::Hint
        },
        ..ReportOptions::default()
    }
}

/// A copy of a shown file error.
fn clone_shown_error(e: &apimfix::report::FileError) -> apimfix::report::FileError {
    use apimfix::report::FileError as Shown;
    match e {
        Shown::Io(io) => Shown::Io(std::io::Error::new(io.kind(), io.to_string())),
        Shown::Syntax(s) => Shown::Syntax(s.clone()),
        Shown::Internal(m) => Shown::Internal(m.clone()),
        Shown::Other(m) => Shown::Other(m.clone()),
    }
}

/// The report of each path that could not be read at all (missing, a link refused, a broken
/// config): a file error like any other, so every output format carries it.
fn path_error_reports(errors: &[PathError]) -> impl Iterator<Item = FileReport> + '_ {
    errors.iter().map(|e| {
        let (place, message) = place_and_message(e);
        let mut report = FileReport::new(place, None, String::new());
        report.error = Some(apimfix::report::FileError::Other(message));
        report
    })
}

/// Writes `reports` on stdout in `format`. File errors also go to stderr (see
/// [`eprint_reports`]), so the text format shows findings only; the machine formats carry
/// everything, since their readers see only stdout.
fn write_findings(
    format: OutputFormat,
    out: &mut dyn Write,
    reports: &[FileReport],
    options: &ReportOptions,
) -> std::io::Result<()> {
    if format != OutputFormat::Text {
        return write_report(format, out, reports, options);
    }
    let findings_only = ReportOptions {
        file_errors: FileErrors::Omit,
        ..*options
    };
    write_report(OutputFormat::Text, out, reports, &findings_only)
}

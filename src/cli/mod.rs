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

pub fn run(cli: &Cli, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    match &cli.command {
        Command::Check(args) => check::run(args, out),
        Command::Fix(args) => fix::run(args, out),
        Command::Fmt(args) => fmt::run(args, out),
        Command::Effective(args) => effective::run(args, out),
        Command::Rule { name } => explain::rule(name, out),
        Command::Rules => explain::rules(out),
        Command::Server => apimfix::server::run(out)
            .map(|()| Outcome::Clean)
            .map_err(|e| anyhow::anyhow!(e)),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(*shell, &mut Cli::command(), "apimfix", out);
            Ok(Outcome::Clean)
        }
    }
}

/// Warnings unless `-q`; with `-v`, what was skipped and each file's scope. On stderr.
fn print_notes<T>(run: &Run<T>, args: &FileArgs) {
    if !args.quiet {
        for warning in &run.warnings {
            match warning {
                engine::Warning::LeftOutOfRepoModel { path, error } => eprintln!(
                    "warning: {}: the repo model leaves this file out: {error}",
                    engine::display_path(path)
                ),
            }
        }
    }
    if args.verbose {
        for note in &run.notes {
            match note {
                engine::Note::Skipped { path, reason } => {
                    eprintln!("{}: skipped: {reason}", engine::display_path(path))
                }
                engine::Note::Scope {
                    display_path,
                    scope,
                    source,
                } => eprintln!("{display_path}: scope {scope} ({source})"),
            }
        }
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
        scope: args.scope,
        follow_symlinks: args.follow_symlinks,
        force_exclude: args.force_exclude,
        notes: args.verbose,
        ..engine::Options::default()
    }
}

/// The inputs the paths name: stdin when the one path is `-` (a `-` among other paths is
/// refused by the engine).
fn engine_inputs(args: &FileArgs) -> Inputs {
    if args.paths.len() == 1 && args.paths[0].as_os_str() == "-" {
        Inputs::Stdin {
            source: Box::new(std::io::stdin()),
            filename: args.stdin_filename.clone(),
        }
    } else {
        Inputs::Paths(args.paths.clone())
    }
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

/// The report of one file's result.
fn report_of(result: FileResult) -> FileReport {
    let mut report = FileReport::new(result.display_path, result.path, result.source);
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
    let mut err = anstream::stderr();
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

/// Colour only on a terminal and without `NO_COLOR`; `--unsafe-fixes` decides how the text
/// report counts unsafe fixes.
fn report_options(stream: Stream, unsafe_fixes: bool) -> ReportOptions {
    let terminal = match stream {
        Stream::Stdout => std::io::stdout().is_terminal(),
        Stream::Stderr => std::io::stderr().is_terminal(),
    };
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    ReportOptions {
        color: if terminal && !no_color {
            Color::Always
        } else {
            Color::Never
        },
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

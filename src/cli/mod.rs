//! The command layer: turns arguments into runs of the library, and runs into output and an
//! [`Outcome`]. Only this layer prints; `main` maps the outcome to the exit code.

pub mod args;
mod check;
mod effective;
mod explain;
mod findings;
mod fix;
mod fmt;
mod pipeline;
mod progress;
mod safety;

use std::io::Write;

use std::io::IsTerminal;

use apimfix::report::{
    Color, FileErrors, FileReport, OutputFormat, ReportOptions, UnsafeFixes, write_report,
};

use args::{Cli, Command, FileArgs};
use pipeline::Run;

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
            eprintln!("{warning}");
        }
    }
    if args.verbose {
        for note in &run.notes {
            eprintln!("{note}");
        }
    }
}

/// Lets `value` go without freeing it. The process ends right after a run: freeing a bulk
/// run's hundreds of thousands of small allocations one by one only delays the exit (3% of a
/// 100,000-file `check`). Only for what lives until the end of a command.
fn leak_at_exit<T>(value: T) {
    std::mem::forget(value);
}

/// Errors not tied to a file, on stderr.
fn print_top_errors(errors: &[(String, String)]) {
    for (path, message) in errors {
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
            copy.error = r.error.as_ref().map(findings::clone_error);
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

/// A library message that starts with the file's path, without it: the report puts the path
/// in front already.
fn without_path(message: &str, path: &std::path::Path) -> String {
    let prefix = format!("{}: ", path.display());
    message.strip_prefix(&prefix).unwrap_or(message).to_owned()
}

/// The report of each path that could not be read at all (missing, a link refused, a broken
/// config): a file error like any other, so every output format carries it.
fn path_error_reports(errors: &[(String, String)]) -> impl Iterator<Item = FileReport> + '_ {
    errors.iter().map(|(path, message)| {
        let mut report = FileReport::new(path.clone(), None, String::new());
        report.error = Some(apimfix::report::FileError::Io(std::io::Error::other(
            message.clone(),
        )));
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

//! `apimfix fix`: apply fixes; print a diff, or write files in place.

use std::collections::BTreeMap;
use std::io::Write;

use apimfix::engine;
use apimfix::report::{FileReport, OutputFormat};
use apimfix::rules::Rule;

use super::args::FixArgs;
use super::check::write_statistics;
use super::{
    Outcome, Stream, eprint_reports, path_error_reports, print_notes, report_of, report_options,
    write_findings,
};

pub fn run(args: &FixArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let options = engine::Options {
        unsafe_fixes: args.unsafe_fixes,
        format_after_fix: args.format,
        write: args.write,
        ..super::engine_options(&args.files)
    };
    let shown = super::progress::Shown::start(args.files.quiet);
    let mut run = engine::fix(super::engine_inputs(&args.files), &options, &shown)
        .map_err(super::run_error)?;
    super::leak_at_exit(std::mem::take(&mut run.listings));
    print_notes(&run, &args.files);
    let mut changed = 0usize;
    let mut write_errors = 0usize;
    let mut report_unsafe = args.unsafe_fixes;
    let mut totals: BTreeMap<Rule, usize> = BTreeMap::new();
    let mut reports: Vec<FileReport> = Vec::with_capacity(run.results.len());
    for file in run.results.into_iter().flatten() {
        if let Some(output) = &file.output {
            out.write_all(output.as_bytes())?;
        }
        changed += usize::from(file.changed);
        write_errors += usize::from(file.write_failed);
        report_unsafe |= file.unsafe_config;
        for (rule, n) in file.applied {
            *totals.entry(rule).or_default() += n;
        }
        reports.push(report_of(file.result));
    }
    // Paths that could not be read at all are file errors in every format, as in `check`.
    reports.extend(path_error_reports(&run.errors));
    let applied: usize = totals.values().sum();
    let remaining: usize = reports.iter().map(|r| r.diagnostics.len()).sum();
    let errored = !run.errors.is_empty() || reports.iter().any(|r| r.error.is_some());
    // With --write, stdout reports what remains (a diff run's stdout is the diff).
    if args.write && !run.reads_stdin && (args.output_format.is_some() || !args.files.quiet) {
        let format = args.output_format.unwrap_or(OutputFormat::Text);
        write_findings(
            format,
            out,
            &reports,
            &report_options(Stream::Stdout, report_unsafe),
        )?;
    }
    eprint_reports(reports.iter().filter(|r| r.error.is_some()));
    if args.statistics {
        for (rule, n) in &totals {
            eprintln!("{n:>5}  {} fixed", rule.name());
        }
        let mut err = std::io::stderr();
        write_statistics(&mut err, reports.iter().flat_map(|r| &r.diagnostics))?;
    }
    if !args.files.quiet && !run.reads_stdin {
        let verb = if args.write { "Fixed" } else { "Would fix" };
        eprintln!(
            "{verb} {applied} finding{} in {changed} file{}; {remaining} finding{} remain{}{}",
            plural(applied),
            plural(changed),
            plural(remaining),
            if remaining == 1 { "s" } else { "" },
            if write_errors > 0 {
                format!("; {write_errors} file(s) could not be written")
            } else {
                String::new()
            }
        );
    }
    super::leak_at_exit(reports);
    Ok(if errored {
        Outcome::Error
    } else if args.exit_zero || run.reads_stdin {
        Outcome::Clean
    } else if args.write {
        if remaining > 0 {
            Outcome::Pending
        } else {
            Outcome::Clean
        }
    } else if changed > 0 {
        Outcome::Pending
    } else {
        Outcome::Clean
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

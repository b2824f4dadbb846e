//! `apimfix check`: report findings.

use std::collections::BTreeMap;
use std::io::Write;

use apimfix::diagnostic::Diagnostic;
use apimfix::engine;
use apimfix::report::{FileReport, OutputFormat, text::write_summary};
use apimfix::rules::Rule;
use rayon::prelude::*;

use super::args::CheckArgs;
use super::{
    Outcome, Stream, eprint_reports, path_error_reports, print_notes, report_of, report_options,
    write_findings,
};

pub fn run(args: &CheckArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let options = super::engine_options(&args.files);
    let shown = super::progress::Shown::start(args.files.quiet);
    let mut run = engine::check(super::engine_inputs(&args.files), &options, &shown)
        .map_err(super::run_error)?;
    super::leak_at_exit(std::mem::take(&mut run.listings));
    print_notes(&run, &args.files);
    let mut timings = super::progress::Timings::start();
    let mut reports: Vec<FileReport> = run
        .results
        .into_par_iter()
        .flatten()
        .map(|r| report_of(*r))
        .collect();
    // A path that could not be read at all (missing, a link refused) is a file error too, so
    // the machine formats carry it, not only stderr.
    reports.extend(path_error_reports(&run.errors));
    let options = report_options(Stream::Stdout, args.unsafe_fixes);
    // File errors always go to stderr; the text report on stdout holds only findings, the
    // machine formats carry the errors too (their consumers read only stdout).
    eprint_reports(reports.iter());
    write_findings(args.output_format, out, &reports, &options)?;
    if args.output_format == OutputFormat::Text && !args.files.quiet {
        write_summary(out, &reports, &options)?;
    }
    if args.statistics {
        write_statistics(out, reports.iter().flat_map(|r| &r.diagnostics))?;
    }
    timings.mark("report");
    let findings = reports.iter().map(|r| r.diagnostics.len()).sum::<usize>();
    let errored = reports.iter().any(|r| r.error.is_some());
    super::leak_at_exit(reports);
    Ok(if errored {
        Outcome::Error
    } else if findings > 0 && !args.exit_zero {
        Outcome::Pending
    } else {
        Outcome::Clean
    })
}

/// `--statistics`: findings per rule, most frequent first.
pub fn write_statistics<'a>(
    out: &mut dyn Write,
    diagnostics: impl Iterator<Item = &'a Diagnostic>,
) -> std::io::Result<()> {
    let mut counts: BTreeMap<Rule, (usize, usize)> = BTreeMap::new();
    for d in diagnostics {
        let entry = counts.entry(d.rule).or_default();
        entry.0 += 1;
        entry.1 += usize::from(d.fix.is_some());
    }
    let mut rows: Vec<_> = counts.into_iter().collect();
    rows.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(&b.0)));
    for (rule, (n, fixable)) in rows {
        writeln!(out, "{n:>5}  {:<26} {fixable} fixable", rule.name())?;
    }
    Ok(())
}

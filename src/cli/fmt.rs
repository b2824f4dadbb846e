//! `apimfix fmt`: format files; print a diff, list them (`--check`) or write them.

use std::io::Write;

use apimfix::engine::{self, Formatted};
use apimfix::report::FileReport;

use super::args::FmtArgs;
use super::{Outcome, eprint_reports, print_notes, print_top_errors, report_of};

pub fn run(args: &FmtArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let options = engine::Options {
        write: args.write,
        list_only: args.check,
        ..super::engine_options(&args.files)
    };
    let shown = super::progress::Shown::start(args.files.quiet);
    let mut run = engine::fmt(super::engine_inputs(&args.files), &options, &shown)
        .map_err(super::run_error)?;
    super::leak_at_exit(std::mem::take(&mut run.listings));
    print_notes(&run, &args.files);
    let mut changed = 0usize;
    let mut unchanged = 0usize;
    let mut failed: Vec<FileReport> = Vec::new();
    for file in run.results {
        match file {
            Formatted::Unchanged { output } => {
                unchanged += 1;
                if let Some(output) = output {
                    out.write_all(&output)?;
                }
            }
            Formatted::Changed {
                display_path,
                output,
            } => {
                changed += 1;
                if args.check {
                    writeln!(out, "{display_path}")?;
                } else if let Some(output) = output {
                    out.write_all(&output)?;
                }
            }
            Formatted::Failed(result) => failed.push(report_of(*result)),
        }
    }
    eprint_reports(failed.iter());
    print_top_errors(&run.errors);
    if !args.files.quiet && !run.reads_stdin {
        let what = if args.write {
            "reformatted"
        } else {
            "would be reformatted"
        };
        eprintln!(
            "{changed} file{} {what}, {} already formatted",
            if changed == 1 { "" } else { "s" },
            unchanged
        );
    }
    let errored = !run.errors.is_empty() || !failed.is_empty();
    Ok(if errored {
        Outcome::Error
    } else if changed > 0 && !args.write && (!run.reads_stdin || args.check) {
        Outcome::Pending
    } else {
        Outcome::Clean
    })
}

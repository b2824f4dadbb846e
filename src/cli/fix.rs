//! `apimfix fix`: apply fixes; print a diff, or write files in place.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use apimfix::engine;
use apimfix::report::{FileError, FileReport, OutputFormat};
use apimfix::rules::Rule;

use super::args::FixArgs;
use super::check::write_statistics;
use super::{
    Outcome, Stream, color_for, eprint_reports, paint_diff, path_error_reports, plural,
    print_notes, report_of, report_options, write_findings,
};

pub fn run(args: &FixArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    if let Some(format) = args.output_format
        && !args.write
    {
        anyhow::bail!(
            "`--output-format {}` reports the findings left after `--write`; without \
             `--write`, `fix` prints the fixes as a diff. For the fixes as data, run \
             `apimfix check --output-format json` (each finding carries its fix and edits)",
            format_name(format)
        );
    }
    if args.files.show_settings {
        return super::check::show_settings(&args.files, out);
    }
    let options = engine::Options {
        unsafe_fixes: args.unsafe_fixes,
        format_after_fix: args.format,
        write: args.write,
        ..super::engine_options(&args.files)
    };
    let shown = super::progress::Shown::start(args.files.hushed());
    let mut run = engine::fix(super::engine_inputs(&args.files)?, &options, &shown)
        .map_err(super::run_error)?;
    super::leak_at_exit(std::mem::take(&mut run.listings));
    print_notes(&run, &args.files);
    super::warn_if_nothing_read(
        run.results.len(),
        run.reads_stdin,
        run.errors.len(),
        &args.files,
    );
    let color = color_for(Stream::Stdout);
    let mut changed = 0usize;
    let mut write_errors = 0usize;
    let mut report_unsafe = args.unsafe_fixes;
    let mut totals: BTreeMap<Rule, usize> = BTreeMap::new();
    let mut per_file: Vec<(String, BTreeMap<Rule, usize>)> = Vec::new();
    let mut reports: Vec<FileReport> = Vec::with_capacity(run.results.len());
    let mut results: Vec<apimfix::engine::FileResult> = Vec::with_capacity(run.results.len());
    for file in run.results.into_iter().flatten() {
        if let Some(output) = &file.output {
            if run.reads_stdin {
                out.write_all(output.as_bytes())?;
            } else {
                out.write_all(paint_diff(output, color).as_bytes())?;
            }
        }
        changed += usize::from(file.changed);
        write_errors += usize::from(file.write_failed);
        report_unsafe |= file.unsafe_config;
        for (rule, n) in &file.applied {
            *totals.entry(*rule).or_default() += n;
        }
        if !file.applied.is_empty() {
            per_file.push((file.result.display_path.clone(), file.applied.clone()));
        }
        results.push(file.result);
    }
    reports.extend(
        super::merge_host_members(results)
            .into_iter()
            .map(report_of),
    );
    // Paths that could not be read at all are file errors in every format, as in `check`.
    reports.extend(path_error_reports(&run.errors));
    let applied: usize = totals.values().sum();
    let remaining: usize = reports.iter().map(|r| r.diagnostics.len()).sum();
    let errored = !run.errors.is_empty() || reports.iter().any(|r| r.error.is_some());
    // With --write, stdout reports what remains (a diff run's stdout is the diff).
    if args.write && !run.reads_stdin && (args.output_format.is_some() || !args.files.hushed()) {
        let format = args.output_format.unwrap_or(OutputFormat::Text);
        write_findings(
            format,
            out,
            &reports,
            &report_options(Stream::Stdout, report_unsafe),
        )?;
    }
    if let Some(path) = &args.summary {
        write_markdown_summary(path, args.write, &totals, &reports, changed)?;
    }
    // Everything on stderr comes after stdout: the summary is the last thing printed.
    out.flush()?;
    if !args.files.silent {
        eprint_reports(reports.iter().filter(|r| r.error.is_some()));
    }
    if args.statistics && !args.files.silent {
        for (rule, n) in &totals {
            eprintln!("{n:>5}  {} fixed", rule.name());
        }
        let mut err = std::io::stderr();
        write_statistics(&mut err, reports.iter().flat_map(|r| &r.diagnostics))?;
    }
    if args.show_fixes && !args.files.silent && !per_file.is_empty() {
        let verb = if args.write { "Fixed" } else { "Would fix" };
        eprintln!("{verb} {applied} finding{}:", plural(applied));
        for (path, rules) in &per_file {
            eprintln!("- {path}:");
            for (rule, n) in rules {
                eprintln!("    {n} × {}", rule.name());
            }
        }
    }
    if !args.files.hushed() && !run.reads_stdin {
        let verb = if args.write { "Fixed" } else { "Would fix" };
        eprintln!(
            "{verb} {applied} finding{} in {changed} file{}; {remaining} finding{} remain{}{}",
            plural(applied),
            plural(changed),
            plural(remaining),
            if remaining == 1 { "s" } else { "" },
            {
                // Files that could not be read, parsed or written: as in `check`'s summary.
                let unread = reports.iter().filter(|r| r.error.is_some()).count() - write_errors;
                let mut not_done = String::new();
                if write_errors > 0 {
                    not_done.push_str(&format!(
                        "; {write_errors} file{} could not be written",
                        plural(write_errors)
                    ));
                }
                if unread > 0 {
                    not_done.push_str(&format!("; {unread} file{} with errors", plural(unread)));
                }
                not_done
            }
        );
        if !args.write && changed > 0 {
            let unsafe_flag = if args.unsafe_fixes {
                " --unsafe-fixes"
            } else {
                ""
            };
            eprintln!("Apply them with `apimfix fix --write{unsafe_flag}`");
        }
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

fn format_name(format: OutputFormat) -> &'static str {
    match format {
        OutputFormat::Text => "text",
        OutputFormat::Json => "json",
        OutputFormat::Sarif => "sarif",
        OutputFormat::Github => "github",
        OutputFormat::Rdjson => "rdjson",
    }
}

/// `--summary FILE`: the run in Markdown, for a tracking issue: fixes and remaining findings
/// per rule, then the files with errors (which were left as they were).
fn write_markdown_summary(
    path: &Path,
    write: bool,
    fixed: &BTreeMap<Rule, usize>,
    reports: &[FileReport],
    changed: usize,
) -> anyhow::Result<()> {
    let mut remaining: BTreeMap<Rule, usize> = BTreeMap::new();
    for d in reports.iter().flat_map(|r| &r.diagnostics) {
        *remaining.entry(d.rule).or_default() += 1;
    }
    let applied: usize = fixed.values().sum();
    let left: usize = remaining.values().sum();
    let errors: Vec<&FileReport> = reports.iter().filter(|r| r.error.is_some()).collect();
    let mut md = String::new();
    md.push_str("### apimfix\n\n");
    md.push_str(&format!(
        "{} {applied} finding{} in {changed} file{}; {left} finding{} remain{}; {} file{} with errors.\n\n",
        if write { "Fixed" } else { "Would fix" },
        plural(applied),
        plural(changed),
        plural(left),
        if left == 1 { "s" } else { "" },
        errors.len(),
        plural(errors.len()),
    ));
    let rules: std::collections::BTreeSet<Rule> =
        fixed.keys().chain(remaining.keys()).copied().collect();
    if !rules.is_empty() {
        md.push_str("| rule | fixed | remaining |\n| --- | ---: | ---: |\n");
        for rule in rules {
            md.push_str(&format!(
                "| `{}` | {} | {} |\n",
                rule.name(),
                fixed.get(&rule).copied().unwrap_or(0),
                remaining.get(&rule).copied().unwrap_or(0)
            ));
        }
        md.push('\n');
    }
    if !errors.is_empty() {
        md.push_str("Files with errors (not changed):\n\n");
        for report in errors {
            let mut place = report.display_path.clone();
            let message = match &report.error {
                Some(FileError::Syntax(e)) => {
                    let at = report.position(report.clamp(e.range).start());
                    place = format!("{place}:{}:{}", at.line, at.column);
                    format!("syntax error: {}", e.message)
                }
                Some(FileError::Io(e)) => e.to_string(),
                Some(FileError::Other(m)) => m.clone(),
                Some(FileError::Internal(m)) => format!("internal error: {m}"),
                None => String::new(),
            };
            md.push_str(&format!("- `{place}`: {}\n", message.replace('\n', " ")));
        }
    }
    std::fs::write(path, md)
        .map_err(|e| anyhow::anyhow!("cannot write the summary to {}: {e}", path.display()))
}

//! `apimfix check`: report findings.

use std::collections::BTreeMap;
use std::io::Write;

use apimfix::diagnostic::Diagnostic;
use apimfix::engine;
use apimfix::report::{FileReport, OutputFormat, text::write_summary_counting};
use apimfix::rules::Rule;
use rayon::prelude::*;

use super::args::{CheckArgs, FileArgs, FixArgs};
use super::{
    Outcome, Stream, eprint_reports, path_error_reports, print_notes, report_of, report_options,
    write_findings,
};

pub fn run(args: &CheckArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    // `check --fix` and `check --diff`, as ruff users type them: `fix --write` and `fix`.
    if args.fix || args.diff {
        let fix_args = FixArgs {
            files: args.files.clone(),
            write: args.fix,
            diff: args.diff,
            format: args.format,
            unsafe_fixes: args.unsafe_fixes,
            output_format: (args.output_format != OutputFormat::Text || args.fix)
                .then_some(args.output_format),
            exit_zero: args.exit_zero,
            statistics: args.statistics,
            show_fixes: args.show_fixes,
            summary: None,
        };
        return super::fix::run(&fix_args, out);
    }
    if args.files.show_settings {
        return show_settings(&args.files, out);
    }
    let options = super::engine_options(&args.files);
    let shown = super::progress::Shown::start(args.files.hushed());
    let mut run = engine::check(super::engine_inputs(&args.files)?, &options, &shown)
        .map_err(super::run_error)?;
    super::warn_if_nothing_read(
        run.results.len(),
        run.reads_stdin,
        run.errors.len(),
        &args.files,
    );
    super::leak_at_exit(std::mem::take(&mut run.listings));
    print_notes(&run, &args.files);
    let unknown_scope = run.unknown_scope.len();
    let mut timings = super::progress::Timings::start();
    let results: Vec<_> = run.results.into_iter().flatten().map(|r| *r).collect();
    let mut reports: Vec<FileReport> = super::merge_host_members(results)
        .into_par_iter()
        .map(report_of)
        .collect();
    // A path that could not be read at all (missing, a link refused) is a file error too, so
    // the machine formats carry it, not only stderr.
    reports.extend(path_error_reports(&run.errors));
    let options = report_options(Stream::Stdout, args.unsafe_fixes);
    // File errors always go to stderr; the text report on stdout holds only findings, the
    // machine formats carry the errors too (their consumers read only stdout).
    if !args.files.silent {
        eprint_reports(reports.iter());
    }
    write_findings(args.output_format, out, &reports, &options)?;
    let text = args.output_format == OutputFormat::Text;
    // Statistics are for people: after a text report on stdout, else on stderr, so that a
    // machine format's stdout stays one document.
    if args.statistics && text {
        write_statistics(out, reports.iter().flat_map(|r| &r.diagnostics))?;
    } else if args.statistics && !args.files.silent {
        out.flush()?;
        write_statistics(
            &mut std::io::stderr(),
            reports.iter().flat_map(|r| &r.diagnostics),
        )?;
    }
    // The summary comes last, after the report and the statistics.
    if text && !args.files.hushed() {
        write_summary_counting(out, &reports, &options, unknown_scope)?;
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

/// `--show-settings`: the config that governs the first path (for a folder, a policy file in
/// it), with the command line's rule selection applied, as YAML.
pub fn show_settings(args: &FileArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    use apimfix::config::ConfigResolver;
    use apimfix::paths::absolute;
    let resolver = ConfigResolver::new(args.config.as_deref())
        .map_err(|e| super::run_error(engine::Error::Config(e)))?;
    let first = match (&args.stdin_filename, args.paths.first()) {
        (Some(name), _) => name.clone(),
        (None, Some(path)) if path.as_os_str() != "-" => path.clone(),
        _ => ".".into(),
    };
    let probe = if first.is_dir() {
        first.join("policy.xml")
    } else {
        first.clone()
    };
    let config = resolver
        .for_path(&absolute(&probe))
        .map_err(|e| super::run_error(engine::Error::Config(e)))?;
    let options = super::engine_options(args);
    let mut settings = config.config.clone();
    settings.rules = options.rules.apply(&settings.rules);
    writeln!(out, "# Settings for {}", first.display())?;
    match &config.source {
        Some(source) => writeln!(out, "# config file: {}", engine::display_path(source))?,
        None => writeln!(out, "# config file: none (the built-in defaults)")?,
    }
    writeln!(
        out,
        "# globs (exclude, per-file-ignores, scopes) are relative to: {}",
        config.base_dir.display()
    )?;
    if let Some(scope) = options.scope {
        writeln!(out, "# --scope: {scope}")?;
    }
    let enabled: Vec<&str> = Rule::ALL
        .iter()
        .filter(|r| r.is_enabled(&settings.rules))
        .map(|r| r.name())
        .collect();
    writeln!(out, "# rules on: {}", enabled.join(", "))?;
    out.write_all(yaml_serde::to_string(&settings)?.as_bytes())?;
    Ok(Outcome::Clean)
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

//! `apimfix fix`: apply fixes; print a diff, or write files in place.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use apimfix::diagnostic::Diagnostic;
use apimfix::fix::{FixMode, fix_until_stable};
use apimfix::report::{FileError, FileReport, OutputFormat, diff::unified_diff};
use apimfix::rules::{RepoFacts, Rule};
use apimfix::syntax::Document;
use apimfix::write::{WriteBatch, WriteError};
use rayon::prelude::*;

use super::args::FixArgs;
use super::check::write_statistics;
use super::findings::{clone_error, merge_repo_findings, rule_diagnostics_with};
use super::pipeline::{self, Access, Loaded, RepoModels, Unit, cross_scope};
use super::safety::verify;
use super::{
    Outcome, Stream, eprint_reports, path_error_reports, print_notes, report_options,
    write_findings,
};

/// What fixing one file gave.
struct FileFix {
    /// The fixed document, when the file parsed and fixing worked.
    fixed: Option<Arc<Document>>,
    applied: BTreeMap<Rule, usize>,
    error: Option<FileError>,
}

/// Fixes `start` (the file's document, or what an earlier round made of it) with `facts`.
fn fix_file(file: &Loaded, start: &Document, facts: &RepoFacts, args: &FixArgs) -> FileFix {
    let parsed = match &file.outcome {
        Ok(p) => p,
        Err(e) => {
            return FileFix {
                fixed: None,
                applied: BTreeMap::new(),
                error: Some(clone_error(e)),
            };
        }
    };
    let mode = if unsafe_fixes(file, args) {
        FixMode::IncludeUnsafe
    } else {
        FixMode::SafeOnly
    };
    let outcome = match fix_until_stable(start.clone(), mode, |doc| {
        rule_diagnostics_with(file, parsed, doc, facts)
    }) {
        Ok(o) => o,
        Err(e) => {
            return FileFix {
                fixed: None,
                applied: BTreeMap::new(),
                error: Some(FileError::Internal(e.to_string())),
            };
        }
    };
    // A fix whose result did not parse is an apimfix bug: the file is then not written at
    // all, and every dropped fix is named.
    if !outcome.dropped.is_empty() {
        let dropped: Vec<String> = outcome
            .dropped
            .iter()
            .map(|(rule, e)| format!("`{}` ({})", rule.name(), e.message))
            .collect();
        return FileFix {
            fixed: None,
            applied: BTreeMap::new(),
            error: Some(FileError::Internal(format!(
                "fixes whose result does not parse were dropped, so the file is left as it was: {}",
                dropped.join("; ")
            ))),
        };
    }
    let mut document = outcome.document;
    if args.format {
        let text = apimfix::format::format(&document, &file.config.config.format);
        if text != document.source() {
            match verify(&document, text) {
                Ok(doc) => document = doc,
                Err(e) => {
                    return FileFix {
                        fixed: None,
                        applied: outcome.applied,
                        error: Some(FileError::Internal(format!("formatting: {e}"))),
                    };
                }
            }
        }
    }
    if document.source() != parsed.doc.source() {
        if let Err(e) = verify(&parsed.doc, document.source().to_owned()) {
            return FileFix {
                fixed: None,
                applied: outcome.applied,
                error: Some(FileError::Internal(e)),
            };
        }
    }
    FileFix {
        fixed: Some(Arc::new(document)),
        applied: outcome.applied,
        error: None,
    }
}

/// `--unsafe-fixes`, or `unsafe-fixes: true` in the file's config.
fn unsafe_fixes(file: &Loaded, args: &FixArgs) -> bool {
    args.unsafe_fixes || file.config.config.unsafe_fixes
}

/// How many times fixing all files may change another file's facts (a new global `<cors>`
/// makes a product's `base-first` apply) before the run stops re-fixing.
const MAX_ROUNDS: usize = 3;

/// What fixing one file gave, with what the output stage needs of it.
struct FixedFile {
    report: FileReport,
    /// What stdout gets for this file: its diff, or for stdin the fixed text.
    output: Option<String>,
    changed: bool,
    write_failed: bool,
    /// The fixes that count: those of a file written (or that would be, for a diff) whose
    /// fixing did not fail.
    applied: BTreeMap<Rule, usize>,
    unsafe_config: bool,
}

impl FixedFile {
    /// Nothing to show or count: a clean file the fixes left alone. A bulk run keeps eight
    /// bytes for it.
    fn is_quiet(&self) -> bool {
        self.output.is_none()
            && !self.changed
            && !self.write_failed
            && !self.unsafe_config
            && self.applied.is_empty()
            && self.report.diagnostics.is_empty()
            && self.report.error.is_none()
    }
}

pub fn run(args: &FixArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let run = pipeline::run(
        &args.files,
        RepoModels::Build,
        Access::from_write(args.write),
        |unit| {
            fix_unit(unit, args)
                .into_iter()
                .map(|file| (!file.is_quiet()).then(|| Box::new(file)))
                .collect()
        },
    )
    .map_err(anyhow::Error::msg)?;
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
        reports.push(file.report);
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

/// Fixes the files of one unit: rounds until the repo's facts settle, then each file's
/// report, write or diff.
fn fix_unit(unit: &Unit<'_>, args: &FixArgs) -> Vec<FixedFile> {
    let files = &unit.files;
    // Rounds: fix every file with its repo facts, then recompute the facts from the fixed
    // documents; a fix in one file (a new global `<cors>`) can make a rule apply in another.
    let mut fixes: Vec<FileFix> = files
        .iter()
        .map(|f| FileFix {
            fixed: f.outcome.as_ref().ok().map(|p| Arc::clone(&p.doc)),
            applied: BTreeMap::new(),
            error: f.outcome.as_ref().err().map(clone_error),
        })
        .collect();
    let mut facts: Vec<RepoFacts> = files
        .iter()
        .map(|f| {
            f.outcome
                .as_ref()
                .map(|p| p.facts.clone())
                .unwrap_or_default()
        })
        .collect();
    let mut after;
    let mut round = 0;
    // Round 1 fixes every file; later rounds only those whose facts changed.
    let mut stale = vec![true; files.len()];
    loop {
        round += 1;
        let results: Vec<Option<FileFix>> = files
            .par_iter()
            .zip(fixes.par_iter())
            .zip(facts.par_iter())
            .zip(stale.par_iter())
            .map(|(((file, state), facts), stale)| {
                let doc = state.fixed.as_ref()?;
                if state.error.is_some() || !stale {
                    return None;
                }
                Some(fix_file(file, doc, facts, args))
            })
            .collect();
        for (state, result) in fixes.iter_mut().zip(results) {
            let Some(result) = result else { continue };
            for (rule, n) in result.applied {
                *state.applied.entry(rule).or_default() += n;
            }
            state.error = result.error;
            if result.fixed.is_some() || state.error.is_some() {
                state.fixed = result.fixed;
            }
        }
        let fixed_docs: Vec<(&Loaded, Arc<Document>)> = files
            .iter()
            .zip(&fixes)
            .filter_map(|(f, x)| x.fixed.as_ref().map(|d| (f, Arc::clone(d))))
            .collect();
        after = cross_scope(&fixed_docs, unit.folders);
        let new_facts: Vec<RepoFacts> = files
            .iter()
            .zip(&facts)
            .map(|(f, old)| {
                after
                    .facts
                    .get(&f.input.logical_path)
                    .cloned()
                    .unwrap_or_else(|| old.clone())
            })
            .collect();
        stale = new_facts
            .iter()
            .zip(&facts)
            .map(|(new, old)| new != old)
            .collect();
        facts = new_facts;
        if !stale.contains(&true) || round == MAX_ROUNDS {
            break;
        }
    }
    let repo_after = after.findings;
    // Written together: one sync for the unit, not one per file.
    let batch = WriteBatch::new();
    let mut done: Vec<FixedFile> = files
        .par_iter()
        .zip(fixes)
        .zip(facts)
        .map(|((file, fix), facts)| finish_file(unit, file, fix, &facts, &repo_after, args, &batch))
        .collect();
    for e in batch.commit() {
        let at = files
            .iter()
            .position(|f| f.input.path.as_deref() == Some(e.path()));
        if let Some(i) = at {
            not_written(&mut done[i], unit, &files[i], &e);
        }
    }
    done
}

/// One fixed file's report, and its write or diff.
fn finish_file<'a>(
    unit: &Unit<'_>,
    file: &'a Loaded,
    fix: FileFix,
    facts: &RepoFacts,
    repo_after: &BTreeMap<std::path::PathBuf, Vec<apimfix::repo::RepoFinding>>,
    args: &FixArgs,
    batch: &WriteBatch<'a>,
) -> FixedFile {
    let reads_stdin = file.input.path.is_none();
    let shown = if fix.error.is_some() {
        super::findings::text_of(file.original())
    } else {
        String::new()
    };
    let mut done = FixedFile {
        report: FileReport::new(
            file.input.display_path.clone(),
            file.input.path.clone(),
            shown,
        ),
        output: None,
        changed: false,
        write_failed: false,
        applied: if fix.error.is_none() {
            fix.applied
        } else {
            BTreeMap::new()
        },
        unsafe_config: file.config.config.unsafe_fixes,
    };
    done.report.error = fix.error.as_ref().map(clone_error);
    let (Some(doc), Ok(parsed)) = (&fix.fixed, &file.outcome) else {
        return done;
    };
    let mut remaining: Vec<Diagnostic> = rule_diagnostics_with(file, parsed, doc, facts);
    merge_repo_findings(file, doc, repo_after, &mut remaining);
    // As in `check`, only findings show source lines: a clean file's report keeps no copy.
    let shown = if remaining.is_empty() && fix.error.is_none() {
        String::new()
    } else {
        doc.source().to_owned()
    };
    done.report = FileReport {
        diagnostics: remaining,
        ..FileReport::new(
            file.input.display_path.clone(),
            file.input.path.clone(),
            shown,
        )
    };
    done.report.error = fix.error.as_ref().map(clone_error);
    let new_text = doc.source();
    if reads_stdin {
        done.output = Some(new_text.to_owned());
        return done;
    }
    if new_text == parsed.doc.source() {
        return done;
    }
    done.changed = true;
    if !args.write {
        done.output = Some(unified_diff(
            &file.input.display_path,
            parsed.doc.source(),
            new_text,
        ));
        return done;
    }
    if let Some(path) = &file.input.path
        && let Err(e) = batch.stage(path, new_text.as_bytes(), file.original())
    {
        not_written(&mut done, unit, file, &e);
    }
    done
}

/// Not written: nothing was fixed, and the file's findings remain.
fn not_written(done: &mut FixedFile, unit: &Unit<'_>, file: &Loaded, e: &WriteError) {
    let Ok(parsed) = &file.outcome else { return };
    done.write_failed = true;
    done.applied.clear();
    done.changed = false;
    done.report = FileReport {
        diagnostics: super::findings::file_diagnostics(file, parsed, &unit.repo_findings),
        ..FileReport::new(
            file.input.display_path.clone(),
            file.input.path.clone(),
            parsed.doc.source().to_owned(),
        )
    };
    done.report.error = Some(FileError::Io(std::io::Error::other(super::without_path(
        &e.to_string(),
        e.path(),
    ))));
}

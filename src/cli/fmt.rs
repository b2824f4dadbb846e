//! `apimfix fmt`: format files; print a diff, list them (`--check`) or write them.

use std::io::Write;

use apimfix::report::{FileError, FileReport, diff::unified_diff};
use apimfix::write::{WriteBatch, WriteError};
use rayon::prelude::*;

use super::args::FmtArgs;
use super::findings::clone_error;
use super::pipeline::{self, Access, Loaded, RepoModels};
use super::safety::verify;
use super::{Outcome, eprint_reports, print_notes, print_top_errors};

fn format_file(file: &Loaded) -> Result<Option<String>, FileError> {
    let parsed = file.outcome.as_ref().map_err(clone_error)?;
    let text = apimfix::format::format(&parsed.doc, &file.config.config.format);
    if text == parsed.doc.source() {
        return Ok(None);
    }
    verify(&parsed.doc, text.clone())
        .map_err(|e| FileError::Internal(format!("formatting: {e}")))?;
    Ok(Some(text))
}

/// What formatting one file gave, ready for the output stage: each file's diff, write or
/// listing is done in its unit, so no run holds the texts of every file it changes.
enum Formatted {
    Unchanged {
        /// For stdin: the text, echoed.
        output: Option<Vec<u8>>,
    },
    Changed {
        /// What stdout gets: the path (`--check`), the diff, or for stdin the new text.
        output: Option<Vec<u8>>,
    },
    Failed(Box<FileReport>),
}

fn format_one<'a>(file: &'a Loaded, args: &FmtArgs, batch: &WriteBatch<'a>) -> Formatted {
    let failed = |error: FileError, text: String| {
        let mut report = FileReport::new(
            file.input.display_path.clone(),
            file.input.path.clone(),
            text,
        );
        report.error = Some(error);
        Formatted::Failed(Box::new(report))
    };
    let old = file.original();
    let new_text = match format_file(file) {
        Ok(Some(text)) => text,
        Ok(None) => {
            let stdin = file.input.path.is_none() && !args.check;
            return Formatted::Unchanged {
                output: stdin.then(|| old.to_vec()),
            };
        }
        Err(e) => return failed(e, super::findings::text_of(old)),
    };
    let listed = || Some(format!("{}\n", file.input.display_path).into_bytes());
    let output = match &file.input.path {
        None if args.check => listed(),
        None => Some(new_text.into_bytes()),
        Some(_) if args.check => listed(),
        Some(path) if args.write => match batch.stage(path, new_text.as_bytes(), old) {
            Ok(()) => None,
            Err(e) => return not_written(file, &e),
        },
        Some(_) => {
            let old = super::findings::text_of(old);
            Some(unified_diff(&file.input.display_path, &old, &new_text).into_bytes())
        }
    };
    Formatted::Changed { output }
}

/// A file whose write was refused: its error, the file unchanged.
fn not_written(file: &Loaded, e: &WriteError) -> Formatted {
    let mut report = FileReport::new(
        file.input.display_path.clone(),
        file.input.path.clone(),
        super::findings::text_of(file.original()),
    );
    report.error = Some(FileError::Io(std::io::Error::other(super::without_path(
        &e.to_string(),
        e.path(),
    ))));
    Formatted::Failed(Box::new(report))
}

pub fn run(args: &FmtArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let run = pipeline::run(
        &args.files,
        RepoModels::Skip,
        Access::from_write(args.write),
        |unit| {
            // Written together: one sync for the unit, not one per file.
            let batch = WriteBatch::new();
            let mut done: Vec<Formatted> = unit
                .files
                .par_iter()
                .map(|file| format_one(file, args, &batch))
                .collect();
            for e in batch.commit() {
                let at = unit
                    .files
                    .iter()
                    .position(|f| f.input.path.as_deref() == Some(e.path()));
                if let Some(i) = at {
                    done[i] = not_written(&unit.files[i], &e);
                }
            }
            done
        },
    )
    .map_err(anyhow::Error::msg)?;
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
            Formatted::Changed { output } => {
                changed += 1;
                if let Some(output) = output {
                    out.write_all(&output)?;
                }
            }
            Formatted::Failed(report) => failed.push(*report),
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

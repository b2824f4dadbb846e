//! `apimfix fmt`: format files; print a diff, list them (`--check`) or write them.

use std::io::Write;
use std::path::PathBuf;

use apimfix::report::{FileError, FileReport, diff::unified_diff};
use apimfix::write::write_atomic;
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

/// What formatting one file gave, with what the output stage needs of the file.
struct Formatted {
    display_path: String,
    path: Option<PathBuf>,
    /// The new text, `None` when the file is formatted already.
    result: Result<Option<String>, FileError>,
    /// The bytes read, kept only when they are shown or compared: the file changes, failed,
    /// or is stdin.
    original: Vec<u8>,
}

pub fn run(args: &FmtArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let run = pipeline::run(
        &args.files,
        RepoModels::Skip,
        Access::from_write(args.write),
        |unit| {
            unit.files
                .par_iter()
                .map(|file| {
                    let result = format_file(file);
                    let keep = !matches!(result, Ok(None)) || file.input.path.is_none();
                    Formatted {
                        display_path: file.input.display_path.clone(),
                        path: file.input.path.clone(),
                        original: if keep {
                            file.original().to_vec()
                        } else {
                            Vec::new()
                        },
                        result,
                    }
                })
                .collect()
        },
    )
    .map_err(anyhow::Error::msg)?;
    print_notes(&run, &args.files);
    let mut changed = 0usize;
    let mut unchanged = 0usize;
    let mut failed: Vec<FileReport> = Vec::new();
    for file in run.results {
        let formatted = match file.result {
            Ok(f) => f,
            Err(e) => {
                let mut report = FileReport::new(
                    file.display_path,
                    file.path,
                    super::findings::text_of(&file.original),
                );
                report.error = Some(e);
                failed.push(report);
                continue;
            }
        };
        if run.reads_stdin && args.check {
            if formatted.is_some() {
                changed += 1;
                writeln!(out, "{}", file.display_path)?;
            }
            continue;
        }
        if run.reads_stdin {
            match &formatted {
                Some(text) => out.write_all(text.as_bytes())?,
                None => out.write_all(&file.original)?,
            }
            continue;
        }
        let Some(new_text) = formatted else {
            unchanged += 1;
            continue;
        };
        changed += 1;
        let old = super::findings::text_of(&file.original);
        if args.check {
            writeln!(out, "{}", file.display_path)?;
        } else if args.write {
            if let Some(path) = &file.path
                && let Err(e) = write_atomic(path, new_text.as_bytes(), &file.original)
            {
                changed -= 1;
                let mut report = FileReport::new(file.display_path.clone(), file.path.clone(), old);
                report.error = Some(FileError::Io(std::io::Error::other(super::without_path(
                    &e.to_string(),
                    path,
                ))));
                failed.push(report);
            }
        } else {
            out.write_all(unified_diff(&file.display_path, &old, &new_text).as_bytes())?;
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

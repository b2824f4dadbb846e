//! `apimfix fmt`: format files; print a diff, list them (`--check`) or write them.

use std::io::Write;

use apimfix::report::{FileError, FileReport, diff::unified_diff};
use apimfix::write::write_atomic;
use rayon::prelude::*;

use super::args::FmtArgs;
use super::findings::clone_error;
use super::pipeline::{Access, Loaded, RepoModels, load};
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

pub fn run(args: &FmtArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let ws = load(
        &args.files,
        RepoModels::Skip,
        Access::from_write(args.write),
    )
    .map_err(anyhow::Error::msg)?;
    print_notes(&ws, &args.files);
    let results: Vec<Result<Option<String>, FileError>> =
        ws.files.par_iter().map(format_file).collect();
    let mut changed = 0usize;
    let mut unchanged = 0usize;
    let mut failed: Vec<FileReport> = Vec::new();
    for (file, result) in ws.files.iter().zip(results) {
        let formatted = match result {
            Ok(f) => f,
            Err(e) => {
                let mut report = FileReport::new(
                    file.input.display_path.clone(),
                    file.input.path.clone(),
                    super::findings::text_of(file.original()),
                );
                report.error = Some(e);
                failed.push(report);
                continue;
            }
        };
        if ws.reads_stdin && args.check {
            if formatted.is_some() {
                changed += 1;
                writeln!(out, "{}", file.input.display_path)?;
            }
            continue;
        }
        if ws.reads_stdin {
            let text = formatted
                .as_deref()
                .unwrap_or_else(|| file.outcome.as_ref().map(|p| p.doc.source()).unwrap_or(""));
            out.write_all(text.as_bytes())?;
            continue;
        }
        let Some(new_text) = formatted else {
            unchanged += 1;
            continue;
        };
        changed += 1;
        let old = std::borrow::Cow::<str>::Owned(super::findings::text_of(file.original()));
        if args.check {
            writeln!(out, "{}", file.input.display_path)?;
        } else if args.write {
            if let Some(path) = &file.input.path
                && let Err(e) = write_atomic(path, new_text.as_bytes(), file.original())
            {
                changed -= 1;
                let mut report = FileReport::new(
                    file.input.display_path.clone(),
                    file.input.path.clone(),
                    old.into_owned(),
                );
                report.error = Some(FileError::Io(std::io::Error::other(super::without_path(
                    &e.to_string(),
                    path,
                ))));
                failed.push(report);
            }
        } else {
            out.write_all(unified_diff(&file.input.display_path, &old, &new_text).as_bytes())?;
        }
    }
    eprint_reports(failed.iter());
    print_top_errors(&ws.errors);
    if !args.files.quiet && !ws.reads_stdin {
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
    let errored = !ws.errors.is_empty() || !failed.is_empty();
    Ok(if errored {
        Outcome::Error
    } else if changed > 0 && !args.write && (!ws.reads_stdin || args.check) {
        Outcome::Pending
    } else {
        Outcome::Clean
    })
}

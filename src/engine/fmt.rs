//! `fmt`: formats each file, then writes it, lists it or makes its diff. Each file's diff,
//! write or listing is done in its unit, so no run holds the texts of every file it changes.

use rayon::prelude::*;

use crate::report::diff::unified_diff;
use crate::write::WriteBatch;

use super::error::FileError;
use super::findings::{clone_error, text_of};
use super::hosts;
use super::pipeline::{Loaded, Unit};
use super::safety::verify;
use super::{FileResult, Options};

/// What formatting one file gave.
#[derive(Debug)]
pub enum Formatted {
    /// Already formatted.
    Unchanged {
        /// For stdin (unless [`Options::list_only`]): the text, echoed.
        output: Option<Vec<u8>>,
    },
    /// Formatting changes it.
    Changed {
        /// As shown to the user, for a listing.
        display_path: String,
        /// Its diff, or for stdin the new text; `None` when written or only listed.
        output: Option<Vec<u8>>,
    },
    /// It could not be formatted (or written); the error says why.
    Failed(Box<FileResult>),
}

pub fn format_unit(unit: &Unit<'_>, options: &Options) -> Vec<Formatted> {
    // Written together: one sync for the unit, not one per file.
    let batch = WriteBatch::new();
    let mut done: Vec<Formatted> = unit
        .files
        .par_iter()
        .map(|file| match hosts::member_of(file) {
            // Formatted with the other policies of its host, below.
            Some(_) => Formatted::Unchanged { output: None },
            None => format_one(file, options, &batch),
        })
        .collect();
    format_hosts(unit, &mut done, options, &batch);
    for e in batch.commit() {
        let at = unit
            .files
            .iter()
            .position(|f| f.input.path.as_deref() == Some(e.path()));
        if let Some(i) = at {
            let file = &unit.files[i];
            done[i] = Formatted::Failed(Box::new(FileResult {
                display_path: file.input.display_path.clone(),
                path: file.input.path.clone(),
                source: text_of(file.original()).into(),
                diagnostics: Vec::new(),
                error: Some(FileError::Write(e)),
            }));
        }
    }
    done
}

/// The formatted text of `file`, `None` when it is formatted already.
fn format_file(file: &Loaded) -> Result<Option<String>, FileError> {
    let parsed = file.outcome.as_ref().map_err(clone_error)?;
    let text = crate::format::format(&parsed.doc, &file.config.config.format);
    if text == parsed.doc.source() {
        return Ok(None);
    }
    verify(&parsed.doc, text.clone())
        .map_err(|e| FileError::Internal(format!("formatting: {e}")))?;
    hosts::template_guard(file, parsed.doc.source(), &text)
        .map_err(|e| FileError::Internal(format!("formatting: {e}")))?;
    Ok(Some(text))
}

fn format_one<'a>(file: &'a Loaded, options: &Options, batch: &WriteBatch<'a>) -> Formatted {
    let failed = |error: FileError, source: String| {
        Formatted::Failed(Box::new(FileResult {
            display_path: file.input.display_path.clone(),
            path: file.input.path.clone(),
            source: source.into(),
            diagnostics: Vec::new(),
            error: Some(error),
        }))
    };
    let old = file.original();
    let new_text = match format_file(file) {
        Ok(Some(text)) => text,
        Ok(None) => {
            let stdin = file.input.path.is_none() && !options.list_only;
            return Formatted::Unchanged {
                output: stdin.then(|| old.to_vec()),
            };
        }
        Err(e) => return failed(e, text_of(old)),
    };
    let output = match &file.input.path {
        _ if options.list_only => None,
        None => Some(new_text.into_bytes()),
        Some(path) if options.write => match batch.stage(path, new_text.as_bytes(), old) {
            Ok(()) => None,
            Err(e) => return failed(FileError::Write(e), text_of(old)),
        },
        Some(_) => {
            let old = text_of(old);
            Some(unified_diff(&file.input.display_path, &old, &new_text).into_bytes())
        }
    };
    Formatted::Changed {
        display_path: file.input.display_path.clone(),
        output,
    }
}

/// `formatted` with the leading and trailing whitespace of `original`.
fn same_ends(original: &str, formatted: &str) -> String {
    let lead = &original[..original.len() - original.trim_start().len()];
    let trail = &original[original.trim_end().len()..];
    format!("{lead}{}{trail}", formatted.trim())
}

/// Formats the inline policies of each host and writes (lists, diffs) the host once. A
/// policy in a one-line quoted string is left as written: formatting would spread it over
/// `\n` escapes. A host that cannot be written back fails, each policy unchanged.
fn format_hosts<'a>(
    unit: &'a Unit<'_>,
    done: &mut [Formatted],
    options: &Options,
    batch: &WriteBatch<'a>,
) {
    let files = &unit.files;
    for (_, indices) in hosts::groups(files) {
        let mut texts: Vec<Option<String>> = Vec::new();
        for &i in &indices {
            let file = &files[i];
            let member = hosts::member_of(file).expect("grouped members");
            if !matches!(
                member.policy.literal,
                crate::host::Literal::TerraformHeredoc { .. }
                    | crate::host::Literal::BicepMultiline
            ) {
                texts.push(None);
                continue;
            }
            match format_file(file) {
                // The whitespace before the root and after its end is part of the deployed
                // value (a Bicep multi-line string ends where its text ends): kept as written.
                Ok(text) => texts.push(
                    text.map(|t| same_ends(&member.policy.text, &t))
                        .filter(|t| *t != member.policy.text),
                ),
                Err(e) => {
                    let result = FileResult {
                        display_path: file.input.display_path.clone(),
                        path: file.input.path.clone(),
                        source: text_of(file.original()).into(),
                        diagnostics: Vec::new(),
                        error: Some(e),
                    };
                    done[i] = Formatted::Failed(Box::new(hosts::shown(file, result)));
                    texts.push(None);
                }
            }
        }
        if texts.iter().all(Option::is_none) {
            continue;
        }
        let members: Vec<(&hosts::Member, Option<&str>)> = indices
            .iter()
            .zip(&texts)
            .map(|(&i, t)| {
                (
                    hosts::member_of(&files[i]).expect("grouped members"),
                    t.as_deref(),
                )
            })
            .collect();
        let first = indices[0];
        let file = &files[first];
        let member = members[0].0;
        let failed = |error: FileError| {
            Formatted::Failed(Box::new(FileResult {
                display_path: file.input.display_path.clone(),
                path: file.input.path.clone(),
                source: std::sync::Arc::clone(&member.source),
                diagnostics: Vec::new(),
                error: Some(error),
            }))
        };
        let assembled = match hosts::assemble(&members) {
            Ok(a) => a,
            Err(message) => {
                done[first] = failed(FileError::Internal(format!(
                    "formatting: the host was left unchanged: {message}"
                )));
                continue;
            }
        };
        let output = if options.list_only {
            None
        } else if options.write {
            match batch.stage(
                &assembled.host,
                assembled.new.as_bytes(),
                member.source.as_bytes(),
            ) {
                Ok(()) => None,
                Err(e) => {
                    done[first] = failed(FileError::Write(e));
                    continue;
                }
            }
        } else {
            Some(
                unified_diff(&file.input.display_path, &assembled.old, &assembled.new).into_bytes(),
            )
        };
        done[first] = Formatted::Changed {
            display_path: file.input.display_path.clone(),
            output,
        };
    }
}

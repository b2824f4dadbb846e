//! One document as an editor holds it: `check`, `fix` and `fmt` of a text that stands at a
//! path of the disk, unsaved. The text replaces the file at that path; the rest of its APIOps
//! repo (policy files, folders, product membership) is read from disk, so the findings are
//! those `apimfix check <path>` would give if the text were saved.
//!
//! The same pipeline as the bulk commands reads it (config resolution, scope, parse, repo
//! model, rules); only the source of the bytes differs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::ConfigResolver;
use crate::folders::Disk;
use crate::layout::locate;
use crate::paths::{display_path, file_identity};
use crate::rules::RepoFinding;
use crate::syntax::Limits;

use super::error::{Error, PathError};
use super::findings::{check_unit, result_for};
use super::fix::{FixedFile, fix_unit};
use super::fmt::{Formatted, format_unit};
use super::pipeline::{Input, Loaded, Reader, Unit, attach_repo_facts};
use super::{FileResult, Options};

/// What a document gave.
#[derive(Debug)]
pub enum DocumentOutcome<T> {
    /// Not apimfix's business: XML that is not a policy (a pom, a config), or a file the
    /// config's `exclude` leaves out (with [`Options::force_exclude`]).
    Skipped,
    /// The command's result for the document.
    Done(T),
}

/// `check` of one document: its findings (or why it could not be checked), and what the
/// repo model could not take into account.
#[derive(Debug)]
pub struct CheckedDocument {
    pub result: FileResult,
    /// Errors of the repo the document belongs to (bad product metadata, a repo that
    /// could not be read).
    pub errors: Vec<PathError>,
}

/// A document read and modelled, ready for a command.
struct Prepared {
    file: Loaded,
    repo_findings: BTreeMap<PathBuf, Vec<RepoFinding>>,
    errors: Vec<PathError>,
}

impl Prepared {
    fn unit(self) -> (Unit<'static>, Vec<PathError>) {
        static DISK: Disk = Disk;
        (
            Unit {
                files: vec![self.file],
                repo_findings: self.repo_findings,
                folders: &DISK,
            },
            self.errors,
        )
    }
}

/// Reads `text` as the file at `path`: its config, its scope, its parse and, with `model`,
/// the facts and cross-scope findings of its repo.
fn prepare(
    path: &Path,
    text: &str,
    options: &Options,
    model: bool,
) -> Result<Option<Prepared>, Error> {
    let resolver = ConfigResolver::new(options.config.as_deref()).map_err(Error::Config)?;
    let logical_path = file_identity(path);
    let location = locate(&logical_path);
    let reader = Reader {
        options,
        resolver: &resolver,
        limits: Limits::default(),
        stdin_bytes: Some(text.as_bytes().to_vec()),
        overridden: std::sync::Mutex::default(),
        not_policies: std::sync::Mutex::default(),
    };
    // Read like stdin (no write-back path), placed at `path`; not explicit, so that XML
    // which is not a policy is skipped rather than reported.
    let input = Input {
        display_path: display_path(path),
        path: None,
        logical_path: logical_path.clone(),
        explicit: false,
        config: None,
        override_source: None,
        iac: None,
        host_error: None,
    };
    let Some(mut file) = reader.read(input, location.clone()) else {
        return Ok(None);
    };
    if options.force_exclude && file.config.is_excluded(&logical_path) {
        return Ok(None);
    }
    let mut errors = Vec::new();
    let mut repo_findings = BTreeMap::new();
    if file.outcome.is_ok() {
        // Stdin has no repo (its siblings on disk are not what is being edited); this text
        // is the file at `path`, so its repo is the one on disk around it.
        file.repo_root = location.artifacts_root.clone();
        if model {
            let mut warnings = Vec::new();
            let mut files = [file];
            repo_findings = attach_repo_facts(&mut files, &Disk, &mut errors, &mut warnings);
            let [only] = files;
            file = only;
        }
    }
    Ok(Some(Prepared {
        file,
        repo_findings,
        errors,
    }))
}

/// `check` of `text` as the file at `path`.
pub fn check_document(
    path: &Path,
    text: &str,
    options: &Options,
) -> Result<DocumentOutcome<CheckedDocument>, Error> {
    let Some(prepared) = prepare(path, text, options, true)? else {
        return Ok(DocumentOutcome::Skipped);
    };
    let (unit, errors) = prepared.unit();
    let result = match check_unit(&unit).pop().flatten() {
        Some(result) => *result,
        // A clean document: no findings, no error.
        None => result_for(&unit.files[0], Vec::new()),
    };
    Ok(DocumentOutcome::Done(CheckedDocument { result, errors }))
}

/// `fix` of `text` as the file at `path`, with the repo's rounds as `apimfix fix` runs them.
/// The result's `output` is the fixed text (set even when nothing changed), `None` when the
/// document could not be fixed (its `result.error` says why). Nothing is written.
pub fn fix_document(
    path: &Path,
    text: &str,
    options: &Options,
) -> Result<DocumentOutcome<FixedFile>, Error> {
    let options = Options {
        write: false,
        ..options.clone()
    };
    let Some(prepared) = prepare(path, text, &options, true)? else {
        return Ok(DocumentOutcome::Skipped);
    };
    let (unit, _) = prepared.unit();
    let fixed = fix_unit(&unit, &options)
        .pop()
        .expect("one result per file of a unit");
    Ok(DocumentOutcome::Done(fixed))
}

/// `fmt` of `text` as the file at `path` (its config's `format` section applies). The
/// output of [`Formatted::Changed`] and [`Formatted::Unchanged`] is the formatted text.
pub fn format_document(
    path: &Path,
    text: &str,
    options: &Options,
) -> Result<DocumentOutcome<Formatted>, Error> {
    let options = Options {
        write: false,
        list_only: false,
        ..options.clone()
    };
    let Some(prepared) = prepare(path, text, &options, false)? else {
        return Ok(DocumentOutcome::Skipped);
    };
    let (unit, _) = prepared.unit();
    let formatted = format_unit(&unit, &options)
        .pop()
        .expect("one result per file of a unit");
    Ok(DocumentOutcome::Done(formatted))
}

//! Per-file findings: the file's own rules plus the repo's cross-scope findings for it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use rayon::prelude::*;

use crate::diagnostic::Diagnostic;
use crate::repo::RepoFacts;
use crate::rules::RepoFinding;
use crate::syntax::Document;

use super::FileResult;
use super::analyse;
use super::error::FileError;
use super::pipeline::{Loaded, Parsed, Unit};

/// `check` on one unit: each file's findings, `None` for a clean file (no format shows it: a
/// bulk run keeps eight bytes for it).
pub fn check_unit(unit: &Unit<'_>) -> Vec<Option<Box<FileResult>>> {
    unit.files
        .par_iter()
        .map(|file| {
            let mut diagnostics = match &file.outcome {
                Ok(parsed) => file_diagnostics(file, parsed, &unit.repo_findings),
                Err(_) => Vec::new(),
            };
            if let Some(o) = &file.input.override_source {
                for d in &mut diagnostics {
                    // Report only: a fix cannot be written into the YAML file.
                    d.fix = None;
                    d.message.push_str(&format!(
                        " (environment `{}`: the override of `{}`)",
                        o.environment, o.label
                    ));
                }
            }
            let shown = !diagnostics.is_empty() || file.outcome.is_err();
            shown.then(|| Box::new(super::hosts::shown(file, result_for(file, diagnostics))))
        })
        .collect()
}

/// The findings of the per-file rules on `doc`, less per-file ignores from the config.
pub fn rule_diagnostics(file: &Loaded, parsed: &Parsed, doc: &Document) -> Vec<Diagnostic> {
    rule_diagnostics_with(file, parsed, doc, &parsed.facts)
}

/// [`rule_diagnostics`] with other repo facts (those of fixed documents).
pub fn rule_diagnostics_with(
    file: &Loaded,
    parsed: &Parsed,
    doc: &Document,
    facts: &RepoFacts,
) -> Vec<Diagnostic> {
    let mut diagnostics = analyse::file_findings(
        doc,
        parsed.scope,
        &file.config,
        facts,
        &file.input.logical_path,
    );
    if let Some(repo) = &parsed.repo {
        analyse::keep_proven_fixes(repo, &file.input.logical_path, doc, &mut diagnostics);
    }
    diagnostics
}

/// Per-file findings plus the repo's cross-scope findings pointing into this file. The two
/// never name one root cause twice: each rule's cross-scope check reports only what its
/// per-file check cannot see (see `rules::cross_scope`).
pub fn file_diagnostics(
    file: &Loaded,
    parsed: &Parsed,
    repo: &BTreeMap<PathBuf, Vec<RepoFinding>>,
) -> Vec<Diagnostic> {
    let mut diagnostics = rule_diagnostics(file, parsed, &parsed.doc);
    merge_repo_findings(file, &parsed.doc, repo, &mut diagnostics);
    diagnostics
}

pub fn merge_repo_findings(
    file: &Loaded,
    doc: &Document,
    repo: &BTreeMap<PathBuf, Vec<RepoFinding>>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let Some(found) = repo.get(&file.input.logical_path) else {
        return;
    };
    let mut extra: Vec<Diagnostic> = found
        .iter()
        .map(|f| f.diagnostic.clone())
        .filter(|d| analyse::keeps_repo_finding(d, &file.config, &file.input.logical_path))
        .collect();
    if let Some(root) = &file.repo_root {
        for d in &mut extra {
            d.message = paths_as_shown(&d.message, root);
        }
    }
    analyse::drop_silenced(doc, &mut extra);
    diagnostics.extend(extra);
    diagnostics.sort_by_key(|d| (d.range.start(), d.rule));
}

/// `message` with each `(path:line)` relative to the repo `root` (how the repo model names
/// files) shown as the reports show paths: relative to the working directory. Run from a
/// subfolder, a report would otherwise mix both.
pub fn paths_as_shown(message: &str, root: &std::path::Path) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(open) = rest.find('(') {
        out.push_str(&rest[..=open]);
        rest = &rest[open + 1..];
        let Some(close) = rest.find(')') else { break };
        let inner = &rest[..close];
        let (path, line) = inner.rsplit_once(':').unwrap_or((inner, ""));
        let is_place = line.chars().all(|c| c.is_ascii_digit()) && path.ends_with(".xml");
        if is_place && !path.starts_with('/') && root.join(path).is_file() {
            out.push_str(&super::display_path(&lexically_normal(&root.join(path))));
            if !line.is_empty() {
                out.push(':');
                out.push_str(line);
            }
            rest = &rest[close..];
        }
    }
    out.push_str(rest);
    out
}

/// `path` with `.` and `name/..` pairs removed, without asking the file system.
fn lexically_normal(path: &std::path::Path) -> std::path::PathBuf {
    use std::path::Component;
    let mut out = std::path::PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The result of one file; the source is the text the diagnostics point into.
pub fn result_for(file: &Loaded, diagnostics: Vec<Diagnostic>) -> FileResult {
    let source = match &file.outcome {
        // Only findings show source lines: a clean file's report needs no copy of it, which
        // keeps a bulk run's memory to the documents themselves.
        Ok(_) if diagnostics.is_empty() => String::new(),
        Ok(parsed) => parsed.doc.source().to_owned(),
        Err(_) => text_of(file.original()),
    };
    FileResult {
        display_path: file.input.display_path.clone(),
        path: file.input.path.clone(),
        source: source.into(),
        diagnostics,
        error: file.outcome.as_ref().err().map(clone_error),
    }
}

/// A copy of a read error: the errors a file keeps are reported once, but a file's error is
/// both kept (it stops its fixes) and reported.
pub fn clone_error(e: &FileError) -> FileError {
    match e {
        FileError::Read(io) => FileError::Read(std::io::Error::new(io.kind(), io.to_string())),
        FileError::Syntax(s) => FileError::Syntax(s.clone()),
        FileError::Config(c) => FileError::Config(c.clone()),
        FileError::Internal(m) => FileError::Internal(m.clone()),
        FileError::RepoModel(m) => FileError::RepoModel(m.clone()),
        // Never held by a loaded file; copied as what they say.
        FileError::Write(_) | FileError::Discover(_) => FileError::Internal(e.to_string()),
    }
}

/// The text of bytes that may not be UTF-8, for showing errors: each invalid byte becomes
/// one `?`, so byte offsets into the file stay offsets into the text.
pub fn text_of(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        out.extend(std::iter::repeat_n('?', chunk.invalid().len()));
    }
    out
}

//! Per-file findings: the file's own rules plus the repo's cross-scope findings for it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use apimfix::diagnostic::Diagnostic;
use apimfix::report::{FileError, FileReport};
use apimfix::rules::RepoFinding;
use apimfix::rules::{Context, drop_suppressed};
use apimfix::syntax::Document;

use super::pipeline::{Loaded, Parsed};

/// The findings of the per-file rules on `doc`, less per-file ignores from the config.
pub fn rule_diagnostics(file: &Loaded, parsed: &Parsed, doc: &Document) -> Vec<Diagnostic> {
    rule_diagnostics_with(file, parsed, doc, &parsed.facts)
}

/// [`rule_diagnostics`] with other repo facts (those of fixed documents).
pub fn rule_diagnostics_with(
    file: &Loaded,
    parsed: &Parsed,
    doc: &Document,
    facts: &apimfix::repo::RepoFacts,
) -> Vec<Diagnostic> {
    let config = &file.config;
    let ctx = Context::new(doc, parsed.scope, &config.config.rules, facts);
    let mut diagnostics = apimfix::rules::check(&ctx);
    diagnostics.retain(|d| !config.is_rule_ignored(&file.input.logical_path, d.rule));
    diagnostics
}

/// Per-file findings plus the repo's cross-scope findings pointing into this file, without
/// duplicates (a cross-scope finding the file's own rule already reports is dropped).
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
    let rules = &file.config.config.rules;
    let mut extra: Vec<Diagnostic> = found
        .iter()
        .map(|f| f.diagnostic.clone())
        .filter(|d| {
            d.rule.is_enabled(rules)
                && !file
                    .config
                    .is_rule_ignored(&file.input.logical_path, d.rule)
        })
        .collect();
    drop_suppressed(doc, &mut extra);
    diagnostics.extend(extra);
    diagnostics.sort_by_key(|d| (d.range.start(), d.rule));
}

/// The report of one file; the source is the text the diagnostics point into.
pub fn report_for(file: &Loaded, diagnostics: Vec<Diagnostic>) -> FileReport {
    let source = match &file.outcome {
        // Only findings show source lines: a clean file's report needs no copy of it, which
        // keeps a bulk run's memory to the documents themselves.
        Ok(_) if diagnostics.is_empty() => String::new(),
        Ok(parsed) => parsed.doc.source().to_owned(),
        Err(_) => text_of(file.original()),
    };
    let mut report = FileReport::new(
        file.input.display_path.clone(),
        file.input.path.clone(),
        source,
    );
    report.diagnostics = diagnostics;
    report.error = match &file.outcome {
        Ok(_) => None,
        Err(e) => Some(clone_error(e)),
    };
    report
}

pub fn clone_error(e: &FileError) -> FileError {
    match e {
        FileError::Io(io) => FileError::Io(std::io::Error::new(io.kind(), io.to_string())),
        FileError::Syntax(s) => FileError::Syntax(s.clone()),
        FileError::Internal(m) => FileError::Internal(m.clone()),
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

//! `fix`: fixes each file in rounds until its repo's facts settle, then writes it or makes
//! its diff.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;

use crate::diagnostic::Diagnostic;
use crate::repo::RepoFacts;
use crate::report::diff::unified_diff;
use crate::rules::RepoFinding;
use crate::rules::Rule;
use crate::rules::{BrokenFix, FixMode};
use crate::syntax::Document;
use crate::write::{WriteBatch, WriteError};

use super::analyse;
use super::error::FileError;
use super::findings::{clone_error, merge_repo_findings, rule_diagnostics_with, text_of};
use super::hosts;
use super::pipeline::{Loaded, Unit, cross_scope};
use super::safety::verify;
use super::{FileResult, Options};

/// What fixing one file gave.
struct FileFix {
    /// The fixed document, when the file parsed and fixing worked.
    fixed: Option<Arc<Document>>,
    applied: BTreeMap<Rule, usize>,
    error: Option<FileError>,
}

/// Fixes `start` (the file's document, or what an earlier round made of it) with `facts`.
fn fix_file(file: &Loaded, start: &Document, facts: &RepoFacts, options: &Options) -> FileFix {
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
    let mode = if unsafe_fixes(file, options) {
        FixMode::IncludeUnsafe
    } else {
        FixMode::SafeOnly
    };
    let outcome = match analyse::fix(start.clone(), mode, |doc| {
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
            .map(|(rule, e)| match e {
                // Worded as before this error was typed: what users and tests look for.
                BrokenFix::Syntax(e) => format!("`{}` ({})", rule.name(), e.message),
                BrokenFix::Overlap => format!("`{}` ({e})", rule.name()),
            })
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
    // Only a file the fixes changed is formatted: `fix --format` is not `fmt`.
    if options.format_after_fix && document.source() != start.source() {
        let text = crate::format::format(&document, &file.config.config.format);
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
    if let Err(e) = hosts::template_guard(file, parsed.doc.source(), document.source()) {
        return FileFix {
            fixed: None,
            applied: BTreeMap::new(),
            error: Some(FileError::Internal(e)),
        };
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

/// [`Options::unsafe_fixes`], or `unsafe-fixes: true` in the file's config.
fn unsafe_fixes(file: &Loaded, options: &Options) -> bool {
    options.unsafe_fixes || file.config.config.unsafe_fixes
}

/// How many times fixing all files may change another file's facts (a new global `<cors>`
/// makes a product's `base-first` apply) before the run stops re-fixing.
const MAX_ROUNDS: usize = 3;

/// What fixing one file gave, with what the output stage needs of it.
#[derive(Debug)]
pub struct FixedFile {
    /// The findings that remain (in the fixed text, which is then the source), or the error.
    pub result: FileResult,
    /// What stdout gets for this file: its diff, or for stdin the fixed text. `None` when
    /// written or unchanged.
    pub output: Option<String>,
    /// Fixes changed the file (and it was written, with [`Options::write`]).
    pub changed: bool,
    /// The write failed: the file is as it was, its error says why.
    pub write_failed: bool,
    /// The fixes that count: those of a file written (or that would be, for a diff) whose
    /// fixing did not fail.
    pub applied: BTreeMap<Rule, usize>,
    /// The file's config asks for unsafe fixes.
    pub unsafe_config: bool,
}

impl FixedFile {
    /// Nothing to show or count: a clean file the fixes left alone. A bulk run keeps eight
    /// bytes for it.
    pub(crate) fn is_quiet(&self) -> bool {
        self.output.is_none()
            && !self.changed
            && !self.write_failed
            && !self.unsafe_config
            && self.applied.is_empty()
            && self.result.diagnostics.is_empty()
            && self.result.error.is_none()
    }
}

/// Fixes the files of one unit: rounds until the repo's facts settle, then each file's
/// report, write or diff.
pub fn fix_unit(unit: &Unit<'_>, options: &Options) -> Vec<FixedFile> {
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
                Some(fix_file(file, doc, facts, options))
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
    // The fixed text of each inline policy of a host: written back by host, below.
    let member_texts: Vec<Option<Arc<Document>>> = files
        .iter()
        .zip(&fixes)
        .map(|(f, x)| hosts::member_of(f).and(x.fixed.clone()))
        .collect();
    // Written together: one sync for the unit, not one per file.
    let batch = WriteBatch::new();
    let mut done: Vec<FixedFile> = files
        .par_iter()
        .zip(fixes)
        .zip(facts)
        .map(|((file, fix), facts)| {
            finish_file(unit, file, fix, &facts, &repo_after, options, &batch)
        })
        .collect();
    write_hosts(unit, &mut done, &member_texts, options, &batch);
    for e in batch.commit() {
        let at = files
            .iter()
            .position(|f| f.input.path.as_deref() == Some(e.path()));
        if let Some(i) = at {
            not_written(&mut done[i], unit, &files[i], e);
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
    repo_after: &BTreeMap<PathBuf, Vec<RepoFinding>>,
    options: &Options,
    batch: &WriteBatch<'a>,
) -> FixedFile {
    let reads_stdin = file.input.path.is_none();
    let shown = if fix.error.is_some() {
        text_of(file.original())
    } else {
        String::new()
    };
    let mut done = FixedFile {
        result: FileResult {
            display_path: file.input.display_path.clone(),
            path: file.input.path.clone(),
            source: shown.into(),
            diagnostics: Vec::new(),
            error: None,
        },
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
    done.result.error = fix.error.as_ref().map(clone_error);
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
    done.result = FileResult {
        display_path: file.input.display_path.clone(),
        path: file.input.path.clone(),
        source: shown.into(),
        diagnostics: remaining,
        error: fix.error.as_ref().map(clone_error),
    };
    let new_text = doc.source();
    // An inline policy of a host: its host is written, or diffed, with its other policies.
    if hosts::member_of(file).is_some() {
        return done;
    }
    if reads_stdin {
        done.output = Some(new_text.to_owned());
        return done;
    }
    if new_text == parsed.doc.source() {
        return done;
    }
    done.changed = true;
    if !options.write {
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
        not_written(&mut done, unit, file, e);
    }
    done
}

/// Not written: nothing was fixed, and the file's findings remain.
fn not_written(done: &mut FixedFile, unit: &Unit<'_>, file: &Loaded, e: WriteError) {
    let Ok(parsed) = &file.outcome else { return };
    done.write_failed = true;
    done.applied.clear();
    done.changed = false;
    done.result = FileResult {
        display_path: file.input.display_path.clone(),
        path: file.input.path.clone(),
        source: parsed.doc.source().into(),
        diagnostics: super::findings::file_diagnostics(file, parsed, &unit.repo_findings),
        error: Some(FileError::Write(e)),
    };
}

/// Writes (or diffs) each host whose inline policies fixes changed, and shows the findings of
/// every inline policy in its host. A host that cannot be written back leaves all its
/// policies as they were, each with the error.
fn write_hosts<'a>(
    unit: &'a Unit<'_>,
    done: &mut [FixedFile],
    texts: &[Option<Arc<Document>>],
    options: &Options,
    batch: &WriteBatch<'a>,
) {
    let files = &unit.files;
    for (_, indices) in hosts::groups(files) {
        let members: Vec<(&hosts::Member, Option<&str>)> = indices
            .iter()
            .map(|&i| {
                let member = hosts::member_of(&files[i]).expect("grouped members");
                let text = texts[i]
                    .as_deref()
                    .filter(|_| done[i].result.error.is_none())
                    .map(Document::source);
                (member, text)
            })
            .collect();
        let changed = members
            .iter()
            .any(|(m, t)| t.is_some_and(|t| t != m.policy.text));
        if !changed {
            for &i in &indices {
                let result = std::mem::replace(&mut done[i].result, empty_result(&files[i]));
                done[i].result = hosts::shown(&files[i], result);
            }
            continue;
        }
        match hosts::assemble(&members) {
            Ok(assembled) => {
                let new_host: std::sync::Arc<str> = std::sync::Arc::from(assembled.new.as_str());
                for &i in &indices {
                    let member = hosts::member_of(&files[i]).expect("grouped members");
                    let result = std::mem::replace(&mut done[i].result, empty_result(&files[i]));
                    done[i].result =
                        hosts::in_host(result, &new_host, &assembled.policies[member.index]);
                    done[i].changed = false;
                    done[i].output = None;
                }
                let first = indices[0];
                done[first].changed = true;
                if !options.write {
                    done[first].output = Some(unified_diff(
                        &files[first].input.display_path,
                        &assembled.old,
                        &assembled.new,
                    ));
                    continue;
                }
                let original = hosts::member_of(&files[first])
                    .expect("grouped members")
                    .source
                    .as_bytes();
                if let Err(e) = batch.stage(&assembled.host, assembled.new.as_bytes(), original) {
                    // The error shows once, on the host's first policy; none of its
                    // policies was fixed.
                    not_written(&mut done[first], unit, &files[first], e);
                    for &i in &indices[1..] {
                        done[i].write_failed = true;
                        done[i].applied.clear();
                    }
                    for &i in &indices {
                        let result =
                            std::mem::replace(&mut done[i].result, empty_result(&files[i]));
                        done[i].result = hosts::shown(&files[i], result);
                    }
                }
            }
            Err(message) => {
                for &i in &indices {
                    let file = &files[i];
                    let Ok(parsed) = &file.outcome else { continue };
                    done[i].applied.clear();
                    done[i].changed = false;
                    done[i].output = None;
                    let result = FileResult {
                        display_path: file.input.display_path.clone(),
                        path: file.input.path.clone(),
                        source: parsed.doc.source().into(),
                        diagnostics: super::findings::file_diagnostics(
                            file,
                            parsed,
                            &unit.repo_findings,
                        ),
                        error: Some(FileError::Internal(format!(
                            "the host was left unchanged: {message}"
                        ))),
                    };
                    done[i].result = hosts::shown(file, result);
                }
            }
        }
    }
}

fn empty_result(file: &Loaded) -> FileResult {
    FileResult {
        display_path: file.input.display_path.clone(),
        path: file.input.path.clone(),
        source: "".into(),
        diagnostics: Vec::new(),
        error: None,
    }
}

//! Every call the engine makes into the rules, the repo model and the fixer, each in one small
//! function, so that a change of those APIs is ported here and nowhere else.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::LoadedConfig;
use crate::diagnostic::Diagnostic;
use crate::folders::Folders;
use crate::layout::Scope;
use crate::repo::{Repo, RepoError, RepoFacts};
use crate::rules::{Context, RepoFinding, drop_suppressed};
use crate::rules::{FixError, FixMode, FixOutcome, fix_until_stable};
use crate::syntax::Document;

/// The findings of the per-file rules on `doc` (the file at `path`, of `scope`, governed by
/// `config`, with its repo's `facts`), less the config's per-file ignores.
pub fn file_findings(
    doc: &Document,
    scope: Scope,
    config: &LoadedConfig,
    facts: &RepoFacts,
    path: &Path,
) -> Vec<Diagnostic> {
    let ctx = Context::new(doc, scope, &config.config.rules, facts);
    let mut diagnostics = crate::rules::check(&ctx);
    diagnostics.retain(|d| !config.is_rule_ignored(path, d.rule));
    diagnostics
}

/// The repo model of the APIOps repo at `root`, over the documents the run read; when
/// `root` is a resource-kit creator configuration (a YAML file), the repo it describes.
pub fn load_repo(
    root: &Path,
    docs: Vec<(PathBuf, Arc<Document>)>,
    folders: &dyn Folders,
    environment: Option<&str>,
) -> Result<Repo, RepoError> {
    if crate::repo::resource_kit::is_yaml_name(root) {
        return Repo::from_creator_config(root, docs);
    }
    let Some(environment) = environment else {
        return Repo::load_with(root, docs, folders);
    };
    let overrides: Vec<(PathBuf, Arc<Document>)> = docs
        .iter()
        .filter(|(path, _)| {
            path.to_string_lossy().contains(".yaml#") || path.to_string_lossy().contains(".yml#")
        })
        .cloned()
        .collect();
    let mut repo = Repo::load_with(root, docs, folders)?;
    repo.use_environment(environment, &overrides);
    Ok(repo)
}

/// The cross-scope findings of `repo`, judged with `config`.
pub fn repo_findings(repo: &Repo, config: &LoadedConfig) -> Vec<RepoFinding> {
    crate::rules::check_repo(repo, &config.config.rules)
}

/// What `repo` tells the rules about the file at `path`, governed by `config`.
pub fn facts(repo: &Repo, path: &Path, config: &LoadedConfig) -> RepoFacts {
    repo.facts_for(path, &config.config.rules.cors_first.options().gates())
}

/// Whether `config` reports a cross-scope finding in the file at `path`: its rule is on and
/// not ignored there.
pub fn keeps_repo_finding(d: &Diagnostic, config: &LoadedConfig, path: &Path) -> bool {
    d.rule.is_enabled(&config.config.rules) && !config.is_rule_ignored(path, d.rule)
}

/// Drops the findings that `doc`'s suppression comments silence.
pub fn drop_silenced(doc: &Document, diagnostics: &mut Vec<Diagnostic>) {
    drop_suppressed(doc, diagnostics);
}

/// Applies the fixes `check` finds on `doc` until none applies.
pub fn fix(
    doc: Document,
    mode: FixMode,
    check: impl FnMut(&Document) -> Vec<Diagnostic>,
) -> Result<FixOutcome, FixError> {
    fix_until_stable(doc, mode, check)
}

/// Drops the fixes of `diagnostics` (findings on `doc`, the file at `path` of `repo`) that fail
/// their semantic oracle ([`crate::rules::oracle`]): the finding stays, and says why it has no
/// fix.
pub fn keep_proven_fixes(repo: &Repo, path: &Path, doc: &Document, diagnostics: &mut [Diagnostic]) {
    for d in diagnostics.iter_mut() {
        let Some(fix) = &d.fix else { continue };
        if let Err(why) = crate::rules::oracle::verify(repo, path, doc, d.rule, fix) {
            d.fix = None;
            d.fix_title = None;
            d.message = format!(
                "{} (no fix: it would change more than the rule is about: {why})",
                d.message
            );
        }
    }
}

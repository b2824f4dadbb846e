//! The shared front half of every file command: find the files, read and parse them in
//! parallel, decide each one's scope, and build the repo models that give the rules their
//! cross-scope facts.
//!
//! Output order never depends on threads: files are sorted by path after discovery, and
//! every later step keeps that order.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use apimfix::config::{ConfigError, ConfigResolver, LoadedConfig};
use apimfix::discover::{
    DiscoverError, DiscoverOptions, ExplicitFilePolicy, SymlinkPolicy, discover,
};
use apimfix::folders::{Folders, Listings};
use apimfix::repo::{Repo, RepoError, RepoFinding};
use apimfix::report::FileError;
use apimfix::rules::RepoFacts;
use apimfix::scope::{Scope, ScopeSource, locate, resolve_scope};
use apimfix::syntax::{Document, Limits, SyntaxErrorKind, parse_bytes};
use rayon::prelude::*;

use super::args::FileArgs;

/// One input: a file on disk or stdin.
pub struct Input {
    /// As shown to the user: relative to the working directory, `/`-separated.
    pub display_path: String,
    /// Where to write it back; `None` for stdin.
    pub path: Option<PathBuf>,
    /// The path that decides scope and config (stdin: `--stdin-filename`).
    pub logical_path: PathBuf,
    /// Named on the command line (or stdin), not found by walking.
    pub explicit: bool,
    /// The config, when discovery already found it.
    config: Option<Arc<LoadedConfig>>,
}

/// An input after reading and parsing.
pub struct Loaded {
    pub input: Input,
    pub config: Arc<LoadedConfig>,
    /// The bytes read, when they did not parse (else [`Loaded::original`] is the
    /// document's source, which is the same bytes).
    original: Vec<u8>,
    pub outcome: Result<Parsed, FileError>,
    /// The APIOps artifacts root the file belongs to, when its path places it in one.
    pub repo_root: Option<PathBuf>,
}

impl Loaded {
    /// The bytes read, compared again before an in-place write.
    pub fn original(&self) -> &[u8] {
        match &self.outcome {
            Ok(parsed) => parsed.doc.source().as_bytes(),
            Err(_) => &self.original,
        }
    }
}

pub struct Parsed {
    /// Shared with the repo model, which holds every document of its repo.
    pub doc: Arc<Document>,
    pub scope: Scope,
    pub scope_source: ScopeSource,
    pub facts: RepoFacts,
}

/// Everything the front half learned.
pub struct Workspace {
    pub files: Vec<Loaded>,
    /// Errors not tied to a readable file (a missing path, a bad config): reported, exit 2.
    pub errors: Vec<(String, String)>,
    /// Cross-scope findings of every repo found, keyed by the file they point into.
    pub repo_findings: BTreeMap<PathBuf, Vec<RepoFinding>>,
    /// Notes for `-v`: skipped files and why.
    pub notes: Vec<String>,
    /// Said on stderr unless `-q`: what the run could not take into account.
    pub warnings: Vec<String>,
    pub reads_stdin: bool,
    /// The folders discovery listed, read again by nobody: the repo models use them.
    pub listings: Listings,
}

/// `path[:line:column]` of a config error, the path as shown to the user.
pub fn config_error_place(e: &ConfigError) -> String {
    match e.location() {
        Some(at) => format!("{}:{}:{}", display_path(e.path()), at.line, at.column),
        None => display_path(e.path()),
    }
}

pub fn display_path(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    let shown = cwd
        .as_deref()
        .and_then(|cwd| path.strip_prefix(cwd).ok())
        .unwrap_or(path);
    let s = shown.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_owned).unwrap_or(s)
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Whether a command needs the repo models: rules do (cross-scope facts and findings), the
/// formatter does not.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum RepoModels {
    Build,
    Skip,
}

/// Whether the run writes files: a symbolic link named on the command line is then refused
/// unless `--follow-symlinks` (writing through a link surprises people); reading through one,
/// as `apimfix check <(cat policy.xml)` does, is harmless.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Access {
    ReadOnly,
    Write,
}

impl Access {
    /// `--write` given or not.
    pub fn from_write(write: bool) -> Access {
        if write {
            Access::Write
        } else {
            Access::ReadOnly
        }
    }
}

pub fn load(args: &FileArgs, repo_models: RepoModels, access: Access) -> Result<Workspace, String> {
    let mut timings = super::progress::Timings::start();
    let resolver = ConfigResolver::new(args.config.as_deref())
        .map_err(|e| format!("{}: {}", config_error_place(&e), e.message()))?;
    let mut errors = Vec::new();
    let mut notes = Vec::new();
    let mut warnings = Vec::new();
    let reads_stdin = args.paths.iter().any(|p| p.as_os_str() == "-");
    let mut inputs = Vec::new();
    let mut stdin_bytes = None;
    let mut listings = Listings::default();
    if reads_stdin {
        if args.paths.len() > 1 {
            return Err("`-` (stdin) cannot be combined with other paths".to_owned());
        }
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| format!("stdin: {e}"))?;
        stdin_bytes = Some(bytes);
        let logical = args
            .stdin_filename
            .clone()
            .unwrap_or_else(|| PathBuf::from("-"));
        inputs.push(Input {
            display_path: args
                .stdin_filename
                .as_deref()
                .map_or_else(|| "-".to_owned(), display_path),
            path: None,
            logical_path: absolute(&logical),
            explicit: true,
            config: None,
        });
    } else {
        let options = DiscoverOptions {
            symlinks: if args.follow_symlinks || access == Access::ReadOnly {
                SymlinkPolicy::Follow
            } else {
                SymlinkPolicy::Refuse
            },
            explicit_files: if args.force_exclude {
                ExplicitFilePolicy::ApplyExclude
            } else {
                ExplicitFilePolicy::Include
            },
            ..DiscoverOptions::default()
        };
        let mut found = discover(&args.paths, &options, &resolver);
        listings = std::mem::take(&mut found.listings);
        for e in found.errors {
            errors.push(match &e {
                // A config error points into the config file, at its line and column.
                DiscoverError::Config(config) => (config_error_place(config), config.message()),
                other => match other.path() {
                    Some(path) => (
                        display_path(path),
                        super::without_path(&other.to_string(), path),
                    ),
                    None => (String::new(), other.to_string()),
                },
            });
        }
        for (path, reason) in found.skipped {
            notes.push(format!("{}: skipped: {reason}", display_path(&path)));
        }
        for f in found.files {
            inputs.push(Input {
                display_path: display_path(&f.path),
                logical_path: absolute(&f.path),
                path: Some(f.path),
                explicit: f.explicit,
                config: f.config,
            });
        }
    }

    timings.mark("discovery");
    let limits = Limits::default();
    let progress = super::progress::Progress::new(inputs.len(), "reading", args.quiet);
    let loaded: Vec<Option<Loaded>> = inputs
        .into_par_iter()
        .map(|mut input| {
            progress.tick();
            let known = input.config.take().map(Ok);
            let config = match known.unwrap_or_else(|| resolver.for_path(&input.logical_path)) {
                Ok(c) => c,
                Err(e) => {
                    let config = Arc::new(LoadedConfig::defaults(Path::new(".")));
                    return Some(Loaded {
                        input,
                        config,
                        original: Vec::new(),
                        repo_root: None,
                        outcome: Err(FileError::Io(std::io::Error::other(format!(
                            "its configuration is broken: {}: {}",
                            config_error_place(&e),
                            e.message()
                        )))),
                    });
                }
            };
            let bytes = match &input.path {
                None => Ok(stdin_bytes.clone().unwrap_or_default()),
                Some(p) => std::fs::read(p),
            };
            let bytes = match bytes {
                Ok(b) => b,
                Err(e) => {
                    return Some(Loaded {
                        input,
                        config,
                        original: Vec::new(),
                        repo_root: None,
                        outcome: Err(FileError::Io(e)),
                    });
                }
            };
            let mut repo_root = None;
            let outcome = match parse_bytes(bytes.clone(), &limits) {
                Ok(doc) => {
                    let location = locate(&input.logical_path);
                    if input.path.is_some() {
                        repo_root.clone_from(&location.artifacts_root);
                    }
                    let (scope, scope_source) = resolve_scope(
                        args.scope,
                        config.scope_for(&input.logical_path),
                        doc.root_kind(),
                        &location,
                    );
                    Ok(Parsed {
                        doc: Arc::new(doc),
                        scope,
                        scope_source,
                        facts: RepoFacts::default(),
                    })
                }
                // A walked `*.xml` that is not a policy (a pom, a config) is none of our business.
                Err(e) if e.kind == SyntaxErrorKind::NotAPolicy && !input.explicit => return None,
                Err(e) => Err(FileError::Syntax(e)),
            };
            // A parsed document's source is the file, byte for byte: keep one copy only.
            let original = if outcome.is_ok() { Vec::new() } else { bytes };
            Some(Loaded {
                input,
                config,
                original,
                outcome,
                repo_root,
            })
        })
        .collect();
    let mut files: Vec<Loaded> = loaded.into_iter().flatten().collect();
    files.sort_by(|a, b| a.input.display_path.cmp(&b.input.display_path));

    timings.mark("read and parse");
    let repo_findings = match repo_models {
        RepoModels::Build => attach_repo_facts(&mut files, &listings, &mut errors, &mut warnings),
        RepoModels::Skip => BTreeMap::new(),
    };
    timings.mark("repo models");
    Ok(Workspace {
        files,
        errors,
        repo_findings,
        notes,
        warnings,
        reads_stdin,
        listings,
    })
}

/// A repo model with the config of each of its files that the run handed over.
struct BuiltRepo {
    root: PathBuf,
    repo: Repo,
    configs: HashMap<PathBuf, Arc<LoadedConfig>>,
}

fn build_repos(
    entries: &[(&Loaded, Arc<Document>)],
    folders: &dyn Folders,
    errors: &mut Vec<(String, String)>,
    warnings: &mut Vec<String>,
) -> Vec<BuiltRepo> {
    // One pass to group files by their root: comparing every file with every root is
    // quadratic on a bulk run of hundreds of repos.
    let mut by_root: BTreeMap<&Path, Vec<&(&Loaded, Arc<Document>)>> = BTreeMap::new();
    for entry in entries {
        if let Some(root) = &entry.0.repo_root {
            by_root.entry(root.as_path()).or_default().push(entry);
        }
    }
    let built: Vec<Result<BuiltRepo, (String, String)>> = by_root
        .into_par_iter()
        .map(|(root, under)| {
            let configs = under
                .iter()
                .map(|(f, _)| (f.input.logical_path.clone(), f.config.clone()))
                .collect();
            let docs: Vec<(PathBuf, Arc<Document>)> = under
                .iter()
                .map(|(f, d)| (f.input.logical_path.clone(), Arc::clone(d)))
                .collect();
            Repo::load_with(root, docs, folders)
                .map(|repo| BuiltRepo {
                    root: root.to_path_buf(),
                    repo,
                    configs,
                })
                .map_err(|e| (display_path(root), format!("repo model: {e}")))
        })
        .collect();
    let mut repos = Vec::new();
    for result in built {
        match result {
            Ok(built) => {
                // What the model could not load (bad JSON metadata, a policy file the run did
                // not read itself) changes its answers: say so. Files the run read report
                // their own errors.
                for e in built.repo.errors() {
                    match e {
                        // Bad metadata loses product membership: an error, like a bad config.
                        RepoError::Json { path, .. } => {
                            errors.push((display_path(path), format!("repo model: {e}")))
                        }
                        // A policy file the run was not asked about: the model goes on
                        // without it, and says so.
                        RepoError::Io { path, .. } | RepoError::Syntax { path, .. }
                            if !built.configs.contains_key(path) =>
                        {
                            warnings.push(format!(
                                "warning: {}: the repo model leaves this file out: {e}",
                                display_path(path)
                            ));
                        }
                        _ => {}
                    }
                }
                repos.push(built);
            }
            Err(e) => errors.push(e),
        }
    }
    repos
}

/// The cross-scope findings of every repo, each judged with the config of the file it points
/// into: the repo is analysed once per distinct config among its files, and a finding is
/// kept for a file governed by that config.
fn findings_of(repos: &[BuiltRepo]) -> BTreeMap<PathBuf, Vec<RepoFinding>> {
    let per_repo: Vec<Vec<(PathBuf, RepoFinding)>> = repos
        .par_iter()
        .map(|built| {
            let mut distinct: Vec<&Arc<LoadedConfig>> = Vec::new();
            for config in built.configs.values() {
                if !distinct.iter().any(|d| Arc::ptr_eq(d, config)) {
                    distinct.push(config);
                }
            }
            let mut kept = Vec::new();
            for config in distinct {
                let rules = &config.config.rules;
                for finding in built
                    .repo
                    .findings(&rules.cors_first.options(), &rules.cors_origins.options())
                {
                    let path = absolute(&finding.path);
                    if built
                        .configs
                        .get(&path)
                        .is_some_and(|c| Arc::ptr_eq(c, config))
                    {
                        kept.push((path, finding));
                    }
                }
            }
            kept
        })
        .collect();
    let mut findings: BTreeMap<PathBuf, Vec<RepoFinding>> = BTreeMap::new();
    for (path, finding) in per_repo.into_iter().flatten() {
        findings.entry(path).or_default().push(finding);
    }
    findings
}

/// The cross-scope findings of the repos that `entries` form (used on fixed documents).
/// What the repos that `entries` form (each file with its current, e.g. fixed, document)
/// say: the cross-scope findings, and each file's facts, keyed by its logical path.
pub struct CrossScope {
    pub findings: BTreeMap<PathBuf, Vec<RepoFinding>>,
    pub facts: HashMap<PathBuf, RepoFacts>,
}

pub fn cross_scope(entries: &[(&Loaded, Arc<Document>)], folders: &dyn Folders) -> CrossScope {
    let (mut errors, mut warnings) = (Vec::new(), Vec::new());
    let repos = build_repos(entries, folders, &mut errors, &mut warnings);
    let index: HashMap<&Path, &Repo> = repos
        .iter()
        .map(|built| (built.root.as_path(), &built.repo))
        .collect();
    let facts = entries
        .par_iter()
        .filter_map(|(file, _)| {
            let repo = file.repo_root.as_deref().and_then(|root| index.get(root))?;
            let gates = file.config.config.rules.cors_first.options();
            Some((
                file.input.logical_path.clone(),
                repo.facts_for(&file.input.logical_path, &gates),
            ))
        })
        .collect();
    CrossScope {
        findings: findings_of(&repos),
        facts,
    }
}

/// Gives each file the facts of its repo, and collects the cross-scope findings.
fn attach_repo_facts(
    files: &mut [Loaded],
    folders: &dyn Folders,
    errors: &mut Vec<(String, String)>,
    warnings: &mut Vec<String>,
) -> BTreeMap<PathBuf, Vec<RepoFinding>> {
    let entries: Vec<(&Loaded, Arc<Document>)> = files
        .iter()
        .filter_map(|f| f.outcome.as_ref().ok().map(|p| (f, Arc::clone(&p.doc))))
        .collect();
    let repos = build_repos(&entries, folders, errors, warnings);
    let findings = findings_of(&repos);
    let index: HashMap<&Path, &Repo> = repos
        .iter()
        .map(|built| (built.root.as_path(), &built.repo))
        .collect();
    files.par_iter_mut().for_each(|file| {
        let Some(repo) = file.repo_root.as_deref().and_then(|root| index.get(root)) else {
            return;
        };
        let gates = file.config.config.rules.cors_first.options();
        if let Ok(parsed) = &mut file.outcome {
            parsed.facts = repo.facts_for(&file.input.logical_path, &gates);
        }
    });
    findings
}

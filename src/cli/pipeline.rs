//! The shared front half of every file command: find the files, read and parse them in
//! parallel, decide each one's scope, and build the repo models that give the rules their
//! cross-scope facts.
//!
//! Output order never depends on threads: files are sorted by path after discovery, and
//! every later step keeps that order.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use apimfix::config::{ConfigResolver, LoadedConfig};
use apimfix::discover::{DiscoverOptions, ExplicitFilePolicy, SymlinkPolicy, discover};
use apimfix::repo::{Repo, RepoFinding, find_roots};
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
}

/// An input after reading and parsing.
pub struct Loaded {
    pub input: Input,
    pub config: Arc<LoadedConfig>,
    /// The bytes read, compared again before an in-place write.
    pub original: Vec<u8>,
    pub outcome: Result<Parsed, FileError>,
}

pub struct Parsed {
    pub doc: Document,
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
    pub reads_stdin: bool,
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

pub fn load(args: &FileArgs) -> Result<Workspace, String> {
    let resolver = ConfigResolver::new(args.config.as_deref()).map_err(|e| e.to_string())?;
    let mut errors = Vec::new();
    let mut notes = Vec::new();
    let reads_stdin = args.paths.iter().any(|p| p.as_os_str() == "-");
    let mut inputs = Vec::new();
    let mut stdin_bytes = None;
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
        });
    } else {
        let options = DiscoverOptions {
            symlinks: if args.follow_symlinks {
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
        let found = discover(&args.paths, &options, &resolver);
        for e in found.errors {
            errors.push((
                e.path().map(display_path).unwrap_or_default(),
                e.to_string(),
            ));
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
            });
        }
    }

    let limits = Limits::default();
    let progress = super::progress::Progress::new(inputs.len(), "reading", args.quiet);
    let loaded: Vec<Option<Loaded>> = inputs
        .into_par_iter()
        .map(|input| {
            progress.tick();
            let config = match resolver.for_path(&input.logical_path) {
                Ok(c) => c,
                Err(e) => {
                    let config = Arc::new(LoadedConfig::defaults(Path::new(".")));
                    return Some(Loaded {
                        input,
                        config,
                        original: Vec::new(),
                        outcome: Err(FileError::Internal(format!("configuration: {e}"))),
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
                        outcome: Err(FileError::Io(e)),
                    });
                }
            };
            let outcome = match parse_bytes(bytes.clone(), &limits) {
                Ok(doc) => {
                    let location = locate(&input.logical_path);
                    let (scope, scope_source) = resolve_scope(
                        args.scope,
                        config.scope_for(&input.logical_path),
                        doc.root_kind(),
                        &location,
                    );
                    Ok(Parsed {
                        doc,
                        scope,
                        scope_source,
                        facts: RepoFacts::default(),
                    })
                }
                // A walked `*.xml` that is not a policy (a pom, a config) is none of our business.
                Err(e) if e.kind == SyntaxErrorKind::NotAPolicy && !input.explicit => return None,
                Err(e) => Err(FileError::Syntax(e)),
            };
            Some(Loaded {
                input,
                config,
                original: bytes,
                outcome,
            })
        })
        .collect();
    let mut files: Vec<Loaded> = loaded.into_iter().flatten().collect();
    files.sort_by(|a, b| a.input.display_path.cmp(&b.input.display_path));

    let repo_findings = attach_repo_facts(&mut files, &mut errors);
    Ok(Workspace {
        files,
        errors,
        repo_findings,
        notes,
        reads_stdin,
    })
}

/// One repo model per APIOps root among `entries` (each a file and its document), with the
/// config of the first file under that root.
fn build_repos(
    entries: &[(&Loaded, &Document)],
    errors: &mut Vec<(String, String)>,
) -> Vec<(PathBuf, Repo, Arc<LoadedConfig>)> {
    let paths: Vec<PathBuf> = entries
        .iter()
        .filter(|(f, _)| f.input.path.is_some())
        .map(|(f, _)| f.input.logical_path.clone())
        .collect();
    let mut repos = Vec::new();
    for root in find_roots(&paths) {
        let under: Vec<&(&Loaded, &Document)> = entries
            .iter()
            .filter(|(f, _)| f.input.logical_path.starts_with(&root))
            .collect();
        let Some((first, _)) = under.first() else {
            continue;
        };
        let config = first.config.clone();
        let docs: Vec<(PathBuf, Arc<Document>)> = under
            .iter()
            .map(|(f, d)| (f.input.logical_path.clone(), Arc::new((*d).clone())))
            .collect();
        match Repo::load_with(&root, docs) {
            Ok(repo) => repos.push((root, repo, config)),
            Err(e) => errors.push((display_path(&root), format!("repo model: {e}"))),
        }
    }
    repos
}

fn findings_of(
    repos: &[(PathBuf, Repo, Arc<LoadedConfig>)],
) -> BTreeMap<PathBuf, Vec<RepoFinding>> {
    let mut findings: BTreeMap<PathBuf, Vec<RepoFinding>> = BTreeMap::new();
    for (_, repo, config) in repos {
        let rules = &config.config.rules;
        for finding in repo.findings(&rules.cors_first.options(), &rules.cors_origins.options()) {
            findings
                .entry(absolute(&finding.path))
                .or_default()
                .push(finding);
        }
    }
    findings
}

/// The cross-scope findings of the repos that `entries` form (used on fixed documents).
pub fn cross_scope_findings(
    entries: &[(&Loaded, &Document)],
) -> BTreeMap<PathBuf, Vec<RepoFinding>> {
    let mut ignored = Vec::new();
    findings_of(&build_repos(entries, &mut ignored))
}

/// Gives each file the facts of its repo, and collects the cross-scope findings.
fn attach_repo_facts(
    files: &mut [Loaded],
    errors: &mut Vec<(String, String)>,
) -> BTreeMap<PathBuf, Vec<RepoFinding>> {
    let entries: Vec<(&Loaded, &Document)> = files
        .iter()
        .filter_map(|f| f.outcome.as_ref().ok().map(|p| (f, &p.doc)))
        .collect();
    let repos = build_repos(&entries, errors);
    let findings = findings_of(&repos);
    for file in files.iter_mut() {
        let Some((_, repo, _)) = repos
            .iter()
            .find(|(root, _, _)| file.input.logical_path.starts_with(root))
        else {
            continue;
        };
        let gates = file.config.config.rules.cors_first.options();
        if let Ok(parsed) = &mut file.outcome {
            parsed.facts = repo.facts_for(&file.input.logical_path, &gates);
        }
    }
    findings
}

//! The shared front half of every file command: find the files, read and parse them in
//! parallel, decide each one's scope, and build the repo models that give the rules their
//! cross-scope facts.
//!
//! Files go through in units: the files of one APIOps repo (its repo model needs them all
//! at once), or a batch of files outside any repo. A unit is read, parsed, modelled and
//! handed to the command's work, which returns a compact result per file; then its
//! documents are dropped. Memory thus follows the largest repo, not the whole run, and a
//! repo's files are worked on while still in cache.
//!
//! Output order never depends on threads: files are sorted by path after discovery, and
//! results are put back in that order.

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
use apimfix::scope::{PolicyLocation, Scope, ScopeSource, locate, resolve_scope};
use apimfix::syntax::{Document, Limits, SyntaxErrorKind, parse_bytes_keeping};
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

impl Input {
    /// The APIOps artifacts root `location` places the file in. Stdin has none: its
    /// siblings on disk are not what the user is editing.
    fn repo_root(&self, location: &PolicyLocation) -> Option<PathBuf> {
        self.path.as_ref().and(location.artifacts_root.clone())
    }
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

/// A group of files worked on together, then dropped: the files of one APIOps repo, or a
/// batch of files outside any repo. In path order.
pub struct Unit<'a> {
    pub files: Vec<Loaded>,
    /// Cross-scope findings of the unit's repo, keyed by the file they point into.
    pub repo_findings: BTreeMap<PathBuf, Vec<RepoFinding>>,
    /// Folder listings, for repo models built again (on fixed documents).
    pub folders: &'a dyn Folders,
}

/// What a run gave: the command's result for each file read, in path order, and what is
/// not tied to one file.
pub struct Run<T> {
    pub results: Vec<T>,
    /// Errors not tied to a readable file (a missing path, a bad config): reported, exit 2.
    pub errors: Vec<(String, String)>,
    /// Notes for `-v`: skipped files and why, each file's scope.
    pub notes: Vec<String>,
    /// Said on stderr unless `-q`: what the run could not take into account.
    pub warnings: Vec<String>,
    pub reads_stdin: bool,
}

/// How many files outside any repo make one unit: enough to keep both cores busy without
/// holding many documents.
const LOOSE_BATCH: usize = 64;

/// `path[:line:column]` of a config error, the path as shown to the user.
pub fn config_error_place(e: &ConfigError) -> String {
    match e.location() {
        Some(at) => format!("{}:{}:{}", display_path(e.path()), at.line, at.column),
        None => display_path(e.path()),
    }
}

/// The working directory, read once: a bulk run asks for it twice per file.
fn cwd() -> Option<&'static Path> {
    static CWD: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    CWD.get_or_init(|| std::env::current_dir().ok()).as_deref()
}

pub fn display_path(path: &Path) -> String {
    let shown = cwd()
        .and_then(|cwd| path.strip_prefix(cwd).ok())
        .unwrap_or(path);
    let s = apimfix::paths::escape_for_display(shown);
    s.strip_prefix("./").map(str::to_owned).unwrap_or(s)
}

fn absolute(path: &Path) -> PathBuf {
    // Joined to the cached working directory first, so that `absolute` needs no `getcwd`.
    let joined = match cwd() {
        Some(cwd) if path.is_relative() => cwd.join(path),
        _ => path.to_path_buf(),
    };
    std::path::absolute(&joined).unwrap_or(joined)
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

/// Finds the files, then reads, parses and models them unit by unit, handing each unit to
/// `work`, which returns one result per file of the unit, in its order.
pub fn run<T: Send>(
    args: &FileArgs,
    repo_models: RepoModels,
    access: Access,
    work: impl Fn(&Unit<'_>) -> Vec<T> + Sync,
) -> Result<Run<T>, String> {
    let mut timings = super::progress::Timings::start();
    let resolver = ConfigResolver::new(args.config.as_deref())
        .map_err(|e| format!("{}: {}", config_error_place(&e), e.message()))?;
    let Inputs {
        inputs,
        mut errors,
        mut notes,
        stdin_bytes,
        listings,
        reads_stdin,
        warnings: mut input_warnings,
    } = find_inputs(args, access, &resolver, &mut timings)?;
    timings.mark("discovery");
    let total = inputs.len();
    let units = into_units(inputs);

    let reader = Reader {
        args,
        resolver: &resolver,
        limits: Limits::default(),
        stdin_bytes,
    };
    let progress = super::progress::Progress::new(total, "reading", args.quiet);
    let done: Vec<UnitDone<T>> = units
        .into_par_iter()
        .map(|inputs| {
            let (indices, mut files): (Vec<usize>, Vec<Loaded>) = inputs
                .into_par_iter()
                .filter_map(|(index, input, location)| {
                    progress.tick();
                    reader.read(input, location).map(|loaded| (index, loaded))
                })
                .unzip();
            let mut done = UnitDone {
                results: Vec::new(),
                scopes: Vec::new(),
                errors: Vec::new(),
                warnings: Vec::new(),
            };
            let repo_findings = match repo_models {
                RepoModels::Build => {
                    attach_repo_facts(&mut files, &listings, &mut done.errors, &mut done.warnings)
                }
                RepoModels::Skip => BTreeMap::new(),
            };
            if args.verbose {
                done.scopes = scope_notes(&indices, &files);
            }
            let unit = Unit {
                files,
                repo_findings,
                folders: &listings,
            };
            let results = work(&unit);
            assert_eq!(
                results.len(),
                indices.len(),
                "one result per file of a unit"
            );
            done.results = indices.into_iter().zip(results).collect();
            done
        })
        .collect();
    drop(progress);

    let mut slots: Vec<Option<T>> = std::iter::repeat_with(|| None).take(total).collect();
    let mut scopes = Vec::new();
    let mut warnings = std::mem::take(&mut input_warnings);
    for unit in done {
        for (index, result) in unit.results {
            slots[index] = Some(result);
        }
        scopes.extend(unit.scopes);
        errors.extend(unit.errors);
        warnings.extend(unit.warnings);
    }
    scopes.sort_by_key(|(index, _)| *index);
    notes.extend(scopes.into_iter().map(|(_, note)| note));
    timings.mark("read, parse, model and work");
    // Sized up front: collecting from `flatten` would grow the vector step by step, each step
    // a copy, to a capacity up to twice the file count.
    let mut results = Vec::with_capacity(slots.iter().filter(|slot| slot.is_some()).count());
    results.extend(slots.into_iter().flatten());
    super::leak_at_exit(listings);
    Ok(Run {
        results,
        errors,
        notes,
        warnings,
        reads_stdin,
    })
}

/// The inputs of a run, sorted by their shown path, and what finding them said.
struct Inputs {
    inputs: Vec<Input>,
    errors: Vec<(String, String)>,
    notes: Vec<String>,
    stdin_bytes: Option<Vec<u8>>,
    listings: Listings,
    reads_stdin: bool,
    warnings: Vec<String>,
}

/// Stdin, or the files the paths name and the walk finds.
fn find_inputs(
    args: &FileArgs,
    access: Access,
    resolver: &ConfigResolver,
    timings: &mut super::progress::Timings,
) -> Result<Inputs, String> {
    let mut found = Inputs {
        inputs: Vec::new(),
        errors: Vec::new(),
        notes: Vec::new(),
        stdin_bytes: None,
        listings: Listings::default(),
        reads_stdin: args.paths.iter().any(|p| p.as_os_str() == "-"),
        warnings: Vec::new(),
    };
    if found.reads_stdin {
        if args.paths.len() > 1 {
            return Err("`-` (stdin) cannot be combined with other paths".to_owned());
        }
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| format!("stdin: {e}"))?;
        found.stdin_bytes = Some(bytes);
        let logical = args
            .stdin_filename
            .clone()
            .unwrap_or_else(|| PathBuf::from("-"));
        found.inputs.push(Input {
            display_path: args
                .stdin_filename
                .as_deref()
                .map_or_else(|| "-".to_owned(), display_path),
            path: None,
            logical_path: absolute(&logical),
            explicit: true,
            config: None,
        });
        return Ok(found);
    }
    let options = DiscoverOptions {
        symlinks: if args.follow_symlinks || access == Access::ReadOnly {
            SymlinkPolicy::Follow
        } else {
            SymlinkPolicy::RefuseInPath
        },
        explicit_files: if args.force_exclude {
            ExplicitFilePolicy::ApplyExclude
        } else {
            ExplicitFilePolicy::Include
        },
        ..DiscoverOptions::default()
    };
    let discovery = discover(&args.paths, &options, resolver);
    timings.mark("walk");
    found.listings = discovery.listings;
    for e in discovery.errors {
        found.errors.push(match &e {
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
    if !args.follow_symlinks {
        for path in &discovery.through_links {
            apimfix::report::hide_source_below(path);
        }
    }
    for path in discovery.stray_temps {
        found.warnings.push(stray_temp_warning(&path, access));
    }
    for (path, reason) in discovery.skipped {
        found
            .notes
            .push(format!("{}: skipped: {reason}", display_path(&path)));
    }
    found.inputs = discovery
        .files
        .into_par_iter()
        .map(|f| Input {
            display_path: display_path(&f.path),
            logical_path: absolute(&f.path),
            path: Some(f.path),
            explicit: f.explicit,
            config: f.config,
        })
        .collect();
    found
        .inputs
        .par_sort_by(|a, b| a.display_path.cmp(&b.display_path));
    Ok(found)
}

/// What is said of a temporary file a killed run left: a writing run removes it (when no
/// run is using it), another names it.
fn stray_temp_warning(path: &Path, access: Access) -> String {
    let shown = display_path(path);
    let left = "a temporary file left by an interrupted apimfix run";
    match access {
        Access::Write => match apimfix::write::remove_stray_temp(path) {
            Ok(true) => format!("warning: {shown}: removed {left}"),
            Ok(false) => format!("warning: {shown}: {left}, or in use by a running one; kept"),
            Err(e) => format!("warning: {shown}: {left}; cannot remove it: {e}"),
        },
        Access::ReadOnly => format!(
            "warning: {shown}: {left}; `apimfix fmt --write` or `fix --write` on its folder removes it"
        ),
    }
}

/// The inputs grouped into units: one per APIOps repo, whose model needs all its files at
/// once, then the files outside any repo in batches. Each input keeps its index in path order.
fn into_units(inputs: Vec<Input>) -> Vec<Vec<Located>> {
    let locations: Vec<PolicyLocation> = inputs
        .par_iter()
        .map(|input| locate(&input.logical_path))
        .collect();
    let mut by_root: BTreeMap<PathBuf, Vec<Located>> = BTreeMap::new();
    let mut loose = Vec::new();
    for ((index, input), location) in inputs.into_iter().enumerate().zip(locations) {
        match input.repo_root(&location) {
            Some(root) => by_root
                .entry(root)
                .or_default()
                .push((index, input, location)),
            None => loose.push((index, input, location)),
        }
    }
    let mut units: Vec<Vec<Located>> = by_root.into_values().collect();
    // Taken off one iterator: `split_off` left each batch the capacity of all the rest, so
    // memory grew with the square of the loose file count.
    let mut loose = loose.into_iter().peekable();
    while loose.peek().is_some() {
        units.push(loose.by_ref().take(LOOSE_BATCH).collect());
    }
    units
}

/// `-v`'s scope note for each parsed file, with its index in path order.
fn scope_notes(indices: &[usize], files: &[Loaded]) -> Vec<(usize, String)> {
    indices
        .iter()
        .zip(files)
        .filter_map(|(index, file)| {
            let parsed = file.outcome.as_ref().ok()?;
            let note = format!(
                "{}: scope {} ({})",
                file.input.display_path, parsed.scope, parsed.scope_source
            );
            Some((*index, note))
        })
        .collect()
}

/// An input with its index in path order and where its path places it.
type Located = (usize, Input, PolicyLocation);

/// What a unit gave, with each result's index in path order.
struct UnitDone<T> {
    results: Vec<(usize, T)>,
    scopes: Vec<(usize, String)>,
    errors: Vec<(String, String)>,
    warnings: Vec<String>,
}

/// Reads and parses one input.
struct Reader<'a> {
    args: &'a FileArgs,
    resolver: &'a ConfigResolver,
    limits: Limits,
    stdin_bytes: Option<Vec<u8>>,
}

impl Reader<'_> {
    /// `None` for a walked `*.xml` that is not a policy (a pom, a config): none of our
    /// business.
    fn read(&self, mut input: Input, location: PolicyLocation) -> Option<Loaded> {
        let known = input.config.take().map(Ok);
        let config = match known.unwrap_or_else(|| self.resolver.for_path(&input.logical_path)) {
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
            None => Ok(self.stdin_bytes.clone().unwrap_or_default()),
            Some(p) => {
                apimfix::read::read_policy_file(p, self.limits.max_size).map_err(FileError::from)
            }
        };
        let bytes = match bytes {
            Ok(b) => b,
            Err(e) => {
                return Some(Loaded {
                    input,
                    config,
                    original: Vec::new(),
                    repo_root: None,
                    outcome: Err(e),
                });
            }
        };
        let mut repo_root = None;
        // A parsed document's source is the file, byte for byte: the bytes are kept apart
        // only when they do not parse.
        let mut original = Vec::new();
        let outcome = match parse_bytes_keeping(bytes, &self.limits) {
            Ok(doc) => {
                repo_root = input.repo_root(&location);
                let (scope, scope_source) = resolve_scope(
                    self.args.scope,
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
            Err((e, _)) if e.kind == SyntaxErrorKind::NotAPolicy && !input.explicit => {
                return None;
            }
            Err((e, bytes)) => {
                original = bytes;
                Err(FileError::Syntax(e))
            }
        };
        Some(Loaded {
            input,
            config,
            original,
            outcome,
            repo_root,
        })
    }
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

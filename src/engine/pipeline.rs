//! The shared front half of `check`, `fix` and `fmt`: find the files, read and parse them in
//! parallel, decide each one's scope, and build the repo models that give the rules their
//! cross-scope facts.
//!
//! Files go through in units: the files of one APIOps repo (its repo model needs them all
//! at once), or a batch of files outside any repo. A unit is read, parsed, modelled and
//! handed to the work of `check`, `fix` or `fmt`, which returns a compact result per file;
//! then its documents are dropped. Memory thus follows the largest repo, not the whole run, and a
//! repo's files are worked on while still in cache.
//!
//! Output order never depends on threads: files are sorted by path after discovery, and
//! results are put back in that order.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::config::{ConfigResolver, LoadedConfig};
use crate::discover::{
    DiscoverError, DiscoverOptions, ExplicitFilePolicy, SymlinkPolicy, discover,
};
use crate::folders::{Folders, Listings};
use crate::layout::{PolicyLocation, Scope, ScopeSource, locate, resolve_scope};
use crate::paths::{display_path, file_identity};
use crate::repo::RepoFacts;
use crate::repo::{Repo, RepoError};
use crate::rules::RepoFinding;
use crate::syntax::{Document, Limits, SyntaxErrorKind, parse_bytes_keeping};

use super::analyse;
use super::error::{Error, FileError, PathError};
use super::hosts::{self, HostFailure, IacPlace};
use super::{Inputs, Note, Observer, Options, StrayTemp, Warning};

/// One input: a file on disk or stdin.
pub struct Input {
    /// As shown to the user: relative to the working directory, `/`-separated.
    pub display_path: String,
    /// Where to write it back; `None` for stdin.
    pub path: Option<PathBuf>,
    /// The path that decides scope and config (stdin: its filename, or `-`).
    pub logical_path: PathBuf,
    /// Named as an input (or stdin), not found by walking.
    pub explicit: bool,
    /// The config, when discovery already found it.
    pub(super) config: Option<Arc<LoadedConfig>>,
    /// For a policy that an environment's configuration overrides: its text and where it
    /// applies (the input has no path of its own: it is never written).
    pub(super) override_source: Option<Arc<super::layouts::OverrideSource>>,
    /// The Terraform, Bicep or ARM resource that places this policy (inline in the host, or
    /// loaded from this file); see `hosts`.
    pub(crate) iac: Option<Arc<IacPlace>>,
    /// A host file that could not be read as its kind.
    pub(crate) host_error: Option<Box<HostFailure>>,
}

impl Input {
    /// The APIOps artifacts root `location` places the file in. Stdin has none: its
    /// siblings on disk are not what the user is editing. An environment's override belongs
    /// to the repo it overrides; a file an IaC host places belongs to that host's model.
    fn repo_root(&self, location: &PolicyLocation) -> Option<PathBuf> {
        if let Some(o) = &self.override_source {
            return Some(o.root.clone());
        }
        if self.iac.is_some() {
            return None;
        }
        self.path.as_ref().and(location.artifacts_root.clone())
    }

    /// The unit the input goes in: its APIOps repo, or its IaC root.
    fn unit_key(&self, location: &PolicyLocation) -> Option<PathBuf> {
        match &self.iac {
            Some(place) => Some(hosts::model_key(&place.root)),
            None => self.repo_root(location),
        }
    }
}

/// The key of the repo model a loaded file belongs to.
fn model_key(file: &Loaded) -> Option<PathBuf> {
    match &file.input.iac {
        Some(place) => Some(hosts::model_key(&place.root)),
        None => file.repo_root.clone(),
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
    /// The repo model the file belongs to, for the semantic check of its fixes
    /// (`rules::oracle`); `None` outside any repo.
    pub repo: Option<Arc<Repo>>,
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
    /// Errors not tied to a readable file (a missing path, a bad config, a repo model that
    /// could not be built), in the order found.
    pub errors: Vec<PathError>,
    /// What was skipped and why; with [`Options::notes`], each file's scope too.
    pub notes: Vec<Note>,
    /// What the run could not take into account.
    pub warnings: Vec<Warning>,
    pub reads_stdin: bool,
    /// The display paths of the files whose scope is unknown (the scope-dependent rules skip
    /// them), in path order.
    pub unknown_scope: Vec<String>,
    /// The folder listings of the walk (a bulk run's are tens of MB). A caller that exits
    /// right after the run may let them go without freeing them.
    pub listings: Listings,
}

/// How many files outside any repo make one unit: enough to keep both cores busy without
/// holding many documents.
const LOOSE_BATCH: usize = 64;

/// Whether a command needs the repo models: rules do (cross-scope facts and findings), the
/// formatter does not.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum RepoModels {
    Build,
    Skip,
}

/// Whether the run writes files: a symbolic link named as an input is then refused
/// unless [`Options::follow_symlinks`] (writing through a link surprises people); reading through one,
/// as `apimfix check <(cat policy.xml)` does, is harmless.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Access {
    ReadOnly,
    Write,
}

impl Access {
    /// [`Options::write`] set or not.
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
    inputs: Inputs,
    options: &Options,
    repo_models: RepoModels,
    access: Access,
    observer: &dyn Observer,
    work: impl Fn(&Unit<'_>) -> Vec<T> + Sync,
) -> Result<Run<T>, Error> {
    let resolver = ConfigResolver::new(options.config.as_deref()).map_err(Error::Config)?;
    let Found {
        inputs,
        mut errors,
        mut notes,
        warnings: found_warnings,
        stdin_bytes,
        listings,
        reads_stdin,
    } = find_inputs(inputs, options, access, &resolver, observer)?;
    let mut inputs = if reads_stdin {
        inputs
    } else {
        let mut host_notes = Vec::new();
        let inputs = hosts::expand(inputs, Limits::default().max_size, &mut host_notes);
        if options.notes {
            notes.extend(host_notes);
        }
        inputs
    };
    if options.check_overrides {
        errors.extend(super::layouts::add_environment_overrides(
            &mut inputs,
            options,
            &resolver,
        ));
    }
    observer.phase("discovery");
    let total = inputs.len();
    let units = into_units(inputs);

    let reader = Reader {
        options,
        resolver: &resolver,
        limits: Limits::default(),
        stdin_bytes,
        overridden: std::sync::Mutex::new(HashMap::new()),
        not_policies: std::sync::Mutex::new(Vec::new()),
    };
    observer.reading(total);
    let run_unit = |inputs: Vec<Located>| -> UnitDone<T> {
        let (indices, mut files): (Vec<usize>, Vec<Loaded>) = inputs
            .into_par_iter()
            .filter_map(|(index, input, location)| {
                observer.read_one();
                reader.read(input, location).map(|loaded| (index, loaded))
            })
            .unzip();
        let mut done = UnitDone {
            results: Vec::new(),
            scopes: Vec::new(),
            unknown_scope: Vec::new(),
            comment_warnings: Vec::new(),
            errors: Vec::new(),
            warnings: Vec::new(),
        };
        let repo_findings = match repo_models {
            RepoModels::Build => {
                attach_repo_facts(&mut files, &listings, &mut done.errors, &mut done.warnings)
            }
            RepoModels::Skip => BTreeMap::new(),
        };
        if options.notes {
            done.scopes = scope_notes(&indices, &files);
        }
        done.unknown_scope = unknown_scopes(&indices, &files);
        done.comment_warnings = comment_warnings(&indices, &files);
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
    };
    let done: Vec<UnitDone<T>> = units.into_par_iter().map(run_unit).collect();
    observer.reading_done();

    let mut slots: Vec<Option<T>> = std::iter::repeat_with(|| None).take(total).collect();
    let mut scopes = Vec::new();
    let mut warnings = Vec::new();
    let mut unknown_scope = Vec::new();
    let mut comment_warnings = Vec::new();
    for unit in done {
        for (index, result) in unit.results {
            slots[index] = Some(result);
        }
        scopes.extend(unit.scopes);
        unknown_scope.extend(unit.unknown_scope);
        comment_warnings.extend(unit.comment_warnings);
        errors.extend(unit.errors);
        warnings.extend(unit.warnings);
    }
    scopes.sort_by_key(|(index, _)| *index);
    notes.extend(scopes.into_iter().map(|(_, note)| note));
    let mut not_policies = reader
        .not_policies
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    not_policies.sort();
    notes.extend(not_policies.into_iter().map(|path| Note::Skipped {
        path,
        reason: crate::discover::SkipReason::NotAPolicy,
    }));
    unknown_scope.sort_by_key(|(index, _)| *index);
    let unknown_scope = unknown_scope.into_iter().map(|(_, path)| path).collect();
    comment_warnings.sort_by_key(|(index, _)| *index);
    warnings.splice(0..0, comment_warnings.into_iter().map(|(_, w)| w));
    warnings.splice(0..0, found_warnings);
    observer.phase("read, parse, model and work");
    // Sized up front: collecting from `flatten` would grow the vector step by step, each step
    // a copy, to a capacity up to twice the file count.
    let mut results = Vec::with_capacity(slots.iter().filter(|slot| slot.is_some()).count());
    results.extend(slots.into_iter().flatten());
    Ok(Run {
        results,
        errors,
        notes,
        warnings,
        reads_stdin,
        unknown_scope,
        listings,
    })
}

/// The inputs of a run, sorted by their shown path, and what finding them said.
struct Found {
    inputs: Vec<Input>,
    errors: Vec<PathError>,
    notes: Vec<Note>,
    /// What discovery found to warn about (stray temporary files).
    warnings: Vec<Warning>,
    stdin_bytes: Option<Vec<u8>>,
    listings: Listings,
    reads_stdin: bool,
}

/// Stdin, or the files the paths name and the walk finds.
fn find_inputs(
    inputs: Inputs,
    options: &Options,
    access: Access,
    resolver: &ConfigResolver,
    observer: &dyn Observer,
) -> Result<Found, Error> {
    let paths = match inputs {
        Inputs::Stdin { source, filename } => {
            // Read one byte past the size limit at most: `/dev/zero` on stdin ends at once,
            // and the parser reports a text over the limit as too large.
            let limit = Limits::default().max_size as u64 + 1;
            let mut bytes = Vec::new();
            source
                .take(limit)
                .read_to_end(&mut bytes)
                .map_err(Error::Stdin)?;
            let logical = filename.clone().unwrap_or_else(|| PathBuf::from("-"));
            return Ok(Found {
                inputs: vec![Input {
                    display_path: filename
                        .as_deref()
                        .map_or_else(|| "-".to_owned(), display_path),
                    path: None,
                    logical_path: file_identity(&logical),
                    explicit: true,
                    config: None,
                    override_source: None,
                    iac: None,
                    host_error: None,
                }],
                errors: Vec::new(),
                notes: Vec::new(),
                warnings: Vec::new(),
                stdin_bytes: Some(bytes),
                listings: Listings::default(),
                reads_stdin: true,
            });
        }
        Inputs::Paths(paths) => paths,
    };
    if paths.iter().any(|p| p.as_os_str() == "-") {
        return Err(Error::StdinWithOtherPaths);
    }
    let mut found = Found {
        inputs: Vec::new(),
        errors: Vec::new(),
        notes: Vec::new(),
        warnings: Vec::new(),
        stdin_bytes: None,
        listings: Listings::default(),
        reads_stdin: false,
    };
    let discover_options = DiscoverOptions {
        symlinks: if options.follow_symlinks || access == Access::ReadOnly {
            SymlinkPolicy::Follow
        } else {
            SymlinkPolicy::RefuseInPath
        },
        explicit_files: if options.force_exclude {
            ExplicitFilePolicy::ApplyExclude
        } else {
            ExplicitFilePolicy::Include
        },
        ..DiscoverOptions::default()
    };
    let discovery = discover(&paths, &discover_options, resolver);
    observer.phase("walk");
    found.listings = discovery.listings;
    for e in discovery.errors {
        let error = match e {
            // A config error points into the config file, at its line and column.
            DiscoverError::Config(config) => PathError {
                path: Some(config.path().to_path_buf()),
                error: FileError::Config(config),
            },
            other => PathError {
                path: other.path().map(Path::to_path_buf),
                error: FileError::Discover(other),
            },
        };
        found.errors.push(error);
    }
    if options.notes {
        found
            .notes
            .extend(ignored_files(&paths, &discovery.files, &discovery.skipped));
    }
    for (path, reason) in discovery.skipped {
        found.notes.push(Note::Skipped { path, reason });
    }
    if !options.follow_symlinks {
        for path in &discovery.through_links {
            crate::report::hide_source_below(path);
        }
    }
    for path in discovery.stray_temps {
        let outcome = match access {
            Access::Write => match crate::write::remove_stray_temp(&path) {
                Ok(true) => StrayTemp::Removed,
                Ok(false) => StrayTemp::Kept,
                Err(e) => StrayTemp::CannotRemove(e.to_string()),
            },
            Access::ReadOnly => StrayTemp::Found,
        };
        found
            .warnings
            .push(Warning::StrayTempFile { path, outcome });
    }
    found.inputs = discovery
        .files
        .into_par_iter()
        .map(|f| Input {
            display_path: display_path(&f.path),
            logical_path: file_identity(&f.path),
            path: Some(f.path),
            explicit: f.explicit,
            config: f.config,
            override_source: None,
            iac: None,
            host_error: None,
        })
        .collect();
    found
        .inputs
        .par_sort_by(|a, b| a.display_path.cmp(&b.display_path));
    Ok(found)
}

/// `-v`: the `*.xml` files below the folders given that the walk left out because an ignore
/// file (`.gitignore`, `.apimfixignore`, a git exclude) matched them. A second walk without
/// ignore files, so only with [`Options::notes`].
fn ignored_files(
    paths: &[PathBuf],
    found: &[crate::discover::DiscoveredFile],
    skipped: &[(PathBuf, crate::discover::SkipReason)],
) -> Vec<Note> {
    let known: std::collections::HashSet<PathBuf> = found
        .iter()
        .map(|f| file_identity(&f.path))
        .chain(skipped.iter().map(|(p, _)| file_identity(p)))
        .collect();
    let mut ignored = Vec::new();
    for root in paths.iter().filter(|p| p.is_dir()) {
        let walk = ignore::WalkBuilder::new(root)
            .standard_filters(false)
            .hidden(true)
            .follow_links(false)
            .build();
        for entry in walk.flatten() {
            let path = entry.path();
            let is_xml = path
                .extension()
                .is_some_and(|x| x.eq_ignore_ascii_case("xml"));
            if is_xml
                && entry.file_type().is_some_and(|t| t.is_file())
                && !known.contains(&file_identity(path))
            {
                ignored.push(path.to_path_buf());
            }
        }
    }
    ignored.sort();
    ignored.dedup();
    ignored
        .into_iter()
        .map(|path| Note::Ignored {
            file: ignoring_file(&path),
            path,
        })
        .collect()
}

/// The nearest `.apimfixignore`, `.ignore` or `.gitignore` (in that order in one folder) whose
/// patterns ignore `path`, looking in its folder and every folder above.
fn ignoring_file(path: &Path) -> Option<PathBuf> {
    let path = file_identity(path);
    for dir in path.ancestors().skip(1) {
        for name in [".apimfixignore", ".ignore", ".gitignore"] {
            let file = dir.join(name);
            if !file.is_file() {
                continue;
            }
            let (matcher, _) = ignore::gitignore::Gitignore::new(&file);
            match matcher.matched_path_or_any_parents(&path, false) {
                ignore::Match::Ignore(_) => return Some(file),
                ignore::Match::Whitelist(_) => return None,
                ignore::Match::None => {}
            }
        }
    }
    None
}

/// The inputs grouped into units: one per APIOps repo, whose model needs all its files at
/// once, then the files outside any repo in batches. Each input keeps its index in path order.
fn into_units(inputs: Vec<Input>) -> Vec<Vec<Located>> {
    let mut locations: Vec<PolicyLocation> = inputs
        .par_iter()
        .map(|input| locate(&input.logical_path))
        .collect();
    super::layouts::place_in_creator_configs(&inputs, &mut locations);
    super::layouts::place_overrides(&inputs, &mut locations);
    let mut by_root: BTreeMap<PathBuf, Vec<Located>> = BTreeMap::new();
    let mut loose = Vec::new();
    for ((index, input), location) in inputs.into_iter().enumerate().zip(locations) {
        match input.unit_key(&location) {
            Some(root) => by_root
                .entry(root)
                .or_default()
                .push((index, input, location)),
            None => loose.push((index, input, location)),
        }
    }
    let mut units: Vec<Vec<Located>> = by_root.into_values().collect();
    // Batches taken one by one from the front: `split_off` would leave each batch the
    // capacity of everything after it (quadratic memory over many loose files).
    let mut loose = loose.into_iter();
    loop {
        let batch: Vec<Located> = loose.by_ref().take(LOOSE_BATCH).collect();
        if batch.is_empty() {
            break;
        }
        units.push(batch);
    }
    units
}

/// `-v`'s scope note for each parsed file, with its index in path order.
fn scope_notes(indices: &[usize], files: &[Loaded]) -> Vec<(usize, Note)> {
    indices
        .iter()
        .zip(files)
        .filter_map(|(index, file)| {
            let parsed = file.outcome.as_ref().ok()?;
            let note = Note::Scope {
                display_path: file.input.display_path.clone(),
                scope: parsed.scope,
                source: parsed.scope_source.clone(),
                config: file.config.source.clone(),
            };
            Some((*index, note))
        })
        .collect()
}

/// The display path of each parsed file whose scope is unknown, with its index in path order.
fn unknown_scopes(indices: &[usize], files: &[Loaded]) -> Vec<(usize, String)> {
    indices
        .iter()
        .zip(files)
        .filter(|(_, file)| {
            file.outcome
                .as_ref()
                .is_ok_and(|parsed| parsed.scope == Scope::Unknown)
        })
        .map(|(index, file)| (*index, file.input.display_path.clone()))
        .collect()
}

/// A warning for each name in an `apimfix-ignore` comment that is no rule (a typo silences
/// nothing), with the file's index in path order.
fn comment_warnings(indices: &[usize], files: &[Loaded]) -> Vec<(usize, Warning)> {
    let mut out = Vec::new();
    for (index, file) in indices.iter().zip(files) {
        let Ok(parsed) = &file.outcome else { continue };
        let names = crate::rules::unknown_suppressed_names(&parsed.doc);
        let directives = crate::rules::unknown_directives(&parsed.doc);
        if names.is_empty() && directives.is_empty() {
            continue;
        }
        let source = parsed.doc.source();
        let lines = crate::text::LineIndex::new(source);
        for (offset, directive) in directives {
            let at = lines.line_column(source, offset);
            out.push((
                *index,
                Warning::UnknownDirectiveInComment {
                    display_path: file.input.display_path.clone(),
                    line: at.line,
                    column: at.column,
                    directive,
                },
            ));
        }
        for (offset, name) in names {
            let at = lines.line_column(source, offset);
            out.push((
                *index,
                Warning::UnknownRuleInComment {
                    display_path: file.input.display_path.clone(),
                    line: at.line,
                    column: at.column,
                    name,
                },
            ));
        }
    }
    out
}

/// An input with its index in path order and where its path places it.
type Located = (usize, Input, PolicyLocation);

/// What a unit gave, with each result's index in path order.
struct UnitDone<T> {
    results: Vec<(usize, T)>,
    scopes: Vec<(usize, Note)>,
    /// The display paths of the files whose scope is unknown.
    unknown_scope: Vec<(usize, String)>,
    /// Suppression comments naming no rule.
    comment_warnings: Vec<(usize, Warning)>,
    errors: Vec<PathError>,
    warnings: Vec<Warning>,
}

/// Reads and parses one input.
pub(super) struct Reader<'a> {
    pub(super) options: &'a Options,
    pub(super) resolver: &'a ConfigResolver,
    pub(super) limits: Limits,
    pub(super) stdin_bytes: Option<Vec<u8>>,
    /// Each config with the command line's rule selection applied, by the address of the
    /// config it came from: a run has few configs and many files.
    #[allow(clippy::type_complexity)]
    pub(super) overridden: std::sync::Mutex<HashMap<usize, (Arc<LoadedConfig>, Arc<LoadedConfig>)>>,
    /// Walked `*.xml` files that are not policies, for `-v` (kept only when notes are asked).
    pub(super) not_policies: std::sync::Mutex<Vec<PathBuf>>,
}

impl Reader<'_> {
    /// `config` with [`Options::rules`] applied (the same `Arc` when there is none).
    fn overridden(&self, config: Arc<LoadedConfig>) -> Arc<LoadedConfig> {
        let environment = self.options.environment.as_ref();
        if self.options.rules.is_empty()
            && environment.is_none_or(|e| config.config.environment.as_ref() == Some(e))
        {
            return config;
        }
        let key = Arc::as_ptr(&config) as usize;
        let mut cache = self
            .overridden
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // The original is kept in the value, so its address is never reused.
        let entry = cache.entry(key).or_insert_with(|| {
            let mut changed = (*config).clone();
            changed.config.rules = self.options.rules.apply(&config.config.rules);
            if let Some(environment) = environment {
                changed.config.environment = Some(environment.clone());
            }
            (Arc::clone(&config), Arc::new(changed))
        });
        Arc::clone(&entry.1)
    }

    /// `None` for a walked `*.xml` that is not a policy (a pom, a config): none of our
    /// business.
    pub(super) fn read(&self, mut input: Input, location: PolicyLocation) -> Option<Loaded> {
        let known = input.config.take().map(Ok);
        let config = match known.unwrap_or_else(|| self.resolver.for_path(&input.logical_path)) {
            Ok(c) => self.overridden(c),
            Err(e) => {
                let config = Arc::new(LoadedConfig::defaults(Path::new(".")));
                return Some(Loaded {
                    input,
                    config,
                    original: Vec::new(),
                    repo_root: None,
                    outcome: Err(FileError::Config(e)),
                });
            }
        };
        if let Some(failure) = input.host_error.take() {
            let error = FileError::Syntax(failure.syntax_error());
            return Some(Loaded {
                input,
                config,
                original: failure.source.into_bytes(),
                repo_root: None,
                outcome: Err(error),
            });
        }
        let member = input.iac.as_ref().and_then(|p| p.member.as_ref());
        let bytes = match (&input.path, member) {
            (_, Some(member)) => Ok(member.policy.text.clone().into_bytes()),
            (None, None) if input.override_source.is_some() => Ok(input
                .override_source
                .as_ref()
                .map(|o| o.text.as_bytes().to_vec())
                .unwrap_or_default()),
            (None, None) => Ok(self.stdin_bytes.clone().unwrap_or_default()),
            (Some(p), None) => {
                crate::read::read_policy_file(p, self.limits.max_size).map_err(FileError::from)
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
                let placed = input.iac.as_ref().and_then(|p| p.scope());
                let (scope, scope_source) = match placed {
                    Some(placed) if self.options.scope.is_none() => placed,
                    _ => resolve_scope(
                        self.options.scope,
                        config.scope_for(&input.logical_path),
                        doc.root_kind(),
                        &location,
                    ),
                };
                Ok(Parsed {
                    doc: Arc::new(doc),
                    scope,
                    scope_source,
                    facts: RepoFacts::default(),
                    repo: None,
                })
            }
            // A GraphQL resolver's `<http-data-source>` (or other data source) is no policy
            // document: left alone even when named.
            Err((e, _))
                if e.kind == SyntaxErrorKind::NotAPolicy
                    && (!input.explicit || location.scope == Scope::Resolver) =>
            {
                if let (true, Some(path)) = (self.options.notes, input.path) {
                    self.not_policies
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push(path);
                }
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
    repo: Arc<Repo>,
    configs: HashMap<PathBuf, Arc<LoadedConfig>>,
}

fn build_repos(
    entries: &[(&Loaded, Arc<Document>)],
    folders: &dyn Folders,
    errors: &mut Vec<PathError>,
    warnings: &mut Vec<Warning>,
) -> Vec<BuiltRepo> {
    // One pass to group files by their root: comparing every file with every root is
    // quadratic on a bulk run of hundreds of repos.
    let mut by_root: BTreeMap<&Path, Vec<&(&Loaded, Arc<Document>)>> = BTreeMap::new();
    for entry in entries {
        if let Some(root) = &entry.0.repo_root {
            by_root.entry(root.as_path()).or_default().push(entry);
        }
    }
    let built: Vec<Result<BuiltRepo, Box<PathError>>> = by_root
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
            let environment = under
                .iter()
                .find_map(|(f, _)| f.config.config.environment.clone());
            analyse::load_repo(root, docs, folders, environment.as_deref())
                .map(|repo| BuiltRepo {
                    root: root.to_path_buf(),
                    repo: Arc::new(repo),
                    configs,
                })
                .map_err(|e| {
                    Box::new(PathError::new(
                        Some(root),
                        FileError::RepoModel(e.to_string()),
                    ))
                })
        })
        .collect();
    let mut repos = Vec::new();
    // The IaC roots: a model built from the resources of their hosts.
    let mut by_iac: BTreeMap<&Path, Vec<(&Loaded, Arc<Document>)>> = BTreeMap::new();
    for (file, doc) in entries {
        if let Some(place) = &file.input.iac {
            by_iac
                .entry(place.root.as_path())
                .or_default()
                .push((*file, Arc::clone(doc)));
        }
    }
    for (root, under) in by_iac {
        let configs = under
            .iter()
            .map(|(f, _)| (f.input.logical_path.clone(), f.config.clone()))
            .collect();
        repos.push(BuiltRepo {
            root: hosts::model_key(root),
            repo: Arc::new(hosts::build_repo(root, &under)),
            configs,
        });
    }
    for result in built {
        match result {
            Ok(built) => {
                // What the model could not load (bad JSON metadata, a policy file the run did
                // not read itself) changes its answers: say so. Files the run read report
                // their own errors.
                for e in built.repo.errors() {
                    match e {
                        // Bad metadata loses product membership, a missing or broken
                        // environment its overrides: an error, like a bad config.
                        RepoError::Json { path, .. }
                        | RepoError::Environment { path, .. }
                        | RepoError::NoEnvironment { path, .. } => errors.push(PathError::new(
                            Some(path),
                            FileError::RepoModel(e.to_string()),
                        )),
                        // A policy file the run was not asked about: the model goes on
                        // without it, and says so.
                        RepoError::Io { path, .. } | RepoError::Syntax { path, .. }
                            if !built.configs.contains_key(path) =>
                        {
                            warnings.push(Warning::LeftOutOfRepoModel {
                                path: path.clone(),
                                error: e.to_string(),
                            });
                        }
                        _ => {}
                    }
                }
                repos.push(built);
            }
            Err(e) => errors.push(*e),
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
                for finding in analyse::repo_findings(&built.repo, config) {
                    let path = file_identity(&finding.path);
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
        .map(|built| (built.root.as_path(), built.repo.as_ref()))
        .collect();
    let facts = entries
        .par_iter()
        .filter_map(|(file, _)| {
            let key = model_key(file)?;
            let repo = index.get(key.as_path())?;
            Some((
                file.input.logical_path.clone(),
                analyse::facts(repo, &file.input.logical_path, &file.config),
            ))
        })
        .collect();
    CrossScope {
        findings: findings_of(&repos),
        facts,
    }
}

/// Gives each file the facts of its repo, and collects the cross-scope findings.
pub(super) fn attach_repo_facts(
    files: &mut [Loaded],
    folders: &dyn Folders,
    errors: &mut Vec<PathError>,
    warnings: &mut Vec<Warning>,
) -> BTreeMap<PathBuf, Vec<RepoFinding>> {
    let entries: Vec<(&Loaded, Arc<Document>)> = files
        .iter()
        .filter_map(|f| f.outcome.as_ref().ok().map(|p| (f, Arc::clone(&p.doc))))
        .collect();
    let mut found_warnings = Vec::new();
    let repos = build_repos(&entries, folders, errors, &mut found_warnings);
    // A file the run read itself reports its own error (once): the model's word on it is not
    // repeated as a warning, even when it did not parse.
    let read: std::collections::HashSet<&Path> = files
        .iter()
        .map(|f| f.input.logical_path.as_path())
        .collect();
    warnings.extend(found_warnings.into_iter().filter(|w| match w {
        Warning::LeftOutOfRepoModel { path, .. } => !read.contains(path.as_path()),
        _ => true,
    }));
    let findings = findings_of(&repos);
    let index: HashMap<&Path, &Arc<Repo>> = repos
        .iter()
        .map(|built| (built.root.as_path(), &built.repo))
        .collect();
    files.par_iter_mut().for_each(|file| {
        let Some(repo) = model_key(file).and_then(|key| index.get(key.as_path()).copied()) else {
            return;
        };
        if let Ok(parsed) = &mut file.outcome {
            parsed.facts = analyse::facts(repo, &file.input.logical_path, &file.config);
            parsed.repo = Some(Arc::clone(repo));
        }
    });
    findings
}

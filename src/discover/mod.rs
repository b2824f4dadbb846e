//! From the paths on the command line to the policy files to read.
//!
//! A path naming a file is taken as is, whatever its extension. A folder is walked in
//! parallel for `*.xml` files, skipping hidden entries, what `.gitignore` and
//! `.apimfixignore` files ignore (in a git repository or not), and what the governing
//! config's `exclude` names. Symbolic links found while walking are never followed: a link
//! could lead out of the tree or into a cycle, and writing through it would change a file
//! the user did not name. The result is sorted, so it never depends on thread timing.

use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;

mod walk;

use crate::config::{self, ConfigError, ConfigResolver};

/// What to do with a symbolic link named on the command line (links met while walking are
/// always skipped).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SymlinkPolicy {
    /// Report it as an error.
    #[default]
    Refuse,
    /// Report it as an error, and also a named path whose folder part goes through a link
    /// (`linkdir/policy.xml`): what a writing run needs, so as to write only where the path
    /// says.
    RefuseInPath,
    /// Resolve it once and use its target.
    Follow,
}

/// Whether `.gitignore` (and `.ignore`, `.git/info/exclude`, the global git excludes) hide
/// files while walking. `.apimfixignore` files always do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GitignorePolicy {
    #[default]
    Respect,
    Disregard,
}

/// Whether the config's `exclude` applies to files named on the command line (like ruff's
/// `--force-exclude`, for pre-commit hooks that pass every changed file).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ExplicitFilePolicy {
    /// A file named on the command line is always read.
    #[default]
    Include,
    /// A file named on the command line is skipped when `exclude` matches it.
    ApplyExclude,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiscoverOptions {
    pub symlinks: SymlinkPolicy,
    pub gitignore: GitignorePolicy,
    pub explicit_files: ExplicitFilePolicy,
}

/// A policy file to read.
#[derive(Clone, Debug)]
pub struct DiscoveredFile {
    pub path: PathBuf,
    /// Named on the command line (or the target of a link named there), not found by walking.
    pub explicit: bool,
    /// The config that governs the file, when discovery already looked it up (to apply its
    /// `exclude`), so the caller need not look it up again.
    pub config: Option<Arc<config::LoadedConfig>>,
}

/// Equal when they name the same file the same way; the config is derived from the path.
impl PartialEq for DiscoveredFile {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path && self.explicit == other.explicit
    }
}

impl Eq for DiscoveredFile {}

/// Why a path was left out; for `--verbose`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// A symbolic link met while walking.
    Symlink,
    /// Matched by `exclude` in this config file (`None`: a config built in code).
    Excluded { config: Option<PathBuf> },
    /// Named on the command line with `--force-exclude`, and matched by this ignore file.
    Ignored { file: PathBuf },
    /// A walked `*.xml` whose root is neither `<policies>` nor `<fragment>` (a pom, a config).
    NotAPolicy,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::Symlink => f.write_str("symbolic link, not followed while walking"),
            SkipReason::NotAPolicy => {
                f.write_str("not a policy (its root is neither `<policies>` nor `<fragment>`)")
            }
            SkipReason::Excluded {
                config: Some(config),
            } => {
                write!(f, "excluded by `exclude` in {}", config.display())
            }
            SkipReason::Excluded { config: None } => f.write_str("excluded by `exclude`"),
            SkipReason::Ignored { file } => write!(f, "ignored by {}", file.display()),
        }
    }
}

/// A path that could not be used. Discovery goes on with the others. Display says what went
/// wrong; [`DiscoverError::path`] says where.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    /// A path on the command line that does not exist or cannot be read.
    #[error("{error}")]
    Io { path: PathBuf, error: io::Error },
    #[error("is a symbolic link; pass --follow-symlinks to fix its target")]
    SymlinkNotFollowed { path: PathBuf },
    /// A path on the command line whose folder part goes through a symbolic link.
    #[error(
        "goes through the symbolic link {}; pass --follow-symlinks to fix what it leads to",
        crate::paths::escape_for_display(link)
    )]
    SymlinkInPath { path: PathBuf, link: PathBuf },
    /// An error while walking a folder (unreadable folder, broken ignore file, ...).
    #[error("{error}")]
    Walk {
        path: Option<PathBuf>,
        error: ignore::Error,
    },
    /// The config governing some files does not load; those files are left out.
    #[error(transparent)]
    Config(ConfigError),
}

impl DiscoverError {
    /// The path concerned, if known.
    pub fn path(&self) -> Option<&Path> {
        match self {
            DiscoverError::Io { path, .. }
            | DiscoverError::SymlinkNotFollowed { path }
            | DiscoverError::SymlinkInPath { path, .. } => Some(path),
            DiscoverError::Walk { path, .. } => path.as_deref(),
            DiscoverError::Config(error) => Some(error.path()),
        }
    }
}

/// Everything discovery found; files sorted by the bytes of their paths, the rest by path.
#[derive(Debug, Default)]
pub struct Discovery {
    pub files: Vec<DiscoveredFile>,
    pub errors: Vec<DiscoverError>,
    pub skipped: Vec<(PathBuf, SkipReason)>,
    /// The listings of the folders walked, by absolute path, for the repo model.
    pub listings: crate::folders::Listings,
    /// Temporary files of apimfix's that the walk met (see
    /// [`crate::write::is_stray_temp_name`]): left by a run that was killed. Sorted.
    pub stray_temps: Vec<PathBuf>,
    /// Files and walked folders that were reached through a symbolic link (named, or in
    /// the folder part of a path): what is below them was reached through a link too.
    pub through_links: Vec<PathBuf>,
}

/// Finds the policy files under `paths`.
pub fn discover(
    paths: &[PathBuf],
    options: &DiscoverOptions,
    resolver: &ConfigResolver,
) -> Discovery {
    let found = Found::default();
    let mut roots = Vec::new();
    let mut through_links = Vec::new();

    for path in paths {
        // Checking the last component alone would let `--write linkdir/policy.xml` write
        // wherever `linkdir` leads.
        let link_in_path = folder_link(path);
        if let (Some(link), SymlinkPolicy::RefuseInPath) = (&link_in_path, options.symlinks) {
            found.error(DiscoverError::SymlinkInPath {
                path: path.clone(),
                link: link.clone(),
            });
            continue;
        }
        // `link/` (or `link/.`) as written makes the system follow the link: its last
        // component is looked at without the trailing separator, as a link.
        let last_as_written: PathBuf = path.components().collect();
        let metadata = match fs::symlink_metadata(&last_as_written) {
            Ok(metadata) => metadata,
            Err(error) => {
                found.error(DiscoverError::Io {
                    path: path.clone(),
                    error,
                });
                continue;
            }
        };
        let (path, is_dir) = if metadata.file_type().is_symlink() {
            match options.symlinks {
                SymlinkPolicy::Refuse | SymlinkPolicy::RefuseInPath => {
                    found.error(DiscoverError::SymlinkNotFollowed { path: path.clone() });
                    continue;
                }
                // Resolved here, once: what is read and written later is the target, even if
                // the link changes meanwhile.
                SymlinkPolicy::Follow => {
                    // A link to a pipe (`<(cat policy.xml)` is `/dev/fd/63`) has no path to
                    // resolve to, but can still be read through the link itself.
                    let resolved = fs::canonicalize(path)
                        .and_then(|t| Ok((fs::metadata(&t)?, t)))
                        .or_else(|e| fs::metadata(path).map(|m| (m, path.clone())).map_err(|_| e));
                    match resolved {
                        Ok((metadata, target)) => (target, metadata.is_dir()),
                        Err(error) => {
                            found.error(DiscoverError::Io {
                                path: path.clone(),
                                error,
                            });
                            continue;
                        }
                    }
                }
            }
        } else {
            (path.clone(), metadata.is_dir())
        };
        if link_in_path.is_some() || metadata.file_type().is_symlink() {
            through_links.push(path.clone());
        }
        if is_dir {
            roots.push(path);
        } else if options.explicit_files == ExplicitFilePolicy::ApplyExclude {
            match ignoring_file(&path, options.gitignore) {
                Some(file) => found.skip(path, SkipReason::Ignored { file }),
                None => found.file_if_not_excluded(path, true, resolver),
            }
        } else {
            found.file(path, true);
        }
    }

    if !roots.is_empty() {
        walk::Walk::new(options, resolver, &found).run(&roots);
    }
    // One walked folder and nothing else cannot name a file twice.
    let one_source = paths.len() == 1;
    let mut discovery = found.finish(one_source);
    discovery.through_links = through_links;
    discovery
}

/// The first folder in `path`, as written, that is a symbolic link (`a` in `a/b/c.xml`).
/// The working directory and what leads to it are not looked at.
fn folder_link(path: &Path) -> Option<PathBuf> {
    let mut prefix = PathBuf::new();
    let components: Vec<_> = path.components().collect();
    for component in components.iter().take(components.len().saturating_sub(1)) {
        prefix.push(component);
        if matches!(component, std::path::Component::Normal(_))
            && fs::symlink_metadata(&prefix).is_ok_and(|m| m.file_type().is_symlink())
        {
            return Some(prefix);
        }
    }
    None
}

/// The ignore file (`.apimfixignore`, and `.gitignore` when respected) that ignores `path`,
/// looking in its folder and every folder above, nearest first: a deeper file's rule wins, as
/// while walking. Pre-commit names every staged file, so `--force-exclude` must honour these
/// as a walk would.
fn ignoring_file(path: &Path, gitignore: GitignorePolicy) -> Option<PathBuf> {
    let path = std::path::absolute(path).ok()?;
    let mut names = vec![".apimfixignore"];
    if gitignore == GitignorePolicy::Respect {
        names.push(".gitignore");
    }
    for dir in path.ancestors().skip(1) {
        for name in &names {
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

/// A file the walk hands over: a policy file (`*.xml`), or a file that may hold policies
/// (`*.tf`, `*.bicep`, and `*.json`, which the engine keeps only when it is an ARM template).
fn is_input(path: &Path) -> bool {
    path.extension().is_some_and(|extension| {
        extension.eq_ignore_ascii_case("xml") || crate::host::HostKind::of_path(path).is_some()
    })
}

fn excluded_by(config: &config::LoadedConfig) -> SkipReason {
    SkipReason::Excluded {
        config: config.source.clone(),
    }
}

/// Results gathered from the walker threads.
#[derive(Default)]
struct Found {
    listings: crate::folders::Listings,
    files: Mutex<Vec<DiscoveredFile>>,
    errors: Mutex<Vec<DiscoverError>>,
    skipped: Mutex<Vec<(PathBuf, SkipReason)>>,
    stray_temps: Mutex<Vec<PathBuf>>,
}

impl Found {
    fn stray_temp(&self, path: PathBuf) {
        lock(&self.stray_temps).push(path);
    }

    fn file(&self, path: PathBuf, explicit: bool) {
        lock(&self.files).push(DiscoveredFile {
            path,
            explicit,
            config: None,
        });
    }

    fn walked_file(&self, path: PathBuf, config: Arc<config::LoadedConfig>) {
        lock(&self.files).push(DiscoveredFile {
            path,
            explicit: false,
            config: Some(config),
        });
    }

    fn file_if_not_excluded(&self, path: PathBuf, explicit: bool, resolver: &ConfigResolver) {
        match resolver.for_path(&path) {
            Ok(config) if config.is_excluded(&path) => self.skip(path, excluded_by(&config)),
            Ok(config) => lock(&self.files).push(DiscoveredFile {
                path,
                explicit,
                config: Some(config),
            }),
            Err(error) => self.error(DiscoverError::Config(error)),
        }
    }

    fn skip(&self, path: PathBuf, reason: SkipReason) {
        lock(&self.skipped).push((path, reason));
    }

    fn error(&self, error: DiscoverError) {
        lock(&self.errors).push(error);
    }

    fn finish(self, one_source: bool) -> Discovery {
        let files = into_inner(self.files);
        let mut errors = into_inner(self.errors);
        let mut skipped = into_inner(self.skipped);
        let mut files = if one_source { files } else { unique(files) };
        // By the bytes of the path, as `sort` orders the listed paths (comparing `Path`s
        // goes component by component, which costs far more on a bulk run).
        rayon::slice::ParallelSliceMut::par_sort_unstable_by(files.as_mut_slice(), |a, b| {
            a.path
                .as_os_str()
                .as_encoded_bytes()
                .cmp(b.path.as_os_str().as_encoded_bytes())
        });

        // A broken config is reported once, not once per file it governs.
        let mut seen_config_errors = Vec::new();
        errors.retain(|error| match error {
            DiscoverError::Config(config_error) => {
                let key = (config_error.path().to_owned(), config_error.to_string());
                if seen_config_errors.contains(&key) {
                    false
                } else {
                    seen_config_errors.push(key);
                    true
                }
            }
            _ => true,
        });
        errors.sort_by_cached_key(|error| (error.path().map(Path::to_owned), error.to_string()));

        skipped.sort_by(|a, b| a.0.cmp(&b.0));
        skipped.dedup_by(|a, b| a.0 == b.0);
        let mut stray_temps = into_inner(self.stray_temps);
        stray_temps.sort();
        stray_temps.dedup();

        Discovery {
            listings: self.listings,
            files,
            errors,
            skipped,
            stray_temps,
            through_links: Vec::new(),
        }
    }
}

/// One entry per file however it was named (`a.xml`, `./a.xml`, via two roots): explicit if
/// named explicitly once, shown by the smallest of its spellings.
fn unique(files: Vec<DiscoveredFile>) -> Vec<DiscoveredFile> {
    let mut unique: HashMap<PathBuf, DiscoveredFile> = HashMap::new();
    for file in files {
        let key = crate::paths::absolute(&file.path);
        match unique.get_mut(&key) {
            None => {
                unique.insert(key, file);
            }
            Some(kept) => {
                if (file.explicit, std::cmp::Reverse(&file.path))
                    > (kept.explicit, std::cmp::Reverse(&kept.path))
                {
                    kept.path = file.path;
                }
                kept.explicit |= file.explicit;
            }
        }
    }
    unique.into_values().collect()
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn into_inner<T>(mutex: Mutex<T>) -> T {
    mutex
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

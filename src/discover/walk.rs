//! The folder walk: one `read_dir` per folder, folders walked in parallel.
//!
//! The walk reads what it needs from each folder's listing: which entries are folders,
//! files or links, and whether the folder holds an ignore file or a config file. A name the
//! listing lacks costs no system call, which matters on a bulk run: a generic walker
//! probes every folder for each ignore and config file name, and that was half the walk.
//!
//! Ignore rules follow the `ignore` crate's walker (ripgrep's), whose matchers it uses:
//! `.apimfixignore` first, then `.ignore`, `.gitignore` and `.git/info/exclude`, then the
//! global git excludes; within one kind the deepest folder with a matching line decides;
//! ignore files in the folders above a walked root apply too, in a git repository or not;
//! hidden entries are skipped unless a whitelist line names them.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};

use super::{
    DiscoverError, DiscoverOptions, Found, GitignorePolicy, SkipReason, excluded_by, is_input,
};
use crate::config::{ConfigError, ConfigResolver, LoadedConfig, PathKind};
use crate::folders::{EntryKind, Listing, read_entries};

type ConfigResult = Result<Arc<LoadedConfig>, ConfigError>;

/// The ignore matchers of one folder, linked to those of the folder above.
struct IgnoreLevel {
    parent: Option<Arc<IgnoreLevel>>,
    /// In precedence order: `.apimfixignore`, `.ignore`, `.gitignore`, `.git/info/exclude`.
    matchers: [Option<Gitignore>; 4],
    /// A folder above the walked root: its matchers see absolute paths.
    above_root: bool,
}

impl IgnoreLevel {
    /// Whether the rules of every level from this one up ignore (`Some(true)`) or
    /// whitelist (`Some(false)`) `path`.
    fn decide(&self, path: &Path, absolute: &dyn Fn() -> PathBuf, is_dir: bool) -> Option<bool> {
        let mut decided: [Option<bool>; 4] = [None; 4];
        let mut absolute_path: Option<PathBuf> = None;
        let mut level = Some(self);
        while let Some(current) = level {
            for (kind, matcher) in current.matchers.iter().enumerate() {
                let Some(matcher) = matcher else { continue };
                if decided[kind].is_some() {
                    continue;
                }
                let target: &Path = if current.above_root {
                    absolute_path.get_or_insert_with(absolute)
                } else {
                    path
                };
                decided[kind] = verdict(matcher.matched(target, is_dir));
            }
            level = current.parent.as_deref();
        }
        decided.into_iter().flatten().next()
    }
}

fn verdict<T>(m: Match<T>) -> Option<bool> {
    match m {
        Match::None => None,
        Match::Ignore(_) => Some(true),
        Match::Whitelist(_) => Some(false),
    }
}

/// A matcher for `dir` from the ignore files given (those that exist), rooted at `dir`.
///
/// As the `ignore` crate does: an ignore file that cannot be read is passed over, and so is
/// a bad line in one inside the walked tree (a stray `.gitignore` must not fail a CI run);
/// bad lines in the ignore files above the walked root are reported.
fn matcher(dir: &Path, files: &[PathBuf], found: &Found, above_root: bool) -> Option<Gitignore> {
    if files.is_empty() {
        return None;
    }
    let report = |path: &Path, error: ignore::Error| {
        if above_root && !is_io(&error) {
            found.error(DiscoverError::Walk {
                path: Some(path.to_path_buf()),
                error,
            });
        }
    };
    let mut builder = GitignoreBuilder::new(dir);
    for file in files {
        if let Some(error) = builder.add(file) {
            report(file, error);
        }
    }
    match builder.build() {
        Ok(matcher) if !matcher.is_empty() => Some(matcher),
        Ok(_) => None,
        Err(error) => {
            report(dir, error);
            None
        }
    }
}

/// Whether `error` is only about reading a file (not about its lines).
fn is_io(error: &ignore::Error) -> bool {
    match error {
        ignore::Error::Io(_) => true,
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => is_io(err),
        ignore::Error::Partial(errors) => errors.iter().all(is_io),
        _ => false,
    }
}

/// The ignore level of `dir`: `has_file(name)` says whether it holds the ignore file `name`,
/// `git_root` whether it holds `.git` (a folder, or a file in a worktree).
fn level_for(
    dir: &Path,
    has_file: &dyn Fn(&str) -> bool,
    git_root: bool,
    options: &DiscoverOptions,
    parent: Option<Arc<IgnoreLevel>>,
    above_root: bool,
    found: &Found,
) -> Option<Arc<IgnoreLevel>> {
    let respect = options.gitignore == GitignorePolicy::Respect;
    let file = |name: &str| -> Vec<PathBuf> {
        if has_file(name) {
            vec![dir.join(name)]
        } else {
            Vec::new()
        }
    };
    let git_root = respect && git_root;
    let mut matchers: [Option<Gitignore>; 4] = [
        matcher(dir, &file(".apimfixignore"), found, above_root),
        None,
        None,
        None,
    ];
    if respect {
        matchers[1] = matcher(dir, &file(".ignore"), found, above_root);
        matchers[2] = matcher(dir, &file(".gitignore"), found, above_root);
        if git_root {
            let exclude = dir.join(".git").join("info").join("exclude");
            if exclude.is_file() {
                matchers[3] = matcher(dir, &[exclude], found, above_root);
            }
        }
    }
    if matchers.iter().all(Option::is_none) {
        return parent;
    }
    Some(Arc::new(IgnoreLevel {
        parent,
        matchers,
        above_root,
    }))
}

/// The levels of the folders above `root`, outermost first. `root` is resolved: a root
/// named through a linked folder takes the ignore files above its target, as the `ignore`
/// crate does.
fn levels_above(
    resolved_root: &Path,
    options: &DiscoverOptions,
    found: &Found,
) -> Option<Arc<IgnoreLevel>> {
    let ancestors: Vec<&Path> = resolved_root.ancestors().skip(1).collect();
    let mut level = None;
    for dir in ancestors.into_iter().rev() {
        let has_file = |name: &str| dir.join(name).is_file();
        let git_root = dir.join(".git").exists();
        level = level_for(dir, &has_file, git_root, options, level, true, found);
    }
    level
}

/// A walked root, as named, made absolute and resolved.
struct Root {
    given: PathBuf,
    /// Absolute, `..` kept: how the rest of the run spells the paths below the root, so the
    /// folder listings are filed under names that cannot mean another folder (`link/..`).
    absolute: PathBuf,
    /// Links resolved: the ignore files above the root are those above this.
    resolved: PathBuf,
}

impl Root {
    fn new(given: &Path) -> Root {
        let absolute = std::path::absolute(given).unwrap_or_else(|_| given.to_path_buf());
        let resolved =
            std::fs::canonicalize(given).unwrap_or_else(|_| crate::paths::absolute(given));
        Root {
            given: given.to_path_buf(),
            absolute,
            resolved,
        }
    }

    fn below(&self, base: &Path, path: &Path) -> PathBuf {
        match path.strip_prefix(&self.given) {
            Ok(below) if below.as_os_str().is_empty() => base.to_path_buf(),
            Ok(below) => base.join(below),
            Err(_) => crate::paths::absolute(path),
        }
    }

    /// Where the run files the listing of `dir`.
    fn listing_key(&self, dir: &Path) -> PathBuf {
        self.below(&self.absolute, dir)
    }

    /// `path` below the resolved root, for the ignore files above it.
    fn resolved_path(&self, path: &Path) -> PathBuf {
        self.below(&self.resolved, path)
    }
}

pub(super) struct Walk<'a> {
    pub options: &'a DiscoverOptions,
    pub resolver: &'a ConfigResolver,
    pub found: &'a Found,
    /// `core.excludesFile`, applied after every other ignore file.
    global: Option<Gitignore>,
}

impl<'a> Walk<'a> {
    pub fn new(
        options: &'a DiscoverOptions,
        resolver: &'a ConfigResolver,
        found: &'a Found,
    ) -> Self {
        let global = (options.gitignore == GitignorePolicy::Respect)
            .then(|| Gitignore::global().0)
            .filter(|global| !global.is_empty());
        Walk {
            options,
            resolver,
            found,
            global,
        }
    }

    pub fn run(&self, roots: &[PathBuf]) {
        rayon::scope(|scope| {
            for root in roots {
                let root = Arc::new(Root::new(root));
                let above = levels_above(&root.resolved, self.options, self.found);
                scope.spawn(move |scope| {
                    self.folder(scope, root.given.clone(), above, None, root);
                });
            }
        });
    }

    fn folder<'s>(
        &'s self,
        scope: &rayon::Scope<'s>,
        dir: PathBuf,
        ignores: Option<Arc<IgnoreLevel>>,
        parent_config: Option<ConfigResult>,
        root: Arc<Root>,
    ) {
        let entries = match read_entries(&dir) {
            Ok(entries) => entries,
            Err(error) => {
                self.found.error(DiscoverError::Walk {
                    path: Some(dir.clone()),
                    error: ignore::Error::WithPath {
                        path: dir,
                        err: Box::new(ignore::Error::Io(error)),
                    },
                });
                return;
            }
        };
        let listing = Arc::new(Listing::from_entries(&entries));
        self.found
            .listings
            .insert(&root.listing_key(&dir), Arc::clone(&listing));
        let has_file = |name: &str| listing.has_file(&dir, name);
        let ignores = level_for(
            &dir,
            &has_file,
            listing.has(".git"),
            self.options,
            ignores,
            false,
            self.found,
        );
        let config = self
            .resolver
            .for_listed_dir(&dir, has_file, parent_config.as_ref());
        let mut files = Vec::new();
        for (name, kind) in &entries {
            let path = dir.join(name);
            // Reported whatever the ignore files say: ours, and left by a killed run.
            if *kind == EntryKind::File && crate::write::is_stray_temp_name(name) {
                self.found.stray_temp(path);
                continue;
            }
            let is_dir = *kind == EntryKind::Dir;
            let absolute = || root.resolved_path(&path);
            let decided = ignores
                .as_deref()
                .and_then(|level| level.decide(&path, &absolute, is_dir));
            let decided = decided.or_else(|| {
                self.global
                    .as_ref()
                    .and_then(|global| verdict(global.matched(&path, is_dir)))
            });
            match decided {
                Some(true) => continue,
                Some(false) => {}
                None if is_hidden(name) => continue,
                None => {}
            }
            if *kind == EntryKind::Symlink {
                self.found.skip(path, SkipReason::Symlink);
                continue;
            }
            if is_dir {
                if let Ok(config) = &config {
                    if config.is_excluded_as(&path, PathKind::Dir) {
                        self.found.skip(path, excluded_by(config));
                        continue;
                    }
                }
                let ignores = ignores.clone();
                let config = config.clone();
                let root = Arc::clone(&root);
                scope.spawn(move |scope| {
                    self.folder(scope, path, ignores, Some(config), root);
                });
            } else if *kind == EntryKind::File && is_input(&path) {
                files.push(path);
            }
        }
        for path in files {
            match &config {
                Ok(config) if config.is_excluded(&path) => {
                    self.found.skip(path, excluded_by(config))
                }
                Ok(config) => self.found.walked_file(path, Arc::clone(config)),
                Err(error) => self.found.error(DiscoverError::Config(error.clone())),
            }
        }
    }
}

fn is_hidden(name: &OsStr) -> bool {
    name.as_encoded_bytes().first() == Some(&b'.')
}

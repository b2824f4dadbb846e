//! Which config governs a file: [`LoadedConfig`] is one parsed file with its globs compiled,
//! and [`ConfigResolver`] finds the file that governs a given policy file, the way ruff does:
//! the nearest config file above it wins, and files are never merged.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use crate::paths::{absolute, absolute_in, normalize};
use std::str::FromStr;
use std::sync::{Arc, PoisonError, RwLock};

use ignore::Match;
use ignore::gitignore::Gitignore;

use super::error::ConfigError;
use super::schema::{Config, GlobUse, compile_globs};
use crate::layout::Scope;
use crate::rules::Rule;

/// Whether a path names a file or a folder, which matters for globs ending in `/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathKind {
    File,
    Dir,
}

/// A config with its globs compiled, ready to answer questions about paths.
#[derive(Clone, Debug)]
pub struct LoadedConfig {
    pub config: Config,
    /// The file it came from; `None` for the built-in defaults.
    pub source: Option<PathBuf>,
    /// The absolute folder that globs are relative to.
    pub base_dir: PathBuf,
    exclude: Gitignore,
    per_file_ignores: Vec<(Gitignore, Vec<Rule>)>,
    /// Sorted by precedence: the first match wins.
    scopes: Vec<(Gitignore, Scope)>,
}

impl LoadedConfig {
    /// Reads and parses a config file. Globs are relative to the file's folder.
    pub fn from_file(path: &Path) -> Result<LoadedConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Io {
            path: path.to_owned(),
            error: Arc::new(error),
        })?;
        Self::from_str(&text, path)
    }

    /// Parses config text as if read from `path`, which is named in errors and whose folder
    /// globs are relative to.
    pub fn from_str(text: &str, path: &Path) -> Result<LoadedConfig, ConfigError> {
        // An empty file, or one with only comments, is not a YAML mapping; it means defaults.
        let config = yaml_serde::from_str::<Option<Config>>(text)
            .map_err(|err| ConfigError::parse(path, &err))?
            .unwrap_or_default();
        let base_dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => absolute(parent),
            _ => absolute(Path::new(".")),
        };
        Self::new(config, Some(path.to_owned()), base_dir)
    }

    /// The built-in defaults, with globs (there are none) relative to `base_dir`.
    pub fn defaults(base_dir: &Path) -> LoadedConfig {
        LoadedConfig {
            config: Config::default(),
            source: None,
            base_dir: absolute(base_dir),
            exclude: Gitignore::empty(),
            per_file_ignores: Vec::new(),
            scopes: Vec::new(),
        }
    }

    /// Compiles a config built in code (e.g. defaults changed by command-line flags).
    /// `source` is named in errors; `base_dir` is made absolute.
    pub fn new(
        config: Config,
        source: Option<PathBuf>,
        base_dir: PathBuf,
    ) -> Result<LoadedConfig, ConfigError> {
        let base_dir = absolute(&base_dir);
        let error_path = source.clone().unwrap_or_else(|| base_dir.clone());
        let invalid_glob = |(glob, message): (String, String)| ConfigError::InvalidGlob {
            path: error_path.clone(),
            glob,
            message,
        };

        let exclude =
            compile_globs(&base_dir, &config.exclude, GlobUse::Exclude).map_err(invalid_glob)?;

        let mut per_file_ignores = Vec::with_capacity(config.per_file_ignores.len());
        for (glob, names) in &config.per_file_ignores {
            let matcher = compile_globs(&base_dir, [glob], GlobUse::Match).map_err(invalid_glob)?;
            let rules = names
                .iter()
                .map(|name| {
                    Rule::from_str(name).map_err(|e| ConfigError::UnknownRule {
                        path: error_path.clone(),
                        glob: glob.clone(),
                        name: name.clone(),
                        message: e.to_string(),
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            per_file_ignores.push((matcher, rules));
        }

        let mut ordered: Vec<(&String, Scope)> =
            config.scopes.iter().map(|(g, s)| (g, *s)).collect();
        // Longest glob first; the sort is stable, so equal lengths keep the map's order.
        ordered.sort_by_key(|(glob, _)| std::cmp::Reverse(glob.chars().count()));
        let scopes = ordered
            .into_iter()
            .map(|(glob, scope)| {
                compile_globs(&base_dir, [glob], GlobUse::Match)
                    .map(|matcher| (matcher, scope))
                    .map_err(invalid_glob)
            })
            .collect::<Result<Vec<_>, _>>()?;

        Ok(LoadedConfig {
            config,
            source,
            base_dir,
            exclude,
            per_file_ignores,
            scopes,
        })
    }

    /// Whether `exclude` keeps the file `path` from being read.
    pub fn is_excluded(&self, path: &Path) -> bool {
        self.is_excluded_as(path, PathKind::File)
    }

    /// Whether `exclude` keeps `path`, a file or a folder, from being read.
    pub fn is_excluded_as(&self, path: &Path, kind: PathKind) -> bool {
        // Asked for every file and folder of a walk: most configs exclude nothing, and
        // making the path relative costs a `getcwd`.
        if self.exclude.is_empty() {
            return false;
        }
        let relative = self.relative(path);
        matches!(
            self.exclude
                .matched_path_or_any_parents(&relative, kind == PathKind::Dir),
            Match::Ignore(_)
        )
    }

    /// Whether `per-file-ignores` silences `rule` in the file `path`.
    pub fn is_rule_ignored(&self, path: &Path, rule: Rule) -> bool {
        if !self
            .per_file_ignores
            .iter()
            .any(|(_, rules)| rules.contains(&rule))
        {
            return false;
        }
        let relative = self.relative(path);
        self.per_file_ignores
            .iter()
            .any(|(matcher, rules)| rules.contains(&rule) && glob_matches(matcher, &relative))
    }

    /// The scope `scopes` gives the file `path`, if a glob matches. See [`Config::scopes`]
    /// for which glob wins.
    pub fn scope_for(&self, path: &Path) -> Option<Scope> {
        if self.scopes.is_empty() {
            return None;
        }
        let relative = self.relative(path);
        self.scopes
            .iter()
            .find(|(matcher, _)| glob_matches(matcher, &relative))
            .map(|(_, scope)| *scope)
    }

    /// `path` relative to `base_dir`. A path outside `base_dir` keeps all its components
    /// (without the root), so that unanchored globs still match it and anchored ones do not.
    fn relative(&self, path: &Path) -> PathBuf {
        let path = absolute(path);
        match path.strip_prefix(&self.base_dir) {
            Ok(relative) => relative.to_owned(),
            Err(_) => path
                .components()
                .filter(|c| matches!(c, Component::Normal(_)))
                .collect(),
        }
    }
}

fn glob_matches(matcher: &Gitignore, relative: &Path) -> bool {
    matches!(
        matcher.matched_path_or_any_parents(relative, false),
        Match::Ignore(_)
    )
}

/// The config file names looked for in each folder, the first found winning.
///
/// `.apimfix.yaml` comes first so that a repository can keep an unrelated `rules.yaml`
/// next to the one that configures apimfix.
pub const CONFIG_FILE_NAMES: [&str; 2] = [".apimfix.yaml", "rules.yaml"];

/// Finds the config that governs each file, caching per folder. Safe to share between
/// threads.
#[derive(Debug)]
pub struct ConfigResolver {
    explicit: Option<Arc<LoadedConfig>>,
    defaults: Arc<LoadedConfig>,
    cwd: PathBuf,
    /// Folder -> config file found in it or above it (`None`: none up to the root).
    dirs: RwLock<HashMap<PathBuf, Option<PathBuf>>>,
    /// Config file -> its parse.
    files: RwLock<HashMap<PathBuf, Result<Arc<LoadedConfig>, ConfigError>>>,
}

impl ConfigResolver {
    /// With `explicit` (`--config`), every file uses that config; otherwise each file uses
    /// the nearest config file above it, or the built-in defaults rooted at the current
    /// directory.
    pub fn new(explicit: Option<&Path>) -> Result<Self, ConfigError> {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        Self::with_cwd(explicit, &cwd)
    }

    /// Like [`ConfigResolver::new`], with relative paths resolved against `cwd` instead of
    /// the process's current directory.
    pub fn with_cwd(explicit: Option<&Path>, cwd: &Path) -> Result<Self, ConfigError> {
        let cwd = normalize(cwd);
        let explicit = explicit
            .map(|path| LoadedConfig::from_file(&absolute_in(path, &cwd)).map(Arc::new))
            .transpose()?;
        Ok(Self {
            explicit,
            defaults: Arc::new(LoadedConfig::defaults(&cwd)),
            cwd,
            dirs: RwLock::new(HashMap::new()),
            files: RwLock::new(HashMap::new()),
        })
    }

    /// The config for `file` (a file or a folder: the search starts in its parent).
    pub fn for_path(&self, file: &Path) -> Result<Arc<LoadedConfig>, ConfigError> {
        if let Some(explicit) = &self.explicit {
            return Ok(Arc::clone(explicit));
        }
        let file = absolute_in(file, &self.cwd);
        let Some(dir) = file.parent() else {
            return Ok(Arc::clone(&self.defaults));
        };
        match self.config_file_for_dir(dir) {
            Some(config_file) => self.load(&config_file),
            None => Ok(Arc::clone(&self.defaults)),
        }
    }

    /// The config for the entries of `dir`, a folder a walker has just listed: `holds(name)`
    /// says whether the listing has a file of that name, so names it lacks cost no file
    /// system call. `parent` is the config of the entries of the folder above, when the
    /// walker came from there; else the search goes up from `dir`.
    pub fn for_listed_dir(
        &self,
        dir: &Path,
        holds: impl Fn(&str) -> bool,
        parent: Option<&Result<Arc<LoadedConfig>, ConfigError>>,
    ) -> Result<Arc<LoadedConfig>, ConfigError> {
        if let Some(explicit) = &self.explicit {
            return Ok(Arc::clone(explicit));
        }
        let dir = absolute_in(dir, &self.cwd);
        for name in CONFIG_FILE_NAMES {
            if holds(name) {
                let candidate = dir.join(name);
                if candidate.ends_with(".apimfix.yaml") || looks_like_ours(&candidate) {
                    return self.load(&candidate);
                }
            }
        }
        match parent {
            Some(parent) => parent.clone(),
            None => match self.config_file_for_dir(&dir) {
                Some(config_file) => self.load(&config_file),
                None => Ok(Arc::clone(&self.defaults)),
            },
        }
    }

    /// The nearest config file in `dir` or above.
    fn config_file_for_dir(&self, dir: &Path) -> Option<PathBuf> {
        let mut visited = Vec::new();
        let mut found = None;
        {
            let cache = self.dirs.read().unwrap_or_else(PoisonError::into_inner);
            for ancestor in dir.ancestors() {
                if let Some(cached) = cache.get(ancestor) {
                    found = cached.clone();
                    break;
                }
                if let Some(file) = config_file_in(ancestor) {
                    visited.push(ancestor);
                    found = Some(file);
                    break;
                }
                visited.push(ancestor);
            }
        }
        if !visited.is_empty() {
            let mut cache = self.dirs.write().unwrap_or_else(PoisonError::into_inner);
            for ancestor in visited {
                cache.insert(ancestor.to_owned(), found.clone());
            }
        }
        found
    }

    fn load(&self, config_file: &Path) -> Result<Arc<LoadedConfig>, ConfigError> {
        if let Some(cached) = self
            .files
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(config_file)
        {
            return cached.clone();
        }
        // Parsed outside the lock; if two threads race, the first insert wins so every
        // caller shares one `LoadedConfig`.
        let loaded = LoadedConfig::from_file(config_file).map(Arc::new);
        self.files
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(config_file.to_owned())
            .or_insert(loaded)
            .clone()
    }
}

fn config_file_in(dir: &Path) -> Option<PathBuf> {
    CONFIG_FILE_NAMES
        .iter()
        .map(|name| dir.join(name))
        .find(|candidate| {
            candidate.is_file()
                && (candidate.ends_with(".apimfix.yaml") || looks_like_ours(candidate))
        })
}

/// Whether a discovered `rules.yaml` is meant for apimfix. The name is common (Prometheus
/// alert rules, Semgrep rules...): a YAML mapping none of whose keys is ours belongs to
/// another tool, and discovery looks further up instead of failing the run. Anything else,
/// an empty file or broken YAML included, is taken as ours, so its errors are reported.
fn looks_like_ours(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return true;
    };
    use yaml_serde::Value;
    match yaml_serde::from_str::<Value>(&text) {
        // Ours has one of our keys with our shape: Semgrep's `rules:` is a list, ours a map.
        Ok(Value::Mapping(map)) if !map.is_empty() => map.iter().any(|(k, v)| match k.as_str() {
            Some("rules" | "format" | "per-file-ignores" | "scopes") => {
                v.is_mapping() || v.is_null()
            }
            Some("exclude") => v.is_sequence() || v.is_null(),
            Some("unsafe-fixes") => v.is_bool(),
            Some("environment") => v.is_string(),
            _ => false,
        }),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_tools_rules_yaml_is_passed_over() {
        let root = tempfile::tempdir().unwrap();
        let repo = root.path().join("repo");
        std::fs::create_dir_all(repo.join("alerts")).unwrap();
        std::fs::write(
            root.path().join("rules.yaml"),
            "rules:\n  base-missing: false\n",
        )
        .unwrap();
        std::fs::write(
            repo.join("alerts/rules.yaml"),
            "groups:\n  - name: api\n    rules: []\n",
        )
        .unwrap();
        let resolver = ConfigResolver::with_cwd(None, root.path()).unwrap();
        let config = resolver.for_path(&repo.join("alerts/policy.xml")).unwrap();
        assert_eq!(
            config.source.as_deref(),
            Some(root.path().join("rules.yaml").as_path())
        );
        std::fs::write(repo.join("alerts/rules.yaml"), "rules:\n  nope: true\n").unwrap();
        let fresh = ConfigResolver::with_cwd(None, root.path()).unwrap();
        assert!(
            fresh.for_path(&repo.join("alerts/policy.xml")).is_err(),
            "ours, with an error, is reported"
        );
    }
}

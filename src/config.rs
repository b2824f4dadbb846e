//! `rules.yaml`: which rules run, with which options, on which files.
//!
//! The types here are the schema. Unknown keys are rejected, so a typo never silently turns
//! into a default. [`LoadedConfig`] is one parsed file with its globs compiled, and
//! [`ConfigResolver`] finds the file that governs a given policy file, the way ruff does:
//! the nearest config file above it wins, and files are never merged.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, PoisonError, RwLock};

use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use crate::format::FormatOptions;
use crate::rules::{Rule, RuleSettings};
use crate::scope::Scope;

/// A whole configuration file.
///
/// Every glob is gitignore-style and relative to the config file's folder: a glob without a
/// `/` (other than a trailing one) matches at any depth, one with a `/` is anchored, a
/// trailing `/` matches folders only, and a glob that matches a folder matches everything
/// below it.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(
    rename_all = "kebab-case",
    deny_unknown_fields,
    default,
    expecting = "a map of configuration keys (`rules`, `format`, `exclude`, ...)"
)]
pub struct Config {
    pub rules: RuleSettings,
    pub format: FormatOptions,
    /// Globs (gitignore-style, relative to the config file's folder) of files never read.
    /// `!glob` re-includes, as in `.gitignore`.
    #[serde(deserialize_with = "de_exclude")]
    pub exclude: Vec<String>,
    /// Globs mapped to rule names that are not reported for matching files.
    #[serde(deserialize_with = "de_per_file_ignores")]
    pub per_file_ignores: std::collections::BTreeMap<String, Vec<String>>,
    /// Globs mapped to the scope of matching files, for layouts the path rules do not know.
    /// When several globs match, the longest glob wins, and between globs of equal length
    /// the one that sorts first; the order in the file does not matter (it is not kept).
    #[serde(deserialize_with = "de_scopes")]
    pub scopes: std::collections::BTreeMap<String, Scope>,
    /// Apply fixes that change what the gateway does (see each rule's "Fix safety").
    pub unsafe_fixes: bool,
}

// Globs and rule names are checked while deserializing, not afterwards, so that an error
// carries the line and column of the offending key or item.

/// A glob as written in `exclude`, checked while parsing.
struct ExcludeGlob(String);

/// A glob as written as a key of `per-file-ignores` or `scopes`, checked while parsing.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct MatchGlob(String);

/// A rule name in `per-file-ignores`, checked while parsing.
struct RuleName(String);

/// Deserializes a string and checks it with `check`, inside the string's own
/// `deserialize_str` call so that the format stamps the error with the string's position.
fn de_checked_str<'de, D, T>(
    deserializer: D,
    what: &'static str,
    check: fn(String) -> Result<T, String>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    struct CheckedVisitor<T> {
        what: &'static str,
        check: fn(String) -> Result<T, String>,
    }

    impl<T> Visitor<'_> for CheckedVisitor<T> {
        type Value = T;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.what)
        }

        fn visit_str<E: de::Error>(self, value: &str) -> Result<T, E> {
            (self.check)(value.to_owned()).map_err(E::custom)
        }
    }

    deserializer.deserialize_str(CheckedVisitor { what, check })
}

impl<'de> Deserialize<'de> for ExcludeGlob {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        de_checked_str(deserializer, "a glob", |glob| {
            check_glob(&glob, GlobUse::Exclude).map(|()| ExcludeGlob(glob))
        })
    }
}

impl<'de> Deserialize<'de> for MatchGlob {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        de_checked_str(deserializer, "a glob", |glob| {
            check_glob(&glob, GlobUse::Match).map(|()| MatchGlob(glob))
        })
    }
}

impl<'de> Deserialize<'de> for RuleName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        de_checked_str(deserializer, "a rule name", |name| {
            Rule::from_str(&name)
                .map(|_| RuleName(name))
                .map_err(|e| e.to_string())
        })
    }
}

fn de_exclude<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    let globs = Vec::<ExcludeGlob>::deserialize(deserializer)?;
    Ok(globs.into_iter().map(|g| g.0).collect())
}

fn de_per_file_ignores<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, Vec<String>>, D::Error> {
    let map = BTreeMap::<MatchGlob, Vec<RuleName>>::deserialize(deserializer)?;
    Ok(map
        .into_iter()
        .map(|(glob, names)| (glob.0, names.into_iter().map(|n| n.0).collect()))
        .collect())
}

fn de_scopes<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, Scope>, D::Error> {
    let map = BTreeMap::<MatchGlob, Scope>::deserialize(deserializer)?;
    Ok(map
        .into_iter()
        .map(|(glob, scope)| (glob.0, scope))
        .collect())
}

/// Where a glob is used: only `exclude` has a use for `!` (re-include).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum GlobUse {
    Exclude,
    Match,
}

/// Compiles globs into one matcher with gitignore semantics (later globs override earlier
/// ones, so `!` re-includes), rooted at `base_dir`. The error names the offending glob.
fn compile_globs<'a>(
    base_dir: &Path,
    globs: impl IntoIterator<Item = &'a String>,
    glob_use: GlobUse,
) -> Result<Gitignore, (String, String)> {
    let mut builder = GitignoreBuilder::new(base_dir);
    // Unclosed `[` is taken literally by git; a config is written by hand, so say so instead.
    builder.allow_unclosed_class(false);
    for glob in globs {
        check_glob_text(glob, glob_use).map_err(|message| (glob.clone(), message))?;
        builder
            .add_line(None, glob)
            .map_err(|err| (glob.clone(), glob_error_message(&err)))?;
    }
    builder
        .build()
        .map_err(|err| (String::new(), glob_error_message(&err)))
}

fn check_glob(glob: &str, glob_use: GlobUse) -> Result<(), String> {
    compile_globs(Path::new("."), [&glob.to_owned()], glob_use)
        .map(|_| ())
        .map_err(|(_, message)| message)
}

/// Rejects what gitignore would silently take as something else.
fn check_glob_text(glob: &str, glob_use: GlobUse) -> Result<(), String> {
    if glob.trim().is_empty() {
        return Err("empty glob".to_owned());
    }
    if glob.starts_with('#') {
        return Err(format!(
            "glob `{glob}` starts with `#`, which gitignore syntax reads as a comment; write `\\{glob}`"
        ));
    }
    if glob_use == GlobUse::Match && glob.starts_with('!') {
        return Err(format!(
            "glob `{glob}`: `!` (re-include) only has a meaning in `exclude`"
        ));
    }
    Ok(())
}

fn glob_error_message(err: &ignore::Error) -> String {
    match err {
        ignore::Error::Glob {
            glob: Some(glob),
            err,
        } => format!("invalid glob `{glob}`: {err}"),
        other => format!("invalid glob: {other}"),
    }
}

/// A position in a config file, 1-based.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

/// Why a config file could not be used. Cloneable so that one broken file can be reported
/// for every policy file it governs without being parsed again.
#[derive(Clone, Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: error: cannot read config file: {error}", path.display())]
    Io {
        path: PathBuf,
        error: Arc<io::Error>,
    },
    /// Not YAML, or YAML that does not fit the schema (unknown key, wrong type, bad glob or
    /// rule name in the file).
    #[error("{}: error: {message}", located(path, *location))]
    Parse {
        path: PathBuf,
        location: Option<Location>,
        message: String,
    },
    /// A glob that does not compile, in a [`Config`] built in code.
    #[error("{}: error: invalid glob `{glob}`: {message}", path.display())]
    InvalidGlob {
        path: PathBuf,
        glob: String,
        message: String,
    },
    /// An unknown rule name in `per-file-ignores`, in a [`Config`] built in code.
    #[error("{}: error: per-file-ignores `{glob}`: {message}", path.display())]
    UnknownRule {
        path: PathBuf,
        glob: String,
        name: String,
        message: String,
    },
}

impl ConfigError {
    /// Where in the config file, when known.
    pub fn location(&self) -> Option<Location> {
        match self {
            ConfigError::Parse { location, .. } => *location,
            _ => None,
        }
    }

    /// What is wrong, without the file and position (see [`ConfigError::path`] and
    /// [`ConfigError::location`]), for callers that show those their own way.
    pub fn message(&self) -> String {
        match self {
            ConfigError::Io { error, .. } => format!("cannot read config file: {error}"),
            ConfigError::Parse { message, .. } => message.clone(),
            ConfigError::InvalidGlob { glob, message, .. } => {
                format!("invalid glob `{glob}`: {message}")
            }
            ConfigError::UnknownRule { glob, message, .. } => {
                format!("per-file-ignores `{glob}`: {message}")
            }
        }
    }

    /// The config file concerned.
    pub fn path(&self) -> &Path {
        match self {
            ConfigError::Io { path, .. }
            | ConfigError::Parse { path, .. }
            | ConfigError::InvalidGlob { path, .. }
            | ConfigError::UnknownRule { path, .. } => path,
        }
    }

    fn parse(path: &Path, err: &yaml_serde::Error) -> Self {
        let location = err.location().map(|l| Location {
            line: l.line(),
            column: l.column(),
        });
        let mut message = err.to_string();
        // The location is printed as `PATH:LINE:COLUMN`; drop yaml_serde's own copy of it.
        if let Some(Location { line, column }) = location {
            let suffix = format!(" at line {line} column {column}");
            if let Some(start) = message.find(&suffix) {
                message.replace_range(start..start + suffix.len(), "");
            }
        }
        ConfigError::Parse {
            path: path.to_owned(),
            location,
            message,
        }
    }
}

fn located(path: &Path, location: Option<Location>) -> String {
    match location {
        Some(Location { line, column }) => format!("{}:{line}:{column}", path.display()),
        None => path.display().to_string(),
    }
}

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

/// `path` made absolute against the current directory, with `.` and `..` removed
/// lexically (symlinks are not resolved: globs match the path the user sees).
pub fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        return normalize(path);
    }
    match std::env::current_dir() {
        Ok(cwd) => absolute_in(path, &cwd),
        // Without a current directory a relative path can still be matched as written.
        Err(_) => normalize(path),
    }
}

/// `path` made absolute against `cwd`, with `.` and `..` removed lexically.
pub fn absolute_in(path: &Path, cwd: &Path) -> PathBuf {
    normalize(&cwd.join(path))
}

fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                // `..` at the root stays at the root, as the OS does.
                Some(Component::RootDir | Component::Prefix(_)) => {}
                // A relative path climbing above its start keeps its `..`.
                None | Some(Component::ParentDir | Component::CurDir) => out.push(".."),
            },
            other => out.push(other),
        }
    }
    out
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

    #[test]
    fn normalize_removes_dots_lexically() {
        assert_eq!(normalize(Path::new("/a/./b/../c")), Path::new("/a/c"));
        assert_eq!(normalize(Path::new("/../a")), Path::new("/a"));
        assert_eq!(normalize(Path::new("../../a/./b")), Path::new("../../a/b"));
        assert_eq!(normalize(Path::new("a/../../b")), Path::new("../b"));
        assert_eq!(
            absolute_in(Path::new("./x/../y.xml"), Path::new("/w")),
            Path::new("/w/y.xml")
        );
    }
}

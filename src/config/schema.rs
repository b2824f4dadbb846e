//! The schema of `rules.yaml`: every key, its type and its default. Unknown keys are
//! rejected, so a typo never silently turns into a default; globs and rule names are checked
//! while deserializing, so an error carries the line and column of what is wrong.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use crate::format::FormatOptions;
use crate::layout::Scope;
use crate::rules::{Rule, RuleSettings};

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
    /// The APIOps environment to check for: its `configuration.<environment>.yaml` is
    /// applied (policy and named-value overrides). `--environment` wins over it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
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
pub(super) enum GlobUse {
    Exclude,
    Match,
}

/// Compiles globs into one matcher with gitignore semantics (later globs override earlier
/// ones, so `!` re-includes), rooted at `base_dir`. The error names the offending glob.
pub(super) fn compile_globs<'a>(
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

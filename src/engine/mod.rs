//! The engine: what `apimfix check`, `fix` and `fmt` do, as a library. It finds the inputs
//! (paths, walked, or one text from stdin), reads and parses them in units, builds the repo
//! models that give the rules their cross-scope facts, and returns one result per file:
//! findings, fixes (in rounds until the repo's facts settle), new text or a diff, and typed
//! errors. It never prints: the caller shows the results (see `src/cli`).
//!
//! ```no_run
//! use apimfix::engine::{self, Inputs, Options};
//!
//! let run = engine::check(Inputs::Paths(vec!["examples".into()]), &Options::default(), &())
//!     .expect("the config loads");
//! for file in run.results.iter().flatten() {
//!     for d in &file.diagnostics {
//!         println!("{}: {}: {}", file.display_path, d.rule.name(), d.message);
//!     }
//! }
//! ```
//!
//! `fix` and `fmt` write files themselves when [`Options::write`] is set: each file is
//! written while its unit's documents are in memory (a run never holds the new text of every
//! file), and a write that fails changes that file's result (its findings are those of the
//! file as it stays on disk), which only the unit can compute.

mod analyse;
mod document;
mod error;
mod findings;
mod fix;
mod fmt;
mod hosts;
mod layouts;
mod pipeline;
mod safety;

use std::io::Read;
use std::path::PathBuf;

use crate::diagnostic::Diagnostic;
use crate::discover::SkipReason;
use crate::layout::{Scope, ScopeSource};
use crate::rules::{Rule, RuleSettings};

pub use crate::paths::display_path;
pub use document::{
    CheckedDocument, DocumentOutcome, check_document, fix_document, format_document,
};
pub use error::{Error, FileError, PathError, config_place};
pub use fix::FixedFile;
pub use fmt::Formatted;
pub use hosts::iac_repo;
pub use pipeline::Run;

/// The inputs of a run.
pub enum Inputs {
    /// Files and folders; folders are walked (`.gitignore` respected). A path `-` is refused:
    /// stdin is [`Inputs::Stdin`].
    Paths(Vec<PathBuf>),
    /// One text read from `source`, placed at `filename` (which decides its scope and its
    /// config, and is how results name it; `-` when `None`).
    Stdin {
        source: Box<dyn Read + Send>,
        filename: Option<PathBuf>,
    },
}

/// How a run goes. The defaults are those of `apimfix check` with no flags.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Use this configuration file instead of the nearest `rules.yaml` / `.apimfix.yaml`.
    pub config: Option<PathBuf>,
    /// The scope of every file, overriding what the path says.
    pub scope: Option<Scope>,
    /// Fix or format the target of a symbolic link named as an input (only matters when
    /// writing; reading through a link is always allowed).
    pub follow_symlinks: bool,
    /// Apply the config's `exclude` to files named as inputs too.
    pub force_exclude: bool,
    /// Collect [`Run::notes`]: what was skipped and why, each file's scope.
    pub notes: bool,
    /// `fix`: apply unsafe fixes too (a file's config can also ask for them).
    pub unsafe_fixes: bool,
    /// `fix`: format each fixed file.
    pub format_after_fix: bool,
    /// `fix`, `fmt`: write changed files in place (else a diff is made).
    pub write: bool,
    /// `fmt`: only say which files would change (no diff, nothing written).
    pub list_only: bool,
    /// Rules turned on or off on the command line, over every config's toggles.
    pub rules: RuleSelection,
    /// The APIOps environment to check for (over every config's `environment:`).
    pub environment: Option<String>,
    /// Check the policies an environment overrides as inputs of their own, reported in its
    /// `configuration.<env>.yaml` (`check` sets it: fixes cannot be written into YAML).
    pub check_overrides: bool,
}

/// `--select`, `--extend-select` and `--ignore`: which rules run, overriding the toggles of
/// every config (as ruff's flags do). A rule turned on keeps the config's options.
#[derive(Clone, Debug, Default)]
pub struct RuleSelection {
    /// Only these rules (all others off); `None` keeps the config's toggles.
    pub select: Option<Vec<Rule>>,
    /// These rules on too.
    pub extend_select: Vec<Rule>,
    /// These rules off (wins over the other two).
    pub ignore: Vec<Rule>,
}

impl RuleSelection {
    /// No override at all.
    pub fn is_empty(&self) -> bool {
        self.select.is_none() && self.extend_select.is_empty() && self.ignore.is_empty()
    }

    /// Whether `rule` runs, given what the config says.
    pub fn enables(&self, rule: Rule, config_enables: bool) -> bool {
        if self.ignore.contains(&rule) {
            return false;
        }
        if self.extend_select.contains(&rule) {
            return true;
        }
        match &self.select {
            Some(selected) => selected.contains(&rule),
            None => config_enables,
        }
    }

    /// `settings` with this selection applied. Goes through the settings' serde form, the
    /// one place every rule's toggle is reachable by its name.
    pub fn apply(&self, settings: &RuleSettings) -> RuleSettings {
        let Ok(serde_json::Value::Object(mut map)) = serde_json::to_value(settings) else {
            return settings.clone();
        };
        for &rule in Rule::ALL {
            let on = self.enables(rule, rule.is_enabled(settings));
            if on == rule.is_enabled(settings) {
                continue;
            }
            map.insert(rule.name().to_owned(), serde_json::Value::Bool(on));
        }
        serde_json::from_value(serde_json::Value::Object(map)).unwrap_or_else(|_| settings.clone())
    }
}

/// Hooks for showing progress; every method does nothing by default. Called from worker
/// threads.
pub trait Observer: Sync {
    /// A phase of the run ended (`walk`, `discovery`, `read, parse, model and work`).
    fn phase(&self, _name: &str) {}
    /// Reading starts, over this many inputs.
    fn reading(&self, _total: usize) {}
    /// One input was read.
    fn read_one(&self) {}
    /// Reading (and the work on each unit) is over.
    fn reading_done(&self) {}
}

/// The observer that shows nothing.
impl Observer for () {}

/// What a run says for `--verbose`.
#[derive(Clone, Debug)]
pub enum Note {
    /// A path left out, and why.
    Skipped { path: PathBuf, reason: SkipReason },
    /// The scope a file was given, and why, and the config file that governs it (`None`:
    /// the built-in defaults). Only with [`Options::notes`].
    Scope {
        display_path: String,
        scope: Scope,
        source: ScopeSource,
        config: Option<PathBuf>,
    },
    /// A `*.xml` file below a folder given, left out by an ignore file: `file` is the
    /// `.apimfixignore`, `.ignore` or `.gitignore` that matched it, `None` when none of those
    /// did (a git exclude file, a global gitignore). Only with [`Options::notes`].
    Ignored {
        path: PathBuf,
        file: Option<PathBuf>,
    },
    /// Something in a Terraform, Bicep or ARM file that holds a policy apimfix does not
    /// analyse (a computed value, a `file()` of a computed path), at its line and column.
    /// Only with [`Options::notes`].
    Host {
        display_path: String,
        line: usize,
        column: usize,
        message: String,
    },
}

/// What a run could not take into account.
#[derive(Clone, Debug)]
pub enum Warning {
    /// A policy file the run was not asked about, which the repo model could not load: the
    /// model goes on without it. `error` is what the model said.
    LeftOutOfRepoModel { path: PathBuf, error: String },
    /// An `apimfix-ignore` comment names a rule that does not exist (a typo): it silences
    /// nothing for that name.
    UnknownRuleInComment {
        display_path: String,
        line: usize,
        column: usize,
        name: String,
    },
    /// A comment that looks meant for apimfix but is not one of its directives
    /// (`apimfix-ignroe: ...`): it silences nothing.
    UnknownDirectiveInComment {
        display_path: String,
        line: usize,
        column: usize,
        directive: String,
    },
    /// A temporary file that an interrupted apimfix run left beside a policy file.
    StrayTempFile { path: PathBuf, outcome: StrayTemp },
}

/// What a run did with a temporary file an interrupted run left: a writing run removes it
/// (unless a running apimfix holds it), a reading run only names it.
#[derive(Clone, Debug)]
pub enum StrayTemp {
    Removed,
    /// In use by a running apimfix, or too recent to be sure it is stray.
    Kept,
    CannotRemove(String),
    /// Found by a run that does not write.
    Found,
}

/// One file's result: what is shown for it.
#[derive(Debug)]
pub struct FileResult {
    /// As shown to the user: relative to the working directory, `/`-separated; for stdin,
    /// the filename given or `-`.
    pub display_path: String,
    /// The file on disk; `None` for stdin.
    pub path: Option<PathBuf>,
    /// The text the diagnostics (or the error) point into. Empty when there is nothing to
    /// show, which keeps a bulk run's memory to the documents.
    pub source: std::sync::Arc<str>,
    /// Findings, sorted by range start.
    pub diagnostics: Vec<Diagnostic>,
    pub error: Option<FileError>,
}

/// `check`: the findings of every file, in path order. A file with no finding and no error
/// gives `None`.
pub fn check(
    inputs: Inputs,
    options: &Options,
    observer: &dyn Observer,
) -> Result<Run<Option<Box<FileResult>>>, Error> {
    let options = Options {
        check_overrides: true,
        ..options.clone()
    };
    pipeline::run(
        inputs,
        &options,
        pipeline::RepoModels::Build,
        pipeline::Access::ReadOnly,
        observer,
        findings::check_unit,
    )
}

/// `fix`: fixes every file, in rounds until the facts each repo gives its files settle, then
/// writes it ([`Options::write`]) or makes its diff. A file with nothing to show or count
/// gives `None`.
pub fn fix(
    inputs: Inputs,
    options: &Options,
    observer: &dyn Observer,
) -> Result<Run<Option<Box<FixedFile>>>, Error> {
    pipeline::run(
        inputs,
        options,
        pipeline::RepoModels::Build,
        pipeline::Access::from_write(options.write),
        observer,
        |unit| {
            fix::fix_unit(unit, options)
                .into_iter()
                .map(|file| (!file.is_quiet()).then(|| Box::new(file)))
                .collect()
        },
    )
}

/// `fmt`: formats every file, then writes it ([`Options::write`]), lists it
/// ([`Options::list_only`]) or makes its diff.
pub fn fmt(
    inputs: Inputs,
    options: &Options,
    observer: &dyn Observer,
) -> Result<Run<Formatted>, Error> {
    pipeline::run(
        inputs,
        options,
        pipeline::RepoModels::Skip,
        pipeline::Access::from_write(options.write),
        observer,
        |unit| fmt::format_unit(unit, options),
    )
}

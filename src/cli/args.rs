//! The command line, as clap types.

use std::path::PathBuf;

use apimfix::layout::Scope;
use apimfix::report::OutputFormat;
use apimfix::rules::Rule;
use clap::{Args, Parser, Subcommand, ValueEnum};

/// Auto-fixer and formatter for Azure API Management policy files.
///
/// Exit codes: 0 nothing to report, 1 findings or changes pending, 2 errors.
#[derive(Debug, Parser)]
#[command(name = "apimfix", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// When to colour the output: `auto` colours a terminal unless `NO_COLOR` is set
    /// (`FORCE_COLOR` colours a pipe too).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// `--color`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// `--scope`: the scopes a file can be given (`unknown`, hidden, turns the scope-dependent
/// rules off).
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ScopeArg {
    Global,
    Workspace,
    Product,
    Api,
    Operation,
    Fragment,
    Resolver,
    #[value(hide = true)]
    Unknown,
}

impl From<ScopeArg> for Scope {
    fn from(s: ScopeArg) -> Scope {
        match s {
            ScopeArg::Global => Scope::Global,
            ScopeArg::Workspace => Scope::Workspace,
            ScopeArg::Product => Scope::Product,
            ScopeArg::Api => Scope::Api,
            ScopeArg::Operation => Scope::Operation,
            ScopeArg::Fragment => Scope::Fragment,
            ScopeArg::Resolver => Scope::Resolver,
            ScopeArg::Unknown => Scope::Unknown,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Report findings (rule violations) and files that do not parse.
    Check(CheckArgs),
    /// Apply fixes: print them as a unified diff, or write them with --write.
    Fix(FixArgs),
    /// Format files: print a unified diff, list them with --check, or write them with --write.
    Fmt(FmtArgs),
    /// Print the effective policy of one chain (operation, API, product, global) of a repo.
    Effective(EffectiveArgs),
    /// Explain a rule, or one of the pseudo-rules reports use for files (`syntax-error`,
    /// `io-error`, `internal-error`).
    Rule {
        /// The rule's name, e.g. `base-missing`.
        name: String,
    },
    /// List every rule.
    Rules,
    /// Print shell completions.
    Completions { shell: clap_complete::Shell },
    /// Run the language server (LSP over stdin and stdout), for editors.
    Server,
}

/// Options every file command shares.
#[derive(Debug, Clone, Args)]
pub struct FileArgs {
    /// Files or directories (walked recursively, .gitignore respected); `-` reads stdin.
    /// Default: the current directory, or stdin with `--stdin-filename`.
    pub paths: Vec<PathBuf>,
    /// Use this configuration file instead of the nearest `rules.yaml` / `.apimfix.yaml`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The scope of every file, overriding what the path says.
    #[arg(long, value_enum)]
    pub scope: Option<ScopeArg>,
    /// Read stdin and report it under this path (which also decides its scope and config).
    #[arg(long, value_name = "PATH")]
    pub stdin_filename: Option<PathBuf>,
    /// Fix or format the target of a symbolic link named on the command line.
    #[arg(long)]
    pub follow_symlinks: bool,
    /// Apply the config's `exclude` to files named on the command line too (for pre-commit
    /// hooks, which pass every changed file).
    #[arg(long)]
    pub force_exclude: bool,
    /// Only print errors and the report itself.
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print nothing at all; only the exit code tells (as ruff's `-s`).
    #[arg(short, long, conflicts_with_all = ["verbose", "quiet"])]
    pub silent: bool,
    /// Say which files were read or skipped (by `.gitignore`, `.apimfixignore`, `exclude`),
    /// their scope and config, and why.
    #[arg(short, long)]
    pub verbose: bool,
    /// Check only these rules (comma-separated names), overriding the config's toggles.
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    pub select: Option<Vec<Rule>>,
    /// Check these rules too, even when the config turns them off.
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    pub extend_select: Vec<Rule>,
    /// Do not check these rules.
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    pub ignore: Vec<Rule>,
    /// Print the configuration that governs the first file, with the command-line overrides,
    /// and exit.
    #[arg(long)]
    pub show_settings: bool,
    /// Check for this APIOps environment: apply the policy and named-value overrides of its
    /// `configuration.<NAME>.yaml` (over the config's `environment:`).
    #[arg(long, value_name = "NAME")]
    pub environment: Option<String>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub files: FileArgs,
    /// How to print findings.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output_format: OutputFormat,
    /// Exit 0 even when there are findings (errors still exit 2).
    #[arg(long)]
    pub exit_zero: bool,
    /// Count fixes that may change what the gateway does as fixable.
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// Print the number of findings per rule (on stderr with a machine format).
    #[arg(long)]
    pub statistics: bool,
    /// Apply the fixes in place: the same as `apimfix fix --write`.
    #[arg(long, conflicts_with = "diff")]
    pub fix: bool,
    /// Print the fixes as a unified diff instead: the same as `apimfix fix`.
    #[arg(long)]
    pub diff: bool,
    /// With `--fix`: list the fixes applied, per file.
    #[arg(long)]
    pub show_fixes: bool,
    /// With `--fix`: also format the files it fixes.
    #[arg(long, requires = "fix")]
    pub format: bool,
}

#[derive(Debug, Args)]
pub struct FixArgs {
    #[command(flatten)]
    pub files: FileArgs,
    /// Write the fixed files in place instead of printing a diff.
    #[arg(long, conflicts_with = "diff")]
    pub write: bool,
    /// Print the fixes as a unified diff (the default without `--write`).
    #[arg(long)]
    pub diff: bool,
    /// Also format the files it fixes (only those: a file no fix changes is left as it is).
    #[arg(long)]
    pub format: bool,
    /// Also apply fixes that may change what the gateway does.
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// Report the findings left after fixing in this format on stdout (needs `--write`:
    /// without it, stdout is the diff).
    #[arg(long, value_enum)]
    pub output_format: Option<OutputFormat>,
    /// Exit 0 even when findings remain or a diff was printed (errors still exit 2).
    #[arg(long)]
    pub exit_zero: bool,
    /// Print the number of fixes per rule (on stderr).
    #[arg(long)]
    pub statistics: bool,
    /// List the fixes applied (or that would be), per file, on stderr.
    #[arg(long)]
    pub show_fixes: bool,
    /// Write a Markdown summary of the run (fixes and remaining findings per rule, files
    /// with errors) to FILE, to paste into a tracking issue.
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct FmtArgs {
    #[command(flatten)]
    pub files: FileArgs,
    /// Write the formatted files in place.
    #[arg(long, conflicts_with = "check")]
    pub write: bool,
    /// List the files that would change, and exit 1 if any would.
    #[arg(long)]
    pub check: bool,
    /// Print the formatting changes as a unified diff (the default).
    #[arg(long, conflicts_with_all = ["write", "check"])]
    pub diff: bool,
    /// With `--check`: list the unformatted files in this format (`json`, `github`
    /// annotations, `sarif`, `rdjson`) instead of one path per line.
    #[arg(long, value_enum, requires = "check")]
    pub output_format: Option<OutputFormat>,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum EffectiveFormat {
    Xml,
    Json,
}

#[derive(Debug, Args)]
pub struct EffectiveArgs {
    /// The artifacts root of an APIOps repo (the folder holding `apis/`), or a
    /// devops-resource-kit creator configuration (its YAML file).
    pub root: PathBuf,
    /// The API (its folder name, e.g. `orders` or `orders;rev=2`).
    #[arg(long)]
    pub api: String,
    /// The operation (its folder name).
    #[arg(long)]
    pub operation: Option<String>,
    /// The product the call goes through; without it, the chain with no product.
    #[arg(long)]
    pub product: Option<String>,
    /// Compose the policy this APIOps environment runs: apply the policy and named-value
    /// overrides of its `configuration.<NAME>.yaml`.
    #[arg(long, value_name = "NAME")]
    pub environment: Option<String>,
    /// Keep `{{name}}` references as written instead of showing the named values' values
    /// (secret and Key Vault ones are never shown).
    #[arg(long)]
    pub keep_named_values: bool,
    /// `--output-format` is accepted too, as the other commands spell it.
    #[arg(long, visible_alias = "output-format", value_enum, default_value_t = EffectiveFormat::Xml)]
    pub format: EffectiveFormat,
}

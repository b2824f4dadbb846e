//! The command line, as clap types.

use std::path::PathBuf;

use apimfix::report::OutputFormat;
use apimfix::scope::Scope;
use clap::{Args, Parser, Subcommand, ValueEnum};

/// Auto-fixer and formatter for Azure API Management policy files.
///
/// Exit codes: 0 nothing to report, 1 findings or changes pending, 2 errors.
#[derive(Debug, Parser)]
#[command(name = "apimfix", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
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
    /// Explain a rule.
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
#[derive(Debug, Args)]
pub struct FileArgs {
    /// Files or directories (walked recursively, .gitignore respected); `-` reads stdin.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Use this configuration file instead of the nearest `rules.yaml` / `.apimfix.yaml`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The scope of every file, overriding what the path says.
    #[arg(long, value_parser = parse_scope)]
    pub scope: Option<Scope>,
    /// The path to report for stdin (it also decides the scope and the config).
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
    /// Say which files were read or skipped, their scope and why.
    #[arg(short, long)]
    pub verbose: bool,
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
    /// Print the number of findings per rule.
    #[arg(long)]
    pub statistics: bool,
}

#[derive(Debug, Args)]
pub struct FixArgs {
    #[command(flatten)]
    pub files: FileArgs,
    /// Write the fixed files in place instead of printing a diff.
    #[arg(long)]
    pub write: bool,
    /// Also format the files it fixes.
    #[arg(long)]
    pub format: bool,
    /// Also apply fixes that may change what the gateway does.
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// Report the findings left after fixing in this format on stdout (with --write).
    #[arg(long, value_enum)]
    pub output_format: Option<OutputFormat>,
    /// Exit 0 even when findings remain or a diff was printed (errors still exit 2).
    #[arg(long)]
    pub exit_zero: bool,
    /// Print the number of fixes per rule.
    #[arg(long)]
    pub statistics: bool,
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
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum EffectiveFormat {
    Xml,
    Json,
}

#[derive(Debug, Args)]
pub struct EffectiveArgs {
    /// The artifacts root of an APIOps repo (the folder holding `apis/`).
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
    #[arg(long, value_enum, default_value_t = EffectiveFormat::Xml)]
    pub format: EffectiveFormat,
}

fn parse_scope(s: &str) -> Result<Scope, String> {
    s.parse()
}

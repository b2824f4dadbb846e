//! apimfix: an auto-fixer and formatter for Azure API Management policy files.
//!
//! Data flows one way: paths -> files -> [`syntax`] trees -> (repo model) -> [`rules`] ->
//! findings with [`fix`] edits -> fixed text -> diff, write or report.
//!
//! The library never prints or exits: the binary's command layer (`src/cli`) owns output and
//! exit codes. The lints below keep it so.

#![deny(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::exit,
    clippy::dbg_macro
)]

pub mod config;
pub mod diagnostic;
pub mod discover;
pub mod engine;
pub mod fix;
pub mod folders;
pub mod format;
pub mod host;
pub mod layout;
pub mod origin;
pub mod paths;
pub mod policy;
pub mod read;
pub mod registry;
pub mod repo;
pub mod report;
pub mod rules;
pub mod server;
pub mod syntax;
pub mod text;
pub mod write;

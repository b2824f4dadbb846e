//! `rules.yaml`: which rules run, with which options, on which files.
//!
//! - [`schema`]: the keys of the file and their defaults ([`Config`]); each rule's options
//!   are defined by the rule itself (`crate::rules`), and the `rules:` section is the rules'
//!   [`crate::rules::RuleSettings`].
//! - [`error`]: why a file could not be used ([`ConfigError`]).
//! - [`resolve`]: which file governs a policy file ([`ConfigResolver`]) and what it says
//!   about a path ([`LoadedConfig`]).

mod error;
mod resolve;
mod schema;

pub use error::{ConfigError, Location};
pub use resolve::{CONFIG_FILE_NAMES, ConfigResolver, LoadedConfig, PathKind};
pub use schema::Config;

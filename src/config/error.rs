//! Why a config file could not be used: typed, with the file and the position apart from
//! the message (Display says only what is wrong), so that each front end (the CLI, a
//! language server) shows the place its own way.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
    #[error("cannot read config file: {error}")]
    Io {
        path: PathBuf,
        error: Arc<io::Error>,
    },
    /// Not YAML, or YAML that does not fit the schema (unknown key, wrong type, bad glob or
    /// rule name in the file).
    #[error("{message}")]
    Parse {
        path: PathBuf,
        location: Option<Location>,
        message: String,
    },
    /// A glob that does not compile, in a [`Config`] built in code.
    #[error("invalid glob `{glob}`: {message}")]
    InvalidGlob {
        path: PathBuf,
        glob: String,
        message: String,
    },
    /// An unknown rule name in `per-file-ignores`, in a [`Config`] built in code.
    #[error("per-file-ignores `{glob}`: {message}")]
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
    /// [`ConfigError::location`]): the same as Display, which carries no presentation.
    pub fn message(&self) -> String {
        self.to_string()
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

    pub(super) fn parse(path: &Path, err: &yaml_serde::Error) -> Self {
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

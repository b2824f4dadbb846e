//! The engine's errors, typed. A file error keeps the path apart from the message: Display
//! says what went wrong, never `path: error:`; the caller places the path (the CLI renders
//! `path:line:col: error: message`).

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::config::ConfigError;
use crate::discover::DiscoverError;
use crate::read::ReadError;
use crate::syntax::{SyntaxError, SyntaxErrorKind};
use crate::text::TextRange;
use crate::write::WriteError;

/// An error that stops a whole run before any file is read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration named in [`Options::config`](super::Options::config) does not load.
    #[error("{}", .0.message())]
    Config(ConfigError),
    /// `-` (stdin) among other paths.
    #[error("`-` (stdin) cannot be combined with other paths")]
    StdinWithOtherPaths,
    /// Stdin could not be read.
    #[error("stdin: {0}")]
    Stdin(io::Error),
}

/// What went wrong with one file, or with a path the run was given.
#[derive(Debug)]
pub enum FileError {
    /// The file could not be read.
    Read(io::Error),
    /// The file does not parse; it is never rewritten.
    Syntax(SyntaxError),
    /// The configuration governing the file does not load.
    Config(ConfigError),
    /// The fixed or formatted file could not be written; it is left as it was.
    Write(WriteError),
    /// A path could not be used (missing, a link refused, a folder the walk could not read).
    Discover(DiscoverError),
    /// The repo model of an APIOps repo could not be built, or misses some of its metadata:
    /// what the model said (its errors are not `Clone`, and the model keeps them).
    RepoModel(String),
    /// A fix or the formatter produced text that does not hold (an apimfix bug); the file is
    /// left untouched.
    Internal(String),
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileError::Read(e) => write!(f, "{e}"),
            FileError::Syntax(e) => write!(f, "{e}"),
            FileError::Config(e) => write!(
                f,
                "its configuration is broken: {}: {}",
                config_place(e),
                e.message()
            ),
            FileError::Write(e) => write!(f, "{e}"),
            FileError::Discover(e) => f.write_str(&discover_message(e)),
            FileError::RepoModel(e) => write!(f, "repo model: {e}"),
            FileError::Internal(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for FileError {}

/// A file too large is a syntax error at its start, as when the parser finds it (the report
/// shows where and why); anything else could not be read.
impl From<ReadError> for FileError {
    fn from(e: ReadError) -> FileError {
        match e {
            ReadError::Io { error, .. } => FileError::Read(error),
            ReadError::NotRegular { .. } => FileError::Read(io::Error::other(e.to_string())),
            ReadError::TooLarge { size, limit, .. } => FileError::Syntax(SyntaxError::new(
                SyntaxErrorKind::TooLarge,
                TextRange::empty(0),
                crate::read::too_large_message(size, limit),
            )),
        }
    }
}

/// A file error with the path it concerns: a file of the run, a path it was given, the root
/// of a repo, or a metadata file. `None` when no path is known.
#[derive(Debug)]
pub struct PathError {
    pub path: Option<PathBuf>,
    pub error: FileError,
}

impl PathError {
    pub(crate) fn new(path: Option<&Path>, error: FileError) -> PathError {
        PathError {
            path: path.map(Path::to_path_buf),
            error,
        }
    }
}

/// `path[:line:column]` of a config error, the path as shown to the user.
pub fn config_place(e: &ConfigError) -> String {
    match e.location() {
        Some(at) => format!(
            "{}:{}:{}",
            super::display_path(e.path()),
            at.line,
            at.column
        ),
        None => super::display_path(e.path()),
    }
}

/// What a discovery error says, without the path it concerns.
fn discover_message(e: &DiscoverError) -> String {
    match e {
        DiscoverError::Walk { path, error } => {
            let mut inner = error;
            while let ignore::Error::WithDepth { err, .. } = inner {
                inner = err;
            }
            match inner {
                ignore::Error::WithPath { path: at, err } if Some(at) == path.as_ref() => {
                    err.to_string()
                }
                _ => error.to_string(),
            }
        }
        other => other.to_string(),
    }
}

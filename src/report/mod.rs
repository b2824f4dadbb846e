//! Reports: everything the tool prints about files, in every output format.
//!
//! A report knows nothing about rules beyond [`crate::rules::Rule`]'s metadata, and rules know
//! nothing about reports. Every format writes into a `&mut dyn Write`, so tests print into a
//! `Vec<u8>`.

use std::path::PathBuf;

use crate::diagnostic::Diagnostic;
use crate::syntax::SyntaxError;
use crate::text::LineIndex;

/// Why a file could not be checked.
#[derive(Debug)]
pub enum FileError {
    /// It could not be read (or written).
    Io(std::io::Error),
    /// It does not parse; the file is never rewritten.
    Syntax(SyntaxError),
    /// A fix produced text that does not parse. An apimfix bug; the file is left untouched.
    Internal(String),
}

/// What one run learned about one file.
#[derive(Debug)]
pub struct FileReport {
    /// The path as shown to the user: relative to the working directory when below it,
    /// `/`-separated. For stdin, the `--stdin-filename` or `-`.
    pub display_path: String,
    /// The path on disk, when there is one.
    pub path: Option<PathBuf>,
    /// The source the diagnostics point into (the input, before fixes). Empty when unread.
    pub source: String,
    pub line_index: LineIndex,
    /// Findings, sorted by range start.
    pub diagnostics: Vec<Diagnostic>,
    pub error: Option<FileError>,
}

impl FileReport {
    pub fn new(display_path: impl Into<String>, path: Option<PathBuf>, source: String) -> Self {
        let line_index = LineIndex::new(&source);
        Self {
            display_path: display_path.into(),
            path,
            source,
            line_index,
            diagnostics: Vec::new(),
            error: None,
        }
    }
}

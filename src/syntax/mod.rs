//! The lossless syntax tree of a policy file.
//!
//! APIM policy files are "rawxml": policy expressions hold C# with raw `"`, `<` and `&&`, so
//! most real files are not well-formed XML and every XML crate rejects or mis-reads them. This
//! module reads them as they are.
//!
//! [`parse`] checks: UTF-8, no NUL byte, size and depth limits, tags that open and close in
//! order, terminated comments, CDATA, declarations, attribute values and policy expressions,
//! nothing but trivia beside the one root element, and a `<policies>` or `<fragment>` root.
//! It leaves to the rules all policy semantics: sections, `<base />`, `<cors>`, their order.
//! It stops at the first error: a file that does not parse is reported and never rewritten.

mod csharp;
mod error;
mod parser;
mod tree;

pub use csharp::{ScanError, scan_expression, scan_expression_tolerant};
pub use error::{SyntaxError, SyntaxErrorKind};
pub use tree::{
    Attribute, Document, Element, ElementRef, Expression, Node, NodeId, NodeKind, RootKind,
};

use crate::text::TextRange;

/// Bounds that protect the tool from hostile or accidental input.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest file accepted, in bytes. APIM itself caps a policy document far below this.
    pub max_size: usize,
    /// Deepest element nesting accepted. Real policies nest a dozen levels.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_size: 8 * 1024 * 1024,
            max_depth: 256,
        }
    }
}

/// The line ending a file uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LineEnding {
    Lf,
    CrLf,
}

impl LineEnding {
    /// CRLF when at least half of the line breaks in `text` are CRLF, else LF.
    pub fn detect(text: &str) -> LineEnding {
        let bytes = text.as_bytes();
        let mut lf = 0usize;
        let mut crlf = 0usize;
        for i in memchr::memchr_iter(b'\n', bytes) {
            if i > 0 && bytes[i - 1] == b'\r' {
                crlf += 1;
            } else {
                lf += 1;
            }
        }
        if crlf > 0 && crlf >= lf {
            LineEnding::CrLf
        } else {
            LineEnding::Lf
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LineEnding::Lf => "\n",
            LineEnding::CrLf => "\r\n",
        }
    }
}

/// Parses `source` with the default [`Limits`].
pub fn parse(source: &str) -> Result<Document, SyntaxError> {
    parse_with(source.to_owned(), &Limits::default())
}

/// Parses `source`, checking the size limit first.
pub fn parse_with(source: String, limits: &Limits) -> Result<Document, SyntaxError> {
    if source.len() > limits.max_size {
        return Err(too_large(source.len(), limits));
    }
    if let Some(nul) = memchr::memchr(0, source.as_bytes()) {
        return Err(SyntaxError::new(
            SyntaxErrorKind::NulByte,
            TextRange::new(nul, nul + 1),
            "a NUL byte: this is binary data (or UTF-16), not a policy file",
        ));
    }
    parser::parse_str(source, limits).map_err(|(e, _)| e)
}

fn too_large(len: usize, limits: &Limits) -> SyntaxError {
    SyntaxError::new(
        SyntaxErrorKind::TooLarge,
        TextRange::empty(0),
        format!(
            "file too large: {len} bytes, the limit is {} bytes",
            limits.max_size
        ),
    )
}

/// Parses raw file bytes: checks the size, NUL bytes and UTF-8 before the text itself.
///
/// On a UTF-8 error the range points at the first invalid byte; its line and column are
/// computed over the valid prefix by the caller's report.
pub fn parse_bytes(bytes: Vec<u8>, limits: &Limits) -> Result<Document, SyntaxError> {
    parse_bytes_keeping(bytes, limits).map_err(|(e, _)| e)
}

/// [`parse_bytes`] that hands the bytes back when they do not parse: a caller that shows a
/// broken file's text need not copy every file before parsing it.
pub fn parse_bytes_keeping(
    bytes: Vec<u8>,
    limits: &Limits,
) -> Result<Document, (SyntaxError, Vec<u8>)> {
    if bytes.len() > limits.max_size {
        return Err((too_large(bytes.len(), limits), bytes));
    }
    if let Some(nul) = memchr::memchr(0, &bytes) {
        let error = SyntaxError::new(
            SyntaxErrorKind::NulByte,
            TextRange::new(nul, nul + 1),
            "a NUL byte: this is binary data (or UTF-16), not a policy file",
        );
        return Err((error, bytes));
    }
    match String::from_utf8(bytes) {
        Ok(source) => parser::parse_str(source, limits).map_err(|(e, s)| (e, s.into_bytes())),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let byte = e.as_bytes()[at];
            let error = SyntaxError::new(
                SyntaxErrorKind::NotUtf8,
                TextRange::new(at, at + 1),
                format!(
                    "not UTF-8: the byte 0x{byte:02X} at offset {at} is not valid UTF-8; the file must be saved as UTF-8"
                ),
            );
            Err((error, e.into_bytes()))
        }
    }
}

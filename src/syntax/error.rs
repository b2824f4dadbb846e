//! Syntax errors: what was expected, and where.

use crate::text::TextRange;

/// The class of a syntax error. Callers decide by class, e.g. a directory walk skips
/// [`SyntaxErrorKind::NotAPolicy`] files quietly while reporting every other class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SyntaxErrorKind {
    /// The bytes are not UTF-8.
    NotUtf8,
    /// A NUL byte: binary data, or UTF-16.
    NulByte,
    /// Larger than the size limit.
    TooLarge,
    /// Elements nested deeper than the depth limit.
    TooDeep,
    /// No element at all.
    Empty,
    /// Well-formed enough, but the root is neither `<policies>` nor `<fragment>`.
    NotAPolicy,
    /// `</b>` where `</a>` was expected.
    MismatchedTag,
    /// An element still open at the end of the input.
    UnclosedTag,
    /// A closing tag with no open element.
    UnexpectedClosingTag,
    /// An attribute value whose quote never closes.
    UnterminatedAttribute,
    /// A policy expression `@(`/`@{` whose bracket never closes.
    UnterminatedExpression,
    /// `<!--` without `-->`.
    UnterminatedComment,
    /// `<![CDATA[` without `]]>`.
    UnterminatedCData,
    /// `<?` without `?>`, or `<!DOCTYPE` without `>`.
    UnterminatedDeclaration,
    /// A tag that does not follow XML's shape: no name, a missing `=` or quote, no `>`.
    MalformedTag,
    /// Text or a second element outside the root element.
    ContentOutsideRoot,
    /// A Terraform, Bicep or ARM file that cannot be read as its kind.
    Host,
}

/// A syntax error at a range of the source.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SyntaxError {
    pub kind: SyntaxErrorKind,
    pub range: TextRange,
    /// What is wrong and what was expected, e.g. "expected `</inbound>`, found `</outbound>`".
    pub message: String,
    /// A label for the range, shown under the caret.
    pub label: Option<String>,
    /// A second location that explains the first, e.g. where the unclosed element opened.
    pub related: Option<(TextRange, String)>,
}

impl SyntaxError {
    pub fn new(kind: SyntaxErrorKind, range: TextRange, message: impl Into<String>) -> Self {
        Self {
            kind,
            range,
            message: message.into(),
            label: None,
            related: None,
        }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub fn with_related(mut self, range: TextRange, label: impl Into<String>) -> Self {
        self.related = Some((range, label.into()));
        self
    }
}

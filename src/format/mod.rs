//! The formatter: one canonical layout for policy files, printed over the lossless tree.

/// The indentation unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IndentStyle {
    Spaces,
    Tabs,
}

/// Which line ending the formatter writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LineEndingOption {
    /// Keep the file's own: the majority ending for a mixed file.
    #[default]
    Auto,
    Lf,
    Crlf,
}

/// Every formatting option, complete, with its default.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct FormatOptions {
    /// Spaces (default) or tabs.
    pub indent_style: IndentStyle,
    /// Spaces per level when `indent-style` is `spaces` (default 4).
    pub indent_width: usize,
    /// A start tag longer than this goes one attribute per line (default 120).
    pub line_width: usize,
    /// `auto` (default) keeps the file's line ending; `lf` or `crlf` forces one.
    pub line_ending: LineEndingOption,
}

impl Default for FormatOptions {
    fn default() -> Self {
        Self {
            indent_style: IndentStyle::Spaces,
            indent_width: 4,
            line_width: 120,
            line_ending: LineEndingOption::Auto,
        }
    }
}

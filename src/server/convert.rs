//! Between the engine's vocabulary and the protocol's: byte offsets and UTF-16 positions,
//! file paths and `file:` URIs, single edits between two texts.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use lsp_types::{Position, Range, TextEdit, Uri};

use crate::text::{LineIndex, TextRange};

/// A text with its line index, for converting positions in both directions. LSP counts
/// columns in UTF-16 code units (the default `positionEncoding`, the only one we offer).
pub struct Lines<'a> {
    text: &'a str,
    index: LineIndex,
}

impl<'a> Lines<'a> {
    pub fn new(text: &'a str) -> Self {
        Self {
            text,
            index: LineIndex::new(text),
        }
    }

    /// The position of byte `offset` (clamped to the text, rounded down to a char
    /// boundary).
    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.index.line_of(offset);
        let start = self.index.line_start(line);
        let character = utf16_len(&self.text[start..offset]);
        Position::new(line as u32, character as u32)
    }

    pub fn range(&self, range: TextRange) -> Range {
        Range::new(self.position(range.start()), self.position(range.end()))
    }

    /// The byte offset of `position`. A line past the end is the end of the text; a
    /// character past the end of its line is the end of the line (before its terminator),
    /// as the protocol asks; a position inside a surrogate pair is the char's start.
    pub fn offset(&self, position: Position) -> usize {
        let line = position.line as usize;
        if line >= self.index.line_count() {
            return self.text.len();
        }
        let line_range = self.index.line_range(self.text, line);
        let line_text = &self.text[line_range.to_std()];
        let mut units = 0usize;
        for (i, c) in line_text.char_indices() {
            let next = units + c.len_utf16();
            if next > position.character as usize {
                return line_range.start() + i;
            }
            units = next;
        }
        line_range.end()
    }

    pub fn text_range(&self, range: Range) -> TextRange {
        let start = self.offset(range.start);
        let end = self.offset(range.end).max(start);
        TextRange::new(start, end)
    }
}

fn utf16_len(s: &str) -> usize {
    // ASCII is one unit per byte: most policy text takes the fast path.
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().map(char::len_utf16).sum()
    }
}

/// One edit turning `old` into `new`: the span between their common prefix and suffix
/// (on char boundaries), so that an editor keeps the cursor and folds outside it. `None`
/// when the texts are equal.
pub fn single_edit(old: &str, new: &str) -> Option<TextEdit> {
    if old == new {
        return None;
    }
    let mut prefix = old
        .bytes()
        .zip(new.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    while !(old.is_char_boundary(prefix) && new.is_char_boundary(prefix)) {
        prefix -= 1;
    }
    let max_suffix = old.len().min(new.len()) - prefix;
    let mut suffix = old
        .bytes()
        .rev()
        .zip(new.bytes().rev())
        .take(max_suffix)
        .take_while(|(a, b)| a == b)
        .count();
    while !(old.is_char_boundary(old.len() - suffix) && new.is_char_boundary(new.len() - suffix)) {
        suffix -= 1;
    }
    let lines = Lines::new(old);
    Some(TextEdit::new(
        lines.range(TextRange::new(prefix, old.len() - suffix)),
        new[prefix..new.len() - suffix].to_owned(),
    ))
}

/// Applies LSP edits (positions in `text` as it was before any of them) to `text`.
pub fn apply_text_edits(text: &str, edits: &[TextEdit]) -> String {
    let lines = Lines::new(text);
    let mut ranged: Vec<(TextRange, &str)> = edits
        .iter()
        .map(|e| (lines.text_range(e.range), e.new_text.as_str()))
        .collect();
    ranged.sort_by_key(|(r, _)| (r.start(), r.end()));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (range, new_text) in ranged {
        let start = range.start().max(at);
        out.push_str(&text[at..start]);
        out.push_str(new_text);
        at = range.end().max(start);
    }
    out.push_str(&text[at..]);
    out
}

/// The path of a `file:` URI; `None` for other schemes (`untitled:`, `git:`).
pub fn uri_to_path(uri: &Uri) -> Option<PathBuf> {
    let s = uri.as_str();
    let rest = s.strip_prefix("file://")?;
    // `file:///p`, or `file://localhost/p`.
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    let path = rest.split(['?', '#']).next().unwrap_or(rest);
    let decoded = percent_decode(path)?;
    #[cfg(windows)]
    {
        // `/C:/x` is `C:/x`.
        let trimmed = decoded.strip_prefix('/').unwrap_or(&decoded);
        if trimmed.as_bytes().get(1) == Some(&b':') {
            return Some(PathBuf::from(trimmed));
        }
    }
    Some(PathBuf::from(decoded))
}

/// The `file:` URI of an absolute path.
pub fn path_to_uri(path: &Path) -> Option<Uri> {
    let s = path.to_str()?.replace('\\', "/");
    let mut out = String::from("file://");
    if !s.starts_with('/') {
        out.push('/');
    }
    for b in s.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'/'
            | b':'
            | b'@'
            | b'!'
            | b'$'
            | b'&'
            | b'\''
            | b'('
            | b')'
            | b'*'
            | b'+'
            | b','
            | b';'
            | b'=' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    Uri::from_str(&out).ok()
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16_units() {
        // `é` is 2 bytes and 1 unit; `😀` is 4 bytes and 2 units.
        let text = "a\né😀x\r\nz";
        let lines = Lines::new(text);
        let x = text.find('x').unwrap();
        assert_eq!(lines.position(x), Position::new(1, 3));
        assert_eq!(lines.offset(Position::new(1, 3)), x);
        assert_eq!(lines.offset(Position::new(1, 2)), text.find('😀').unwrap());
        // Past the end of the line: the end of the line, before `\r\n`.
        assert_eq!(lines.offset(Position::new(1, 99)), x + 1);
        assert_eq!(lines.offset(Position::new(9, 0)), text.len());
        assert_eq!(lines.position(text.len()), Position::new(2, 1));
    }

    #[test]
    fn single_edit_spans_the_difference_only() {
        let edit = single_edit("<a>é</a>", "<a>éé</a>").unwrap();
        assert_eq!(apply_text_edits("<a>é</a>", &[edit]), "<a>éé</a>");
        assert!(single_edit("x", "x").is_none());
        let edit = single_edit("aXa", "aa").unwrap();
        assert_eq!(apply_text_edits("aXa", &[edit]), "aa");
    }

    #[test]
    fn file_uris_round_trip() {
        let path = Path::new("/tmp/a b/é#.xml");
        let uri = path_to_uri(path).unwrap();
        assert_eq!(uri.as_str(), "file:///tmp/a%20b/%C3%A9%23.xml");
        assert_eq!(uri_to_path(&uri).unwrap(), path);
        let other = Uri::from_str("untitled:Untitled-1").unwrap();
        assert!(uri_to_path(&other).is_none());
    }
}

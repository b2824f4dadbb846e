//! Byte offsets into a source text, and their conversion to lines and columns.
//!
//! Everything in apimfix that points into a file stores a [`TextRange`] of UTF-8 byte offsets.
//! Lines and columns exist only for display: a [`LineIndex`] built once per file turns an offset
//! into a 1-based [`LineColumn`]. Keeping one position type avoids the classic mix-ups of byte
//! against char offsets and 0- against 1-based columns.

use std::fmt;
use std::ops::Range;

/// A half-open range `start..end` of byte offsets into one source text.
///
/// Invariant: `start <= end`. Offsets are `u32`, which bounds a file at 4 GiB; the parser's own
/// size limit is far below that.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TextRange {
    start: u32,
    end: u32,
}

impl TextRange {
    /// A range from `start` to `end`. Panics when `start > end`, which is a bug in the caller.
    pub fn new(start: usize, end: usize) -> Self {
        assert!(start <= end, "TextRange start {start} > end {end}");
        Self {
            start: u32::try_from(start).expect("offset fits in u32"),
            end: u32::try_from(end).expect("offset fits in u32"),
        }
    }

    /// An empty range at `offset`, the position of an insertion.
    pub fn empty(offset: usize) -> Self {
        Self::new(offset, offset)
    }

    pub fn start(self) -> usize {
        self.start as usize
    }

    pub fn end(self) -> usize {
        self.end as usize
    }

    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }

    /// Whether `offset` lies inside the range (start inclusive, end exclusive).
    pub fn contains(self, offset: usize) -> bool {
        self.start() <= offset && offset < self.end()
    }

    /// Whether `other` lies entirely inside `self`.
    pub fn contains_range(self, other: TextRange) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    /// Whether the two ranges share at least one byte, or one is an insertion strictly inside
    /// the other. Two edits that overlap in this sense cannot both be applied.
    pub fn overlaps(self, other: TextRange) -> bool {
        self.start < other.end && other.start < self.end
    }

    /// The smallest range covering both.
    pub fn cover(self, other: TextRange) -> TextRange {
        TextRange {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn to_std(self) -> Range<usize> {
        self.start()..self.end()
    }
}

impl fmt::Debug for TextRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

impl From<Range<usize>> for TextRange {
    fn from(r: Range<usize>) -> Self {
        TextRange::new(r.start, r.end)
    }
}

/// Anything that covers a range of the source: nodes, attributes, edits, diagnostics.
pub trait Ranged {
    fn range(&self) -> TextRange;
}

/// A 1-based line and column. The column counts Unicode scalar values (chars), so a caret
/// lines up under the character in a terminal; a tab counts as one column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineColumn {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for LineColumn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Start offsets of every line of one text, for offset -> line/column conversion.
#[derive(Clone, Debug)]
pub struct LineIndex {
    line_starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes `text`. A line ends after `\n`, `\r\n` or a lone `\r`: files saved with
    /// old Mac line endings are many lines to every editor, and an error in one must not
    /// be reported on line 1 of a single huge line.
    pub fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        // Real policy lines average about 50 bytes: reserving for 32 spares most regrowth.
        let mut line_starts = Vec::with_capacity(text.len() / 32 + 2);
        line_starts.push(0);
        line_starts.extend(
            memchr::memchr2_iter(b'\n', b'\r', bytes)
                .filter(|&i| bytes[i] == b'\n' || bytes.get(i + 1) != Some(&b'\n'))
                .map(|i| i + 1),
        );
        Self { line_starts }
    }

    /// The 0-based line holding `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(line) => line,
            Err(next) => next - 1,
        }
    }

    /// Start offset of 0-based `line`.
    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts[line]
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// The 1-based line and column of `offset` in `text` (the text this index was built from).
    /// An offset in the middle of a multi-byte char is rounded down to that char.
    pub fn line_column(&self, text: &str, offset: usize) -> LineColumn {
        let offset = offset.min(text.len());
        let line = self.line_of(offset);
        let start = self.line_starts[line];
        let mut end = offset;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        // A byte order mark is not a column: editors do not show it.
        let bom = usize::from(line == 0 && text.starts_with('\u{feff}') && end >= 3);
        LineColumn {
            line: line + 1,
            column: text[start..end].chars().count() + 1 - bom,
        }
    }

    /// The range of 0-based `line`, without its line terminator (`\n` or `\r\n`).
    pub fn line_range(&self, text: &str, line: usize) -> TextRange {
        let start = self.line_starts[line];
        let mut end = self
            .line_starts
            .get(line + 1)
            .map_or(text.len(), |next| next - 1);
        if end > start && text.as_bytes()[end - 1] == b'\r' && end < text.len() {
            end -= 1;
        }
        TextRange::new(start, end.max(start))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_chars_and_lines_from_one() {
        let text = "ab\r\ncé\tx\nlast";
        let index = LineIndex::new(text);
        assert_eq!(
            index.line_column(text, 0),
            LineColumn { line: 1, column: 1 }
        );
        assert_eq!(
            index.line_column(text, 4),
            LineColumn { line: 2, column: 1 }
        );
        // 'é' is two bytes but one column; the tab is one column.
        let x = text.find('x').unwrap();
        assert_eq!(
            index.line_column(text, x),
            LineColumn { line: 2, column: 4 }
        );
        assert_eq!(
            index.line_column(text, text.len()),
            LineColumn { line: 3, column: 5 }
        );
    }

    #[test]
    fn a_lone_cr_ends_a_line() {
        let text = "one\rtwo\r\nthree\nfour\r";
        let index = LineIndex::new(text);
        assert_eq!(index.line_count(), 5);
        assert_eq!(
            index.line_column(text, text.find("two").unwrap()),
            LineColumn { line: 2, column: 1 }
        );
        assert_eq!(
            index.line_column(text, text.find("four").unwrap()),
            LineColumn { line: 4, column: 1 }
        );
        assert_eq!(&text[index.line_range(text, 0).to_std()], "one");
        assert_eq!(&text[index.line_range(text, 1).to_std()], "two");
        assert_eq!(&text[index.line_range(text, 3).to_std()], "four");
    }

    #[test]
    fn a_bom_is_not_a_column() {
        let text = "\u{feff}<policies>";
        let index = LineIndex::new(text);
        assert_eq!(
            index.line_column(text, 3),
            LineColumn { line: 1, column: 1 }
        );
        assert_eq!(
            index.line_column(text, 4),
            LineColumn { line: 1, column: 2 }
        );
    }

    #[test]
    fn line_range_excludes_terminators() {
        let text = "one\r\ntwo\nthree";
        let index = LineIndex::new(text);
        assert_eq!(&text[index.line_range(text, 0).to_std()], "one");
        assert_eq!(&text[index.line_range(text, 1).to_std()], "two");
        assert_eq!(&text[index.line_range(text, 2).to_std()], "three");
    }

    #[test]
    fn overlap_treats_touching_ranges_as_disjoint() {
        let a = TextRange::new(0, 5);
        assert!(!a.overlaps(TextRange::new(5, 9)));
        assert!(a.overlaps(TextRange::new(4, 9)));
        assert!(!a.overlaps(TextRange::empty(5)));
        assert!(a.overlaps(TextRange::new(2, 3)));
    }
}

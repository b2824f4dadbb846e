//! Text edits: the only way apimfix changes a file.
//!
//! A fix never re-serialises the tree. It is a list of [`Edit`]s, each replacing one byte range
//! of the original text, so every byte a fix does not name stays as it was.

use crate::text::{Ranged, TextRange};

/// Replace `range` of the source with `content`. An empty range inserts, empty content deletes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Edit {
    range: TextRange,
    content: Box<str>,
}

impl Edit {
    pub fn insertion(offset: usize, content: impl Into<Box<str>>) -> Self {
        let content = content.into();
        debug_assert!(!content.is_empty(), "an insertion inserts something");
        Self {
            range: TextRange::empty(offset),
            content,
        }
    }

    pub fn deletion(range: TextRange) -> Self {
        Self {
            range,
            content: "".into(),
        }
    }

    pub fn replacement(range: TextRange, content: impl Into<Box<str>>) -> Self {
        Self {
            range,
            content: content.into(),
        }
    }

    pub fn content(&self) -> &str {
        &self.content
    }

    pub fn is_insertion(&self) -> bool {
        self.range.is_empty()
    }
}

impl Ranged for Edit {
    fn range(&self) -> TextRange {
        self.range
    }
}

/// How far a fix can be trusted to keep what the policy does. Ordered: `Safe` is the greatest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Applicability {
    /// Shown to the user, never applied.
    DisplayOnly,
    /// Changes what the gateway does (on purpose, e.g. moving `<cors>` changes which calls are
    /// counted by a rate limit). Applied with `--unsafe-fixes` only.
    Unsafe,
    /// Keeps the intent of the policy and every comment. Applied by `fix`.
    Safe,
}

/// A non-empty, start-sorted set of non-overlapping edits that repair one finding together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    edits: Vec<Edit>,
    applicability: Applicability,
}

impl Fix {
    /// A fix made of `first` and `rest`. Being built from a first edit, a fix is never empty.
    pub fn new(
        applicability: Applicability,
        first: Edit,
        rest: impl IntoIterator<Item = Edit>,
    ) -> Self {
        let mut edits: Vec<Edit> = std::iter::once(first).chain(rest).collect();
        // By position only, and stable: sorting by content too would put two insertions at
        // one offset in alphabetical order. Such a pair is ambiguous, so it is refused.
        edits.sort_by_key(Ranged::range);
        debug_assert!(
            edits.windows(2).all(|w| {
                let (a, b) = (w[0].range(), w[1].range());
                let same_insertion = a.is_empty() && a == b;
                !(a.overlaps(b) || same_insertion)
            }),
            "edits of one fix must not overlap or insert at one offset: {edits:?}"
        );
        Self {
            edits,
            applicability,
        }
    }

    pub fn safe(first: Edit, rest: impl IntoIterator<Item = Edit>) -> Self {
        Self::new(Applicability::Safe, first, rest)
    }

    pub fn unsafe_(first: Edit, rest: impl IntoIterator<Item = Edit>) -> Self {
        Self::new(Applicability::Unsafe, first, rest)
    }

    pub fn edits(&self) -> &[Edit] {
        &self.edits
    }

    pub fn applicability(&self) -> Applicability {
        self.applicability
    }

    /// The range covering every edit.
    pub fn range(&self) -> TextRange {
        self.edits
            .iter()
            .map(Ranged::range)
            .reduce(TextRange::cover)
            .expect("a fix has at least one edit")
    }
}

/// Applies `edits` (sorted, non-overlapping) to `source`.
///
/// Returns `None` when two edits overlap; callers drop such a set rather than guess.
pub fn apply_edits(source: &str, edits: &[&Edit]) -> Option<String> {
    let mut sorted: Vec<&Edit> = edits.to_vec();
    sorted.sort();
    let mut out = String::with_capacity(source.len() + 64);
    let mut cursor = 0;
    for edit in sorted {
        let range = edit.range();
        if range.start() < cursor {
            return None;
        }
        out.push_str(&source[cursor..range.start()]);
        out.push_str(edit.content());
        cursor = range.end();
    }
    out.push_str(&source[cursor..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_insertions_deletions_and_replacements_in_order() {
        let source = "<a><b/><c/></a>";
        let e1 = Edit::insertion(3, "<x/>");
        let e2 = Edit::deletion(TextRange::new(7, 11));
        let e3 = Edit::replacement(TextRange::new(1, 2), "A");
        assert_eq!(
            apply_edits(source, &[&e2, &e1, &e3]).unwrap(),
            "<A><x/><b/></a>"
        );
    }

    #[test]
    fn refuses_overlapping_edits() {
        let e1 = Edit::deletion(TextRange::new(0, 4));
        let e2 = Edit::replacement(TextRange::new(2, 6), "z");
        assert_eq!(apply_edits("abcdefgh", &[&e1, &e2]), None);
    }
}

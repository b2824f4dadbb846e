//! Unified diffs of a fix, in the shape `git apply` (and `patch -p1`, reviewdog's
//! `-f=diff -f.diff.strip=1`, suggest-changes) accept.
//!
//! One call gives the diff of one file:
//!
//! ```text
//! diff --git a/apis/echo/policy.xml b/apis/echo/policy.xml
//! --- a/apis/echo/policy.xml
//! +++ b/apis/echo/policy.xml
//! @@ -3,6 +3,7 @@
//! ...
//! ```
//!
//! Concatenating the diffs of several files gives a patch of all of them.
//!
//! Lines are split after `\n` only, as git does: a CR stays inside its line, so CRLF files and
//! files with mixed or lone-CR endings diff and apply byte for byte. (`similar`'s own line
//! tokenizer also breaks at a lone `\r`, which git does not, so this module splits the lines
//! itself and uses `similar` for the diff algorithm only.) A side whose last line lacks a final
//! newline gets git's `\ No newline at end of file` marker after that line, whether the line is
//! removed, added or context. A BOM is just bytes of the first line.
//!
//! Paths follow git's rules: prefixed with `a/` and `b/`, a leading `/` dropped, C-style quoted
//! (`"a/x\"y.xml"`) when they hold a control character, `"` or `\`, and the `---`/`+++` lines end
//! with a tab when the path holds a space, which keeps GNU patch from cutting the name there.
//! Unlike git's default (`core.quotePath=true`), non-ASCII characters stay unquoted: the patch
//! stays readable and `git apply` takes it either way.

use similar::{Algorithm, DiffOp, DiffTag};

/// Lines of context around each change, as git's default.
const CONTEXT_LINES: usize = 3;

/// The unified diff turning `old` into `new`, or an empty string when they are equal.
pub fn unified_diff(display_path: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    let ops = similar::capture_diff_slices(Algorithm::Myers, &old_lines, &new_lines);
    let groups = self_contained(
        similar::group_diff_ops(ops, CONTEXT_LINES),
        display_path,
        old,
        &old_lines,
        &new_lines,
    );

    let path = display_path.strip_prefix('/').unwrap_or(display_path);
    let old_name = quote_path("a/", path);
    let new_name = quote_path("b/", path);
    // git ends the ---/+++ lines with a tab when the name holds a space (git commit ce74618).
    let tab = if path.contains(' ') { "\t" } else { "" };

    let mut out = String::with_capacity(old.len().min(4096) + 256);
    out.push_str(&format!("diff --git {old_name} {new_name}\n"));
    out.push_str(&format!("--- {old_name}{tab}\n"));
    out.push_str(&format!("+++ {new_name}{tab}\n"));
    for group in &groups {
        write_hunk(&mut out, group, &old_lines, &new_lines);
    }
    out
}

/// The hunks, merged where one applied alone would leave a half of a change: a reviewer (or
/// reviewdog, which posts each hunk as its own suggestion) may accept any one hunk alone, so
/// each must leave a document that parses and keeps every element it had (a move whose
/// deletion and insertion fell into two hunks becomes one). Texts that do not parse before
/// are left as they are. In a Terraform, Bicep or ARM host, each inline policy must.
fn self_contained(
    groups: Vec<Vec<DiffOp>>,
    display_path: &str,
    old: &str,
    old_lines: &[&str],
    new_lines: &[&str],
) -> Vec<Vec<DiffOp>> {
    let kind = crate::host::HostKind::of_path(std::path::Path::new(display_path));
    // The elements of every policy the text holds, `None` when one does not parse.
    let counts_of = |text: &str| -> Option<std::collections::HashMap<String, usize>> {
        let policies: Vec<String> = match kind {
            None => vec![text.to_owned()],
            Some(kind) => {
                match crate::host::scan(kind, std::path::Path::new(display_path), text, &|_| None)?
                {
                    Ok(scan) => scan.policies.into_iter().map(|p| p.text).collect(),
                    Err(_) => return None,
                }
            }
        };
        let mut all = std::collections::HashMap::new();
        for policy in policies {
            let doc = crate::syntax::parse(&policy).ok()?;
            for (name, n) in element_counts(&doc) {
                *all.entry(name).or_insert(0) += n;
            }
        }
        Some(all)
    };
    let Some(counts) = counts_of(old) else {
        return groups;
    };
    let stands_alone = |group: &[DiffOp]| {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            return true;
        };
        let old_range = first.old_range().start..last.old_range().end;
        let new_range = first.new_range().start..last.new_range().end;
        let text: String = old_lines[..old_range.start]
            .iter()
            .chain(&new_lines[new_range])
            .chain(&old_lines[old_range.end..])
            .copied()
            .collect();
        counts_of(&text).is_some_and(|after| {
            counts
                .iter()
                .all(|(name, n)| after.get(name).copied().unwrap_or(0) >= *n)
        })
    };
    let join = |mut first: Vec<DiffOp>, second: Vec<DiffOp>| {
        // The lines between two hunks are equal on both sides.
        let (old_end, new_end) = first
            .last()
            .map_or((0, 0), |op| (op.old_range().end, op.new_range().end));
        let next_start = second.first().map_or(old_end, |op| op.old_range().start);
        if next_start > old_end {
            first.push(DiffOp::Equal {
                old_index: old_end,
                new_index: new_end,
                len: next_start - old_end,
            });
        }
        first.extend(second);
        first
    };
    let mut out: Vec<Vec<DiffOp>> = Vec::with_capacity(groups.len());
    let mut pending: Option<Vec<DiffOp>> = None;
    for group in groups {
        let mut current = match pending.take() {
            None => group,
            Some(merged) => join(merged, group),
        };
        if !stands_alone(&current) {
            // The other half may be in the hunk before: take it in.
            if let Some(previous) = out.pop() {
                current = join(previous, current);
            }
        }
        if stands_alone(&current) {
            out.push(current);
        } else {
            pending = Some(current);
        }
    }
    // What cannot stand alone even with every hunk around it: kept as merged.
    out.extend(pending);
    out
}

/// How many elements of each name a document holds.
fn element_counts(doc: &crate::syntax::Document) -> std::collections::HashMap<String, usize> {
    let mut out = std::collections::HashMap::new();
    for el in std::iter::once(doc.root()).chain(doc.root().descendants()) {
        *out.entry(el.name().to_ascii_lowercase()).or_insert(0) += 1;
    }
    out
}

fn write_hunk(out: &mut String, ops: &[DiffOp], old_lines: &[&str], new_lines: &[&str]) {
    let (Some(first), Some(last)) = (ops.first(), ops.last()) else {
        return;
    };
    let old_range = first.old_range().start..last.old_range().end;
    let new_range = first.new_range().start..last.new_range().end;
    out.push_str(&format!(
        "@@ -{} +{} @@\n",
        hunk_range(old_range),
        hunk_range(new_range)
    ));
    for op in ops {
        let (tag, old, new) = op.as_tag_tuple();
        match tag {
            DiffTag::Equal => push_lines(out, ' ', &old_lines[old]),
            DiffTag::Delete => push_lines(out, '-', &old_lines[old]),
            DiffTag::Insert => push_lines(out, '+', &new_lines[new]),
            DiffTag::Replace => {
                push_lines(out, '-', &old_lines[old]);
                push_lines(out, '+', &new_lines[new]);
            }
        }
    }
}

/// A hunk header range: `start,len` with a 1-based start; `,len` left out when it is 1, and
/// an empty range starts at the line before it (so an insertion at the top is `0,0`).
fn hunk_range(range: std::ops::Range<usize>) -> String {
    match range.len() {
        1 => format!("{}", range.start + 1),
        0 => format!("{},0", range.start),
        len => format!("{},{len}", range.start + 1),
    }
}

fn push_lines(out: &mut String, marker: char, lines: &[&str]) {
    for line in lines {
        out.push(marker);
        out.push_str(line);
        if !line.ends_with('\n') {
            out.push_str("\n\\ No newline at end of file\n");
        }
    }
}

/// `prefix` + `path`, C-quoted as git does when the name holds a control character, `"`,
/// `\` or a byte that is not UTF-8. `path` is a shown path (see `paths::escape_for_display`):
/// its escapes are read back to the name's bytes first, so the patch names the real file.
fn quote_path(prefix: &str, path: &str) -> String {
    let raw = crate::paths::unescape_display(path);
    let needs_quotes = std::str::from_utf8(&raw).is_err()
        || raw
            .iter()
            .any(|b| b.is_ascii_control() || *b == b'"' || *b == b'\\');
    if !needs_quotes {
        return format!("{prefix}{}", String::from_utf8_lossy(&raw));
    }
    let mut quoted = String::with_capacity(raw.len() + prefix.len() + 4);
    quoted.push('"');
    quoted.push_str(prefix);
    for chunk in raw.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => quoted.push_str("\\\""),
                '\\' => quoted.push_str("\\\\"),
                '\u{7}' => quoted.push_str("\\a"),
                '\u{8}' => quoted.push_str("\\b"),
                '\t' => quoted.push_str("\\t"),
                '\n' => quoted.push_str("\\n"),
                '\u{b}' => quoted.push_str("\\v"),
                '\u{c}' => quoted.push_str("\\f"),
                '\r' => quoted.push_str("\\r"),
                c if c.is_ascii_control() => quoted.push_str(&format!("\\{:03o}", c as u32)),
                c => quoted.push(c),
            }
        }
        for byte in chunk.invalid() {
            quoted.push_str(&format!("\\{byte:03o}"));
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_give_no_diff() {
        assert_eq!(unified_diff("p.xml", "a\nb\n", "a\nb\n"), "");
    }

    #[test]
    fn hunk_ranges_follow_the_unified_format() {
        assert_eq!(hunk_range(0..0), "0,0");
        assert_eq!(hunk_range(4..4), "4,0");
        assert_eq!(hunk_range(0..1), "1");
        assert_eq!(hunk_range(2..7), "3,5");
    }

    #[test]
    fn lone_cr_stays_inside_its_line() {
        let diff = unified_diff("p.xml", "a\rb\nc\n", "a\rb\nd\n");
        assert_eq!(
            diff,
            "diff --git a/p.xml b/p.xml\n--- a/p.xml\n+++ b/p.xml\n\
             @@ -1,2 +1,2 @@\n a\rb\n-c\n+d\n"
        );
    }

    #[test]
    fn paths_are_quoted_like_git() {
        assert_eq!(quote_path("a/", "x y.xml"), "a/x y.xml");
        assert_eq!(quote_path("a/", "é.xml"), "a/é.xml");
        assert_eq!(
            quote_path("a/", "x\"y\\z\t.xml"),
            "\"a/x\\\"y\\\\z\\t.xml\""
        );
        assert_eq!(quote_path("b/", "x\u{1}.xml"), "\"b/x\\001.xml\"");
    }

    #[test]
    fn a_move_far_apart_is_one_hunk_so_no_hunk_applied_alone_loses_it() {
        let mut old = String::from(
            "<policies>\n  <inbound>\n    <rate-limit calls=\"1\" renewal-period=\"1\" />\n",
        );
        for i in 0..10 {
            old.push_str(&format!("    <set-header name=\"h{i}\" exists-action=\"skip\"><value>1</value></set-header>\n"));
        }
        old.push_str("    <cors />\n  </inbound>\n</policies>\n");
        let new = old
            .replace("    <cors />\n", "")
            .replace("    <rate-limit", "    <cors />\n    <rate-limit");
        let diff = unified_diff("p.xml", &old, &new);
        assert_eq!(diff.matches("\n@@ ").count(), 1, "{diff}");
        // Two hunks when nothing would be lost by either alone.
        let spread = old
            .replace("name=\"h0\"", "name=\"x0\"")
            .replace("name=\"h9\"", "name=\"x9\"");
        assert_eq!(
            unified_diff("p.xml", &old, &spread)
                .matches("\n@@ ")
                .count(),
            2
        );
    }
}

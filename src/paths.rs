//! Paths as printed: one line each, and every name recoverable.
//!
//! A file name may hold any byte but `/` and NUL. Printed raw, a newline in a name forges a
//! `path:line:col: error:` line that CI problem matchers pick up, and an escape sequence
//! restyles the terminal; a name that is not UTF-8 shows as U+FFFD and cannot be typed back.
//! So names are printed with such characters escaped, Rust-style: `\n`, `\r`, `\t`, `\\`,
//! `\x1b` for other control characters and for each byte that is not UTF-8, and `\u{202e}` for
//! the invisible Unicode characters that reorder or break lines. A name made of printable
//! UTF-8 without a backslash prints unchanged.

use std::fmt::Write;
use std::path::Path;

/// `path` as one printable line; see the module docs for the escapes.
///
/// On Windows, `\` is the separator and prints as `/`; elsewhere it is part of a name and
/// prints as `\\`, so that every escape reads back one way.
pub fn escape_for_display(path: &Path) -> String {
    let bytes = path_bytes(path);
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_char(&mut out, c);
        }
        for byte in chunk.invalid() {
            let _ = write!(out, "\\x{byte:02x}");
        }
    }
    out
}

fn push_char(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\\' if cfg!(windows) => out.push('/'),
        '\\' => out.push_str("\\\\"),
        c if c.is_control() && (c as u32) < 0x100 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        // Line and paragraph separators, and the bidirectional controls that can make a
        // shown name read differently from the bytes it is made of.
        '\u{2028}'
        | '\u{2029}'
        | '\u{200e}'
        | '\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}' => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

#[cfg(unix)]
fn path_bytes(path: &Path) -> std::borrow::Cow<'_, [u8]> {
    use std::os::unix::ffi::OsStrExt;
    std::borrow::Cow::Borrowed(path.as_os_str().as_bytes())
}

#[cfg(not(unix))]
fn path_bytes(path: &Path) -> std::borrow::Cow<'_, [u8]> {
    // Windows names are UTF-16; an unpaired surrogate is the only thing that is not UTF-8,
    // and it is shown as U+FFFD.
    std::borrow::Cow::Owned(path.to_string_lossy().into_owned().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_print_unchanged() {
        assert_eq!(
            escape_for_display(Path::new("apis/écho/policy.xml")),
            "apis/écho/policy.xml"
        );
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            escape_for_display(Path::new("a\nb\r\tc\u{1b}[31m\u{7f}\u{85}.xml")),
            "a\\nb\\r\\tc\\x1b[31m\\x7f\\x85.xml"
        );
        assert_eq!(
            escape_for_display(Path::new("x\u{202e}lmx.exe")),
            "x\\u{202e}lmx.exe"
        );
    }

    #[cfg(unix)]
    #[test]
    fn bytes_that_are_not_utf8_are_escaped_and_backslashes_doubled() {
        use std::os::unix::ffi::OsStrExt;
        let name = std::ffi::OsStr::from_bytes(b"c\xff\\x.xml");
        assert_eq!(escape_for_display(Path::new(name)), "c\\xff\\\\x.xml");
    }
}

//! Path display and normalisation, for every layer that shows or compares paths: the one
//! home of the helpers that turn paths into what users read and what globs match.
//!
//! Paths as printed are one line each, and every name is recoverable. A file name may hold
//! any byte but `/` and NUL. Printed raw, a newline in a name forges a `path:line:col:
//! error:` line that CI problem matchers pick up, and an escape sequence restyles the
//! terminal; a name that is not UTF-8 shows as U+FFFD and cannot be typed back. So names are
//! printed with such characters escaped, Rust-style: `\n`, `\r`, `\t`, `\\`, `\x1b` for
//! other control characters and for each byte that is not UTF-8, and `\u{202e}` for the
//! invisible Unicode characters that reorder or break lines. A name made of printable UTF-8
//! without a backslash prints unchanged.

use std::fmt::Write;
use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

/// The names of the normal components of `path`: `.` and `..` and roots are skipped, since
/// only folder names matter to the patterns.
pub(crate) fn normal_components(path: &Path) -> Vec<&str> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(name) => name.to_str(),
            _ => None,
        })
        .collect()
}

/// `path` with `/` separators, for messages.
pub(crate) fn slash_path(path: &Path) -> String {
    let parts: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let joined = parts.join("/");
    // A leading root component renders as "/" and would double the separator.
    joined
        .strip_prefix("//")
        .map_or(joined.clone(), |rest| format!("/{rest}"))
}

/// The working directory, read once: a bulk run asks for it twice per file.
pub fn cwd() -> Option<&'static Path> {
    static CWD: OnceLock<Option<PathBuf>> = OnceLock::new();
    CWD.get_or_init(|| std::env::current_dir().ok()).as_deref()
}

/// `path` as shown to the user: relative to the working directory when below it,
/// `/`-separated.
pub fn display_path(path: &Path) -> String {
    let shown = cwd()
        .and_then(|cwd| path.strip_prefix(cwd).ok())
        .unwrap_or(path);
    let s = escape_for_display(shown);
    s.strip_prefix("./").map(str::to_owned).unwrap_or(s)
}

/// The identity of a file named by `path`: absolute, with `..` kept (after a symbolic link
/// `a/link/..` is not `a`), as `std::path::absolute` makes it. Against the working directory
/// read once, so that a bulk run makes no `getcwd` per file.
pub fn file_identity(path: &Path) -> PathBuf {
    let joined = match cwd() {
        Some(cwd) if path.is_relative() => cwd.join(path),
        _ => path.to_path_buf(),
    };
    std::path::absolute(&joined).unwrap_or(joined)
}

/// `path` made absolute against the current directory, with `.` and `..` removed
/// lexically (symlinks are not resolved: globs match the path the user sees, and config
/// files are looked for in the folders the user named).
pub fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        return normalize(path);
    }
    match std::env::current_dir() {
        Ok(cwd) => absolute_in(path, &cwd),
        // Without a current directory a relative path can still be matched as written.
        Err(_) => normalize(path),
    }
}

/// `path` made absolute against `cwd`, with `.` and `..` removed lexically.
pub fn absolute_in(path: &Path, cwd: &Path) -> PathBuf {
    normalize(&cwd.join(path))
}

pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                // `..` at the root stays at the root, as the OS does.
                Some(Component::RootDir | Component::Prefix(_)) => {}
                // A relative path climbing above its start keeps its `..`.
                None | Some(Component::ParentDir | Component::CurDir) => out.push(".."),
            },
            other => out.push(other),
        }
    }
    out
}

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

/// The bytes of a name [`escape_for_display`] printed: its escapes read back. Text that is
/// not one of its escapes is kept as written.
pub fn unescape_display(shown: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(shown.len());
    let mut rest = shown;
    while let Some(at) = rest.find('\\') {
        out.extend_from_slice(&rest.as_bytes()[..at]);
        let tail = &rest[at + 1..];
        let (bytes, used): (Vec<u8>, usize) = match tail.as_bytes().first() {
            Some(b'n') => (vec![b'\n'], 1),
            Some(b'r') => (vec![b'\r'], 1),
            Some(b't') => (vec![b'\t'], 1),
            Some(b'\\') => (vec![b'\\'], 1),
            Some(b'x') => match tail.get(1..3).and_then(|h| u8::from_str_radix(h, 16).ok()) {
                Some(byte) => (vec![byte], 3),
                None => (vec![b'\\'], 0),
            },
            Some(b'u') => {
                let code = tail
                    .strip_prefix("u{")
                    .and_then(|t| t.split_once('}'))
                    .and_then(|(hex, _)| Some((u32::from_str_radix(hex, 16).ok()?, hex.len())))
                    .and_then(|(n, len)| Some((char::from_u32(n)?, len)));
                match code {
                    Some((c, len)) => (c.to_string().into_bytes(), len + 3),
                    None => (vec![b'\\'], 0),
                }
            }
            _ => (vec![b'\\'], 0),
        };
        out.extend_from_slice(&bytes);
        rest = &tail[used..];
    }
    out.extend_from_slice(rest.as_bytes());
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
    fn normalize_removes_dots_lexically() {
        assert_eq!(normalize(Path::new("/a/./b/../c")), Path::new("/a/c"));
        assert_eq!(normalize(Path::new("/../a")), Path::new("/a"));
        assert_eq!(normalize(Path::new("../../a/./b")), Path::new("../../a/b"));
        assert_eq!(normalize(Path::new("a/../../b")), Path::new("../b"));
        assert_eq!(
            absolute_in(Path::new("./x/../y.xml"), Path::new("/w")),
            Path::new("/w/y.xml")
        );
    }

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

    #[cfg(unix)]
    #[test]
    fn every_escaped_name_reads_back() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;
        for raw in [
            &b"apis/plain/policy.xml"[..],
            b"a\nb\r\tc\x1b[31m.xml",
            b"back\\slash/x\xff\xfey.xml",
            "x\u{202e}lmx.exe".as_bytes(),
        ] {
            let shown = escape_for_display(Path::new(OsStr::from_bytes(raw)));
            assert_eq!(unescape_display(&shown), raw, "{shown}");
        }
    }
}

//! Path display and normalisation, for every layer that shows or compares paths: the one
//! home of the helpers that turn paths into what users read and what globs match.

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
    let s = shown.to_string_lossy().replace('\\', "/");
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
}

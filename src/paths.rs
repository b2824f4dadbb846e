//! Path display and normalisation, for every layer that shows or compares paths.

use std::path::{Component, Path};

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

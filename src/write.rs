//! Writing fixed files back without ever leaving a half-written or clobbered file.
//!
//! The new contents go to a temporary file in the target's folder, which is synced and then
//! renamed over the target, so a crash leaves either the old file or the new one. Before
//! that, the file is read again: if someone changed it since apimfix read it, their change
//! wins and nothing is written. Renaming gives the target a new inode, so hard links to it
//! keep the old contents and the owner becomes the user running apimfix; the permission bits
//! are copied over.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Why a file was not written. The file is untouched in every case.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{}: cannot read before writing: {error}", path.display())]
    Read { path: PathBuf, error: io::Error },
    #[error("{}: changed on disk since it was read; not written", path.display())]
    ChangedOnDisk { path: PathBuf },
    #[error("{}: is read-only; not written", path.display())]
    ReadOnly { path: PathBuf },
    /// The path became a symbolic link after it was read; renaming over it would replace
    /// the link, not its target.
    #[error("{}: is a symbolic link; not written", path.display())]
    Symlink { path: PathBuf },
    #[error("{}: cannot write a temporary file next to it: {error}", path.display())]
    TempFile { path: PathBuf, error: io::Error },
    #[error("{}: cannot replace it with the new contents: {error}", path.display())]
    Replace { path: PathBuf, error: io::Error },
}

impl WriteError {
    /// The file that was not written.
    pub fn path(&self) -> &Path {
        match self {
            WriteError::Read { path, .. }
            | WriteError::ChangedOnDisk { path }
            | WriteError::ReadOnly { path }
            | WriteError::Symlink { path }
            | WriteError::TempFile { path, .. }
            | WriteError::Replace { path, .. } => path,
        }
    }
}

/// Replaces the contents of `path`, which held `original` when it was read, by
/// `new_contents`, atomically.
pub fn write_atomic(path: &Path, new_contents: &[u8], original: &[u8]) -> Result<(), WriteError> {
    let read_error = |error| WriteError::Read {
        path: path.to_owned(),
        error,
    };
    let link_metadata = fs::symlink_metadata(path).map_err(read_error)?;
    if link_metadata.file_type().is_symlink() {
        return Err(WriteError::Symlink {
            path: path.to_owned(),
        });
    }
    let current = fs::read(path).map_err(read_error)?;
    if current != original {
        return Err(WriteError::ChangedOnDisk {
            path: path.to_owned(),
        });
    }
    let permissions = link_metadata.permissions();
    // Checked by hand: renaming only needs write access to the folder, and root may write
    // anything, so without this a read-only file would be replaced silently.
    if permissions.readonly() {
        return Err(WriteError::ReadOnly {
            path: path.to_owned(),
        });
    }

    replace(path, new_contents, permissions, || ())
}

/// Steps 3 and on of [`write_atomic`]; `before_rename` lets tests break the rename.
fn replace(
    path: &Path,
    new_contents: &[u8],
    permissions: fs::Permissions,
    before_rename: impl FnOnce(),
) -> Result<(), WriteError> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let temp_error = |error| WriteError::TempFile {
        path: path.to_owned(),
        error,
    };
    // Dropping `temp` on any early return deletes it.
    let mut temp = tempfile::Builder::new()
        .prefix(".apimfix-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(temp_error)?;
    temp.write_all(new_contents).map_err(temp_error)?;
    // Permissions before the sync, so that the sync covers them too.
    temp.as_file()
        .set_permissions(permissions)
        .map_err(temp_error)?;
    temp.as_file().sync_all().map_err(temp_error)?;
    before_rename();
    temp.persist(path).map_err(|err| WriteError::Replace {
        path: path.to_owned(),
        error: err.error,
    })?;
    sync_dir(dir);
    Ok(())
}

/// Makes the rename itself durable. Best effort: the file is already replaced, so failing
/// here would report an error for a write that happened.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(handle) = fs::File::open(dir) {
        let _ = handle.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_rename_removes_the_temp_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("policy.xml");
        fs::write(&target, "old").expect("write");
        let permissions = fs::metadata(&target).expect("metadata").permissions();
        // A non-empty folder in the target's place makes the rename fail.
        let err = replace(&target, b"new", permissions, || {
            fs::remove_file(&target).expect("remove");
            fs::create_dir(&target).expect("mkdir");
            fs::write(target.join("keep"), "x").expect("write");
        })
        .expect_err("rename over a folder");
        assert!(matches!(err, WriteError::Replace { .. }), "{err:?}");
        let names: Vec<_> = fs::read_dir(dir.path())
            .expect("read_dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["policy.xml"]);
        assert!(target.join("keep").is_file());
    }
}

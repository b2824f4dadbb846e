//! `write_atomic`: replaces contents, keeps permissions, refuses stale or read-only files,
//! and never leaves temporary files behind.

use std::fs;
use std::path::{Path, PathBuf};

use apimfix::write::{WriteError, write_atomic};

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut names: Vec<PathBuf> = fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").path())
        .collect();
    names.sort();
    names
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).expect("metadata").permissions().mode() & 0o7777
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
}

#[test]
fn replaces_contents_and_leaves_nothing_else() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("policy.xml");
    fs::write(&file, "<policies/>\n").expect("write");
    write_atomic(&file, b"<policies />\n", b"<policies/>\n").expect("written");
    assert_eq!(fs::read(&file).expect("read"), b"<policies />\n");
    assert_eq!(entries(dir.path()), [file]);
}

#[cfg(unix)]
#[test]
fn keeps_permission_bits() {
    let dir = tempfile::tempdir().expect("tempdir");
    for wanted in [0o640, 0o755, 0o600] {
        let file = dir.path().join(format!("p{wanted:o}.xml"));
        fs::write(&file, "old").expect("write");
        set_mode(&file, wanted);
        write_atomic(&file, b"new", b"old").expect("written");
        assert_eq!(mode(&file), wanted, "{}", file.display());
        assert_eq!(fs::read(&file).expect("read"), b"new");
    }
}

#[test]
fn refuses_a_file_changed_since_it_was_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("policy.xml");
    fs::write(&file, "edited by someone else").expect("write");
    let err = write_atomic(&file, b"fixed", b"as read").expect_err("stale");
    assert!(matches!(err, WriteError::ChangedOnDisk { .. }), "{err:?}");
    assert_eq!(err.path(), file);
    assert!(
        err.to_string()
            .contains("changed on disk since it was read"),
        "{err}"
    );
    assert_eq!(fs::read(&file).expect("read"), b"edited by someone else");
    assert_eq!(entries(dir.path()), [file]);
}

#[test]
fn refuses_a_read_only_file_even_as_root() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("policy.xml");
    fs::write(&file, "old").expect("write");
    let mut permissions = fs::metadata(&file).expect("metadata").permissions();
    permissions.set_readonly(true);
    fs::set_permissions(&file, permissions).expect("chmod");
    let err = write_atomic(&file, b"new", b"old").expect_err("read-only");
    assert!(matches!(err, WriteError::ReadOnly { .. }), "{err:?}");
    assert!(err.to_string().contains("read-only"), "{err}");
    assert_eq!(fs::read(&file).expect("read"), b"old");
    assert_eq!(entries(dir.path()), std::slice::from_ref(&file));
    // Let the temp dir clean up on platforms that need write access to delete.
    let mut permissions = fs::metadata(&file).expect("metadata").permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    permissions.set_readonly(false);
    fs::set_permissions(&file, permissions).expect("chmod");
}

#[test]
fn missing_file_is_a_read_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("gone.xml");
    let err = write_atomic(&file, b"new", b"old").expect_err("missing");
    assert!(matches!(err, WriteError::Read { .. }), "{err:?}");
    assert!(entries(dir.path()).is_empty());
}

#[cfg(unix)]
#[test]
fn refuses_to_replace_a_symlink() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("target.xml");
    let link = dir.path().join("link.xml");
    fs::write(&target, "old").expect("write");
    std::os::unix::fs::symlink(&target, &link).expect("symlink");
    let err = write_atomic(&link, b"new", b"old").expect_err("symlink");
    assert!(matches!(err, WriteError::Symlink { .. }), "{err:?}");
    assert!(
        fs::symlink_metadata(&link)
            .expect("lstat")
            .file_type()
            .is_symlink()
    );
    assert_eq!(fs::read(&target).expect("read"), b"old");
    assert_eq!(entries(dir.path()), [link, target]);
}

#[cfg(unix)]
#[test]
fn unwritable_folder_leaves_the_file_alone() {
    // Root ignores folder permissions, so there the write goes through; for anyone else the
    // temporary file cannot be created. (The unit tests in `write.rs` cover a failure after
    // the temporary file exists.)
    let dir = tempfile::tempdir().expect("tempdir");
    let sub = dir.path().join("locked");
    fs::create_dir(&sub).expect("mkdir");
    let file = sub.join("policy.xml");
    fs::write(&file, "old").expect("write");
    set_mode(&sub, 0o555);
    let result = write_atomic(&file, b"new", b"old");
    set_mode(&sub, 0o755);
    match result {
        Err(WriteError::TempFile { .. }) => assert_eq!(fs::read(&file).expect("read"), b"old"),
        Ok(()) => assert_eq!(fs::read(&file).expect("read"), b"new"),
        Err(other) => panic!("unexpected error: {other}"),
    }
    assert_eq!(entries(&sub), [file]);
}

#[test]
fn odd_folder_names_are_fine() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sub = dir.path().join("my apis;rev=2");
    fs::create_dir(&sub).expect("mkdir");
    let file = sub.join("echo api;rev=2.xml");
    fs::write(&file, "old").expect("write");
    write_atomic(&file, b"new", b"old").expect("written");
    assert_eq!(fs::read(&file).expect("read"), b"new");
    assert_eq!(entries(&sub), [file]);
}

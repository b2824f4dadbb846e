//! What `--write` keeps of a file besides its contents (issue 16 item 5): owner, group,
//! extended attributes and POSIX ACLs; and a file with hard links is refused, not split.

use std::fs;
use std::path::Path;

use apimfix::write::{WriteError, write_atomic};

#[cfg(target_os = "linux")]
fn c_path(path: &Path) -> std::ffi::CString {
    std::ffi::CString::new(path.to_str().unwrap()).unwrap()
}

#[cfg(target_os = "linux")]
fn set_xattr(path: &Path, name: &str, value: &[u8]) -> std::io::Result<()> {
    let name = std::ffi::CString::new(name).unwrap();
    // SAFETY: valid NUL-terminated strings and a buffer of the given length.
    let r = unsafe {
        libc::setxattr(
            c_path(path).as_ptr(),
            name.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(target_os = "linux")]
fn get_xattr(path: &Path, name: &str) -> Option<Vec<u8>> {
    let name = std::ffi::CString::new(name).unwrap();
    let mut buf = vec![0u8; 4096];
    // SAFETY: valid NUL-terminated strings and a buffer of the given length.
    let n = unsafe {
        libc::getxattr(
            c_path(path).as_ptr(),
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    (n >= 0).then(|| {
        buf.truncate(n as usize);
        buf
    })
}

/// An access ACL in the kernel's xattr form: user::rw-, user:1234:r--, group::r--,
/// mask::r--, other::---.
#[cfg(target_os = "linux")]
fn acl_granting_uid_1234() -> Vec<u8> {
    let mut acl = 2u32.to_le_bytes().to_vec();
    for (tag, perm, id) in [
        (0x01u16, 6u16, u32::MAX),
        (0x02, 4, 1234),
        (0x04, 4, u32::MAX),
        (0x10, 4, u32::MAX),
        (0x20, 0, u32::MAX),
    ] {
        acl.extend(tag.to_le_bytes());
        acl.extend(perm.to_le_bytes());
        acl.extend(id.to_le_bytes());
    }
    acl
}

#[cfg(target_os = "linux")]
#[test]
fn keeps_owner_and_group_when_it_may() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("policy.xml");
    fs::write(&file, "old").expect("write");
    // Only root may give a file away; elsewhere this test has nothing to show.
    if std::os::unix::fs::chown(&file, Some(1234), Some(5678)).is_err() {
        return;
    }
    write_atomic(&file, b"new", b"old").expect("written");
    let m = fs::metadata(&file).expect("metadata");
    assert_eq!((m.uid(), m.gid()), (1234, 5678));
    assert_eq!(fs::read(&file).expect("read"), b"new");
}

#[cfg(target_os = "linux")]
#[test]
fn keeps_extended_attributes_and_acls() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("policy.xml");
    fs::write(&file, "old").expect("write");
    if set_xattr(&file, "user.apimfix-test", b"kept").is_err() {
        return; // a file system without user xattrs
    }
    let acl = acl_granting_uid_1234();
    let has_acl = set_xattr(&file, "system.posix_acl_access", &acl).is_ok();
    write_atomic(&file, b"new", b"old").expect("written");
    assert_eq!(
        get_xattr(&file, "user.apimfix-test").as_deref(),
        Some(&b"kept"[..])
    );
    if has_acl {
        assert_eq!(
            get_xattr(&file, "system.posix_acl_access").as_deref(),
            Some(&acl[..])
        );
    }
}

/// A folder's default ACL would give the new file an access ACL the old one did not have.
#[cfg(target_os = "linux")]
#[test]
fn does_not_gain_a_folder_default_acl() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("policy.xml");
    fs::write(&file, "old").expect("write");
    if set_xattr(
        dir.path(),
        "system.posix_acl_default",
        &acl_granting_uid_1234(),
    )
    .is_err()
    {
        return;
    }
    assert!(get_xattr(&file, "system.posix_acl_access").is_none());
    write_atomic(&file, b"new", b"old").expect("written");
    assert!(get_xattr(&file, "system.posix_acl_access").is_none());
}

#[cfg(unix)]
#[test]
fn refuses_a_file_with_hard_links() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("policy.xml");
    let other = dir.path().join("copy.xml");
    fs::write(&file, "old").expect("write");
    fs::hard_link(&file, &other).expect("link");
    let err = write_atomic(&file, b"new", b"old").expect_err("hard links");
    assert!(
        matches!(err, WriteError::HardLinks { links: 2, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("has 2 hard links"), "{err}");
    assert_eq!(fs::read(&file).expect("read"), b"old");
    assert_eq!(fs::read(&other).expect("read"), b"old");
}

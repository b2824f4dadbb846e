//! Writing fixed files back without ever leaving a half-written or clobbered file, and
//! without losing an edit made meanwhile.
//!
//! A write goes in two steps, so that many files share one sync:
//!
//! 1. [`WriteBatch::stage`]: open the target, take an advisory lock on it (`flock`, so two
//!    apimfix processes never write one file at once: the second is refused, not queued),
//!    check that it still holds what apimfix read and note its identity (device, inode, size,
//!    modification and change times); then write the new contents to a temporary file
//!    `.apimfix-XXXXXX.tmp` in the same folder, with the target's permission bits, owner,
//!    group and extended attributes (POSIX ACLs included).
//! 2. [`WriteBatch::commit`]: make every temporary file durable (`fsync`s issued together
//!    from several threads, so the file system serves them with a few journal commits), then
//!    for each file check again, right before renaming, that the target has the same identity
//!    and contents as in step 1, and rename the temporary file over it; last, sync each
//!    folder that changed, together again.
//!
//! The lock is on the target itself rather than on a lock file: nothing is left behind, and
//! a lock dies with its process. It only keeps out other apimfix processes (editors do not
//! take it), which is why the check before the rename is done as well.
//!
//! What this promises: after a successful commit, every written file has its new contents
//! on disk, and its name points at them even after a power loss. Until then, a crash leaves
//! each file with either its old contents or its new ones, never a mix. An edit made by
//! anyone before the rename is kept: the file is then not written, with
//! [`WriteError::ChangedOnDisk`]. An edit made after the rename is the editor's own.
//!
//! Refused, the file untouched: a symbolic link (renaming would replace the link), a file
//! with other hard links (they would keep the old contents), a read-only file, and a file
//! whose owner, group or extended attributes cannot be given to the new contents.
//!
//! Temporary files are removed on any error, and on SIGINT, SIGTERM or SIGHUP before the
//! process ends as the signal asks. A run killed with SIGKILL leaves them: see
//! [`is_stray_temp_name`] and [`remove_stray_temp`].

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Why a file was not written. The file is untouched in every case. Display says what went
/// wrong; [`WriteError::path`] says which file.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot read before writing: {error}")]
    Read { path: PathBuf, error: io::Error },
    /// Its contents or identity changed since apimfix read it: someone else's edit wins.
    #[error("changed on disk since it was read; not written (run apimfix again)")]
    ChangedOnDisk { path: PathBuf },
    /// Another apimfix process holds its lock and is writing it.
    #[error("another apimfix process is writing it; not written (run apimfix again)")]
    Locked { path: PathBuf },
    #[error("is read-only; not written")]
    ReadOnly { path: PathBuf },
    /// The path became a symbolic link after it was read; renaming over it would replace
    /// the link, not its target.
    #[error("is a symbolic link; not written")]
    Symlink { path: PathBuf },
    /// Replacing it would leave its other names with the old contents.
    #[error(
        "has {links} hard links, which would keep the old contents; not written (break the link first, e.g. `cp f f.tmp && mv f.tmp f`)"
    )]
    HardLinks { path: PathBuf, links: u64 },
    /// The new file could not be given the target's owner, group or extended attributes.
    #[error("cannot keep its {what} on the new contents: {error}; not written")]
    Metadata {
        path: PathBuf,
        what: String,
        error: io::Error,
    },
    #[error("cannot write a temporary file next to it: {error}")]
    TempFile { path: PathBuf, error: io::Error },
    #[error("cannot replace it with the new contents: {error}")]
    Replace { path: PathBuf, error: io::Error },
}

impl WriteError {
    /// The file that was not written.
    pub fn path(&self) -> &Path {
        match self {
            WriteError::Read { path, .. }
            | WriteError::ChangedOnDisk { path }
            | WriteError::Locked { path }
            | WriteError::ReadOnly { path }
            | WriteError::Symlink { path }
            | WriteError::HardLinks { path, .. }
            | WriteError::Metadata { path, .. }
            | WriteError::TempFile { path, .. }
            | WriteError::Replace { path, .. } => path,
        }
    }
}

/// Replaces the contents of `path`, which held `original` when it was read, by
/// `new_contents`, atomically: a batch of one.
pub fn write_atomic(path: &Path, new_contents: &[u8], original: &[u8]) -> Result<(), WriteError> {
    let batch = WriteBatch::new();
    batch.stage(path, new_contents, original)?;
    match batch.commit().pop() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Files staged for writing, renamed into place together by [`WriteBatch::commit`]. Shared
/// between threads: `stage` takes `&self`.
pub struct WriteBatch<'a> {
    staged: Mutex<Vec<Staged<'a>>>,
    /// Errors of the files that failed in an early commit (see [`STAGED_AT_MOST`]).
    failed: Mutex<Vec<WriteError>>,
}

/// A batch commits by itself when this many files are staged: each holds two open files
/// (the locked target and its temporary file), and the open file limit is often 1,024.
const STAGED_AT_MOST: usize = 128;

impl Default for WriteBatch<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> WriteBatch<'a> {
    pub fn new() -> Self {
        Self {
            staged: Mutex::new(Vec::new()),
            failed: Mutex::new(Vec::new()),
        }
    }

    /// Step 1 (see the module docs) for `path`, which held `original` when it was read. An
    /// error here is final for that file; [`WriteBatch::commit`] may still refuse it.
    pub fn stage(
        &self,
        path: &Path,
        new_contents: &[u8],
        original: &'a [u8],
    ) -> Result<(), WriteError> {
        let staged = stage(path, new_contents, original)?;
        let full = {
            let mut all = lock(&self.staged);
            all.push(staged);
            if all.len() >= STAGED_AT_MOST {
                Some(std::mem::take(&mut *all))
            } else {
                None
            }
        };
        if let Some(full) = full {
            let errors = commit(full, |_| ());
            lock(&self.failed).extend(errors);
        }
        Ok(())
    }

    /// Step 2: syncs, checks again and renames every staged file. Returns the errors of the
    /// files not written, each untouched.
    pub fn commit(self) -> Vec<WriteError> {
        let staged = self.staged.into_inner().unwrap_or_else(|e| e.into_inner());
        let mut failed = self.failed.into_inner().unwrap_or_else(|e| e.into_inner());
        failed.extend(commit(staged, |_| ()));
        failed
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A file between its two steps.
struct Staged<'a> {
    path: PathBuf,
    original: &'a [u8],
    /// Open, with the advisory lock held until this is dropped.
    target: File,
    identity: Identity,
    temp: TempFile,
}

/// What tells a file apart from a file put in its place or written meanwhile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Identity {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Identity {
    #[cfg(unix)]
    fn of(m: &fs::Metadata) -> Identity {
        use std::os::unix::fs::MetadataExt;
        Identity {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
        }
    }

    #[cfg(not(unix))]
    fn of(m: &fs::Metadata) -> Identity {
        let nanos = |t: io::Result<std::time::SystemTime>| {
            t.ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or((0, 0), |d| {
                    (d.as_secs() as i64, i64::from(d.subsec_nanos()))
                })
        };
        Identity {
            dev: 0,
            ino: 0,
            size: m.len(),
            mtime: nanos(m.modified()),
            ctime: nanos(m.created()),
        }
    }
}

fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

fn stage<'a>(
    path: &Path,
    new_contents: &[u8],
    original: &'a [u8],
) -> Result<Staged<'a>, WriteError> {
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
    let mut target = open_no_follow(path).map_err(|error| {
        if is_symlink_error(&error) {
            WriteError::Symlink {
                path: path.to_owned(),
            }
        } else {
            read_error(error)
        }
    })?;
    if !try_lock(&target).map_err(read_error)? {
        return Err(WriteError::Locked {
            path: path.to_owned(),
        });
    }
    let metadata = target.metadata().map_err(read_error)?;
    let before = Identity::of(&metadata);
    if links(&metadata) > 1 {
        return Err(WriteError::HardLinks {
            path: path.to_owned(),
            links: links(&metadata),
        });
    }
    let permissions = metadata.permissions();
    // Checked by hand: renaming only needs write access to the folder, and root may write
    // anything, so without this a read-only file would be replaced silently.
    if permissions.readonly() {
        return Err(WriteError::ReadOnly {
            path: path.to_owned(),
        });
    }
    if !same_contents(&mut target, original).map_err(read_error)?
        || Identity::of(&target.metadata().map_err(read_error)?) != before
        || Identity::of(&link_metadata) != before
    {
        return Err(WriteError::ChangedOnDisk {
            path: path.to_owned(),
        });
    }

    let temp_error = |error| WriteError::TempFile {
        path: path.to_owned(),
        error,
    };
    let mut temp = TempFile::create_in(folder_of(path)).map_err(temp_error)?;
    temp.file.write_all(new_contents).map_err(temp_error)?;
    keep_metadata(&target, &metadata, &temp.file).map_err(|(what, error)| {
        WriteError::Metadata {
            path: path.to_owned(),
            what,
            error,
        }
    })?;
    Ok(Staged {
        path: path.to_owned(),
        original,
        target,
        identity: before,
        temp,
    })
}

/// Whether `file`, read from its start, holds exactly `expected`.
fn same_contents(file: &mut File, expected: &[u8]) -> io::Result<bool> {
    use std::io::Seek;
    file.seek(io::SeekFrom::Start(0))?;
    let mut current = Vec::with_capacity(expected.len() + 1);
    file.take(expected.len() as u64 + 1)
        .read_to_end(&mut current)?;
    Ok(current == expected)
}

/// Step 2 for `staged`; `before_rename` lets tests change a file in the last window.
fn commit(staged: Vec<Staged<'_>>, before_rename: impl Fn(&Path)) -> Vec<WriteError> {
    if staged.is_empty() {
        return Vec::new();
    }
    let mut errors = Vec::new();
    let synced = sync_temps(&staged);
    // Each folder renamed into, with its file system.
    let mut folders: Vec<(u64, PathBuf)> = Vec::new();
    for (mut file, sync) in staged.into_iter().zip(synced) {
        if let Err(error) = sync {
            errors.push(WriteError::TempFile {
                path: file.path,
                error,
            });
            continue;
        }
        before_rename(&file.path);
        if !unchanged_since_staged(&mut file) {
            errors.push(WriteError::ChangedOnDisk { path: file.path });
            continue;
        }
        if let Err(error) = file.temp.persist(&file.path) {
            errors.push(WriteError::Replace {
                path: file.path,
                error,
            });
            continue;
        }
        let folder = folder_of(&file.path);
        if !folders.iter().any(|(_, f)| f == folder) {
            folders.push((file.identity.dev, folder.to_owned()));
        }
        // The lock goes with `file.target`, after the rename.
    }
    sync_folders(&folders);
    errors
}

/// Makes the renames into `folders` durable, syncing the folders many at once (an APIOps
/// repo keeps each policy in a folder of its own, so one after the other would be a sync
/// per file). Best effort: the files are already replaced, so failing here would report an
/// error for a write that happened.
fn sync_folders(folders: &[(u64, PathBuf)]) {
    #[cfg(unix)]
    {
        let handles: Vec<File> = folders
            .iter()
            .filter_map(|(_, folder)| File::open(folder).ok())
            .collect();
        let refs: Vec<&File> = handles.iter().collect();
        let _ = sync_all_at_once(&refs);
    }
    #[cfg(not(unix))]
    let _ = folders;
}

/// The check right before the rename: same identity (no rename, delete, or write in
/// place since step 1, which changes the times) and same contents.
fn unchanged_since_staged(file: &mut Staged<'_>) -> bool {
    let Ok(now) = fs::symlink_metadata(&file.path) else {
        return false;
    };
    Identity::of(&now) == file.identity
        && same_contents(&mut file.target, file.original).unwrap_or(false)
}

/// Makes every temporary file durable: `fsync` each, many at once. A file system commits
/// the syncs that wait together in one journal commit, so the batch costs a few commits
/// instead of one per file. (`syncfs` would be one call, but it also writes out whatever
/// other programs have pending on the same file system, which on a busy machine cost more.)
fn sync_temps(staged: &[Staged<'_>]) -> Vec<io::Result<()>> {
    let files: Vec<&File> = staged.iter().map(|file| &file.temp.file).collect();
    sync_all_at_once(&files)
}

/// How many syncs wait at once: enough to fill a journal commit, few enough for threads.
const SYNCS_AT_ONCE: usize = 16;

/// `sync_all` on each of `files`, from up to [`SYNCS_AT_ONCE`] threads; results in order.
fn sync_all_at_once(files: &[&File]) -> Vec<io::Result<()>> {
    if files.len() <= 1 {
        return files.iter().map(|f| f.sync_all()).collect();
    }
    let per_thread = files.len().div_ceil(SYNCS_AT_ONCE);
    std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(per_thread)
            .map(|chunk| scope.spawn(move || chunk.iter().map(|f| f.sync_all()).collect()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|_| vec![Err(io::Error::other("sync thread panicked"))])
            })
            .collect::<Vec<io::Result<()>>>()
    })
}

fn open_no_follow(path: &Path) -> io::Result<File> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    options.open(path)
}

fn is_symlink_error(error: &io::Error) -> bool {
    #[cfg(target_os = "linux")]
    return error.raw_os_error() == Some(libc::ELOOP);
    #[cfg(not(target_os = "linux"))]
    {
        let _ = error;
        false
    }
}

/// Takes the advisory lock without waiting: `false` when another process holds it.
fn try_lock(file: &File) -> io::Result<bool> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: a valid open descriptor.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(true);
        }
        let error = io::Error::last_os_error();
        if error.raw_os_error() == Some(libc::EWOULDBLOCK) {
            return Ok(false);
        }
        Err(error)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = file;
        Ok(true)
    }
}

fn links(metadata: &fs::Metadata) -> u64 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        metadata.nlink()
    }
    #[cfg(not(unix))]
    {
        let _ = metadata;
        1
    }
}

/// Gives `temp` the owner, group, permission bits and extended attributes of `target`. On
/// failure, what could not be kept.
fn keep_metadata(
    target: &File,
    metadata: &fs::Metadata,
    temp: &File,
) -> Result<(), (String, io::Error)> {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        use std::os::unix::fs::MetadataExt;
        let mine = temp
            .metadata()
            .map_err(|e| ("owner and group".to_owned(), e))?;
        // Owner first: changing it clears set-user-ID bits, which the mode then restores.
        if (mine.uid(), mine.gid()) != (metadata.uid(), metadata.gid()) {
            // SAFETY: a valid open descriptor.
            let r = unsafe { libc::fchown(temp.as_raw_fd(), metadata.uid(), metadata.gid()) };
            if r != 0 {
                let what = if mine.uid() != metadata.uid() {
                    format!("owner (uid {})", metadata.uid())
                } else {
                    format!("group (gid {})", metadata.gid())
                };
                return Err((what, io::Error::last_os_error()));
            }
        }
    }
    temp.set_permissions(metadata.permissions())
        .map_err(|e| ("permission bits".to_owned(), e))?;
    #[cfg(target_os = "linux")]
    xattr::copy(target, temp)?;
    #[cfg(not(target_os = "linux"))]
    let _ = target;
    Ok(())
}

/// Extended attributes, POSIX ACLs (`system.posix_acl_access`) among them.
#[cfg(target_os = "linux")]
mod xattr {
    use std::ffi::CStr;
    use std::fs::File;
    use std::io;
    use std::os::fd::AsRawFd;

    /// Makes `to`'s extended attributes those of `from`: copies each one that differs, and
    /// removes those `to` got from its folder (a default ACL) that `from` does not have.
    pub(super) fn copy(from: &File, to: &File) -> Result<(), (String, io::Error)> {
        let listed = |f: &File| names(f).map_err(|e| ("extended attributes".to_owned(), e));
        let wanted = listed(from)?;
        let present = listed(to)?;
        for name in &wanted {
            let shown = || format!("extended attribute `{}`", name.to_string_lossy());
            let value = get(from, name).map_err(|e| (shown(), e))?;
            if present.contains(name) && get(to, name).ok().as_ref() == Some(&value) {
                continue;
            }
            // SAFETY: valid descriptor, NUL-terminated name, buffer of the given length.
            let r = unsafe {
                libc::fsetxattr(
                    to.as_raw_fd(),
                    name.as_ptr(),
                    value.as_ptr().cast(),
                    value.len(),
                    0,
                )
            };
            if r != 0 {
                return Err((shown(), io::Error::last_os_error()));
            }
        }
        for name in present.iter().filter(|n| !wanted.contains(n)) {
            // SAFETY: valid descriptor, NUL-terminated name.
            if unsafe { libc::fremovexattr(to.as_raw_fd(), name.as_ptr()) } != 0 {
                let shown = format!("extended attributes (`{}`)", name.to_string_lossy());
                return Err((shown, io::Error::last_os_error()));
            }
        }
        Ok(())
    }

    fn names(file: &File) -> io::Result<Vec<std::ffi::CString>> {
        let fd = file.as_raw_fd();
        loop {
            // SAFETY: a null buffer of size 0 asks for the size.
            let size = unsafe { libc::flistxattr(fd, std::ptr::null_mut(), 0) };
            if size < 0 {
                let error = io::Error::last_os_error();
                // A file system without extended attributes has none to keep.
                if error.raw_os_error() == Some(libc::ENOTSUP) {
                    return Ok(Vec::new());
                }
                return Err(error);
            }
            let mut buf = vec![0u8; size as usize];
            // SAFETY: a buffer of the given length.
            let got = unsafe { libc::flistxattr(fd, buf.as_mut_ptr().cast(), buf.len()) };
            if got < 0 {
                let error = io::Error::last_os_error();
                // Grew between the two calls: ask again.
                if error.raw_os_error() == Some(libc::ERANGE) {
                    continue;
                }
                return Err(error);
            }
            buf.truncate(got as usize);
            return Ok(buf
                .split_inclusive(|b| *b == 0)
                .filter_map(|n| CStr::from_bytes_with_nul(n).ok())
                .map(CStr::to_owned)
                .collect());
        }
    }

    fn get(file: &File, name: &CStr) -> io::Result<Vec<u8>> {
        let fd = file.as_raw_fd();
        loop {
            // SAFETY: a null buffer of size 0 asks for the size.
            let size = unsafe { libc::fgetxattr(fd, name.as_ptr(), std::ptr::null_mut(), 0) };
            if size < 0 {
                return Err(io::Error::last_os_error());
            }
            let mut buf = vec![0u8; size as usize];
            // SAFETY: a buffer of the given length.
            let got =
                unsafe { libc::fgetxattr(fd, name.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
            if got < 0 {
                let error = io::Error::last_os_error();
                if error.raw_os_error() == Some(libc::ERANGE) {
                    continue;
                }
                return Err(error);
            }
            buf.truncate(got as usize);
            return Ok(buf);
        }
    }
}

/// The prefix and suffix of our temporary files: `.apimfix-` six letters or digits `.tmp`.
const TEMP_PREFIX: &str = ".apimfix-";
const TEMP_SUFFIX: &str = ".tmp";
const TEMP_RANDOM: usize = 6;

/// Whether `name` is exactly the name of an apimfix temporary file.
pub fn is_stray_temp_name(name: &std::ffi::OsStr) -> bool {
    let Some(name) = name.to_str() else {
        return false;
    };
    name.strip_prefix(TEMP_PREFIX)
        .and_then(|rest| rest.strip_suffix(TEMP_SUFFIX))
        .is_some_and(|random| {
            random.len() == TEMP_RANDOM && random.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

/// How old a temporary file must be before [`remove_stray_temp`] takes it for a leftover:
/// one being written now is seconds old, and also locked.
pub const STRAY_AGE: std::time::Duration = std::time::Duration::from_secs(60);

/// Removes `path` if it is an apimfix temporary file that no apimfix process is writing:
/// named as ours, a regular file, unlocked, and older than [`STRAY_AGE`]. `Ok(false)`
/// when it is left alone.
pub fn remove_stray_temp(path: &Path) -> io::Result<bool> {
    if !path.file_name().is_some_and(is_stray_temp_name) {
        return Ok(false);
    }
    let file = open_no_follow(path)?;
    let metadata = file.metadata()?;
    let old_enough = metadata
        .modified()
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age >= STRAY_AGE);
    if !metadata.is_file() || !old_enough || !try_lock(&file)? {
        return Ok(false);
    }
    fs::remove_file(path)?;
    Ok(true)
}

/// A temporary file of ours: removed when dropped unless renamed, and known to the signal
/// handler meanwhile.
struct TempFile {
    path: PathBuf,
    file: File,
    persisted: bool,
    _registered: interrupt::Registered,
}

impl TempFile {
    fn create_in(dir: &Path) -> io::Result<TempFile> {
        let mut last = None;
        for _ in 0..32 {
            let path = dir.join(format!("{TEMP_PREFIX}{}{TEMP_SUFFIX}", random_name()));
            let mut options = fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            match interrupt::create(&path, || options.open(&path)) {
                Ok((file, registered)) => {
                    // Locked while it lives, so that another run does not take it for a
                    // leftover (see `remove_stray_temp`).
                    let _ = try_lock(&file);
                    return Ok(TempFile {
                        path,
                        file,
                        persisted: false,
                        _registered: registered,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("no free temporary file name")))
    }

    fn persist(&mut self, to: &Path) -> io::Result<()> {
        fs::rename(&self.path, to)?;
        self.persisted = true;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.persisted {
            let _ = fs::remove_file(&self.path);
        }
    }
}

fn random_name() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    // RandomState is seeded at random per process; the counter varies it per call.
    let mut hasher = std::hash::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    let mut n = hasher.finish();
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    (0..TEMP_RANDOM)
        .map(|_| {
            let c = ALPHABET[(n % ALPHABET.len() as u64) as usize] as char;
            n /= ALPHABET.len() as u64;
            c
        })
        .collect()
}

/// Removing our temporary files when the run is interrupted.
///
/// The handler only writes the signal's number to a pipe (all a signal handler may safely
/// do); a thread reading the pipe removes every registered temporary file, then restores
/// the default action and raises the signal again, so the process ends as it would have.
/// Installed on the first temporary file, so runs that write nothing keep the default.
mod interrupt {
    use std::io;
    use std::path::{Path, PathBuf};
    use std::sync::Mutex;

    struct Registry {
        paths: Vec<PathBuf>,
        /// Set once a signal came: no new temporary file may start.
        dying: bool,
    }

    static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
        paths: Vec::new(),
        dying: false,
    });

    /// Unregisters its path when dropped.
    pub(super) struct Registered(PathBuf);

    impl Drop for Registered {
        fn drop(&mut self) {
            let mut registry = super::lock(&REGISTRY);
            if let Some(i) = registry.paths.iter().rposition(|p| *p == self.0) {
                registry.paths.swap_remove(i);
            }
        }
    }

    /// Creates the file at `path` with `create` and registers it, holding the registry's
    /// lock throughout: a signal's cleanup then runs before (and no file is made) or after
    /// (and removes it), never in between.
    pub(super) fn create<T>(
        path: &Path,
        create: impl FnOnce() -> io::Result<T>,
    ) -> io::Result<(T, Registered)> {
        install();
        let mut registry = super::lock(&REGISTRY);
        if registry.dying {
            return Err(io::Error::new(
                io::ErrorKind::Interrupted,
                "interrupted by a signal",
            ));
        }
        let made = create()?;
        registry.paths.push(path.to_owned());
        Ok((made, Registered(path.to_owned())))
    }

    #[cfg(target_os = "linux")]
    fn install() {
        use std::sync::Once;
        use std::sync::atomic::{AtomicI32, Ordering};
        static INSTALL: Once = Once::new();
        static PIPE: AtomicI32 = AtomicI32::new(-1);

        extern "C" fn on_signal(signal: libc::c_int) {
            let byte = signal as u8;
            // SAFETY: write(2) is async-signal-safe; the pipe outlives the process.
            unsafe { libc::write(PIPE.load(Ordering::Relaxed), (&byte as *const u8).cast(), 1) };
        }

        INSTALL.call_once(|| {
            let mut fds = [0; 2];
            // SAFETY: an array of two descriptors.
            if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
                return;
            }
            PIPE.store(fds[1], Ordering::Relaxed);
            let read_end = fds[0];
            let spawned = std::thread::Builder::new()
                .name("apimfix-signals".to_owned())
                .spawn(move || {
                    let mut byte = 0u8;
                    // SAFETY: reads one byte into a local.
                    while unsafe { libc::read(read_end, (&mut byte as *mut u8).cast(), 1) } != 1 {}
                    let signal = libc::c_int::from(byte);
                    let mut registry = super::lock(&REGISTRY);
                    registry.dying = true;
                    for path in registry.paths.drain(..) {
                        let _ = std::fs::remove_file(path);
                    }
                    // SAFETY: restoring the default action, then ending as the signal asks.
                    unsafe {
                        libc::signal(signal, libc::SIG_DFL);
                        libc::raise(signal);
                    }
                });
            if spawned.is_err() {
                return;
            }
            for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                // SAFETY: a zeroed sigaction with our handler; an empty mask.
                unsafe {
                    let mut action: libc::sigaction = std::mem::zeroed();
                    action.sa_sigaction = on_signal as *const () as usize;
                    action.sa_flags = libc::SA_RESTART;
                    libc::sigemptyset(&mut action.sa_mask);
                    libc::sigaction(signal, &action, std::ptr::null_mut());
                }
            }
        });
    }

    #[cfg(not(target_os = "linux"))]
    fn install() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_in(dir: &Path) -> Vec<std::ffi::OsString> {
        let mut names: Vec<_> = fs::read_dir(dir)
            .expect("read_dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn failed_rename_removes_the_temp_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("policy.xml");
        fs::write(&target, "old").expect("write");
        let staged = stage(&target, b"new", b"old").expect("staged");
        // The file is replaced by a non-empty folder: the check before the rename sees it.
        let errors = commit(vec![staged], |_| {
            fs::remove_file(&target).expect("remove");
            fs::create_dir(&target).expect("mkdir");
            fs::write(target.join("keep"), "x").expect("write");
        });
        assert!(
            matches!(errors[..], [WriteError::ChangedOnDisk { .. }]),
            "{errors:?}"
        );
        assert_eq!(names_in(dir.path()), ["policy.xml"]);
        assert!(target.join("keep").is_file());
    }

    /// Issue 16 item 1: a change made after the first check and before the rename was
    /// overwritten. Each way an editor saves is kept.
    #[test]
    fn a_change_in_the_write_window_is_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("policy.xml");
        type Edit = fn(&Path);
        let edits: [(&str, Edit); 4] = [
            ("append in place", |p| {
                let mut f = fs::OpenOptions::new().append(true).open(p).expect("open");
                f.write_all(b"<!-- mine -->").expect("append");
            }),
            ("same size in place", |p| {
                fs::write(p, "neW").expect("write")
            }),
            ("save by rename", |p| {
                let other = p.with_extension("swp");
                fs::write(&other, "old").expect("write");
                fs::rename(&other, p).expect("rename");
            }),
            ("delete", |p| fs::remove_file(p).expect("remove")),
        ];
        for (what, edit) in edits {
            fs::write(&target, "old").expect("write");
            let expected = {
                let staged = stage(&target, b"new", b"old").expect("staged");
                let errors = commit(vec![staged], edit);
                assert!(
                    matches!(errors[..], [WriteError::ChangedOnDisk { .. }]),
                    "{what}: {errors:?}"
                );
                fs::read(&target).ok()
            };
            assert_ne!(expected.as_deref(), Some(&b"new"[..]), "{what}");
            let names = names_in(dir.path());
            assert!(
                names.iter().all(|n| !is_stray_temp_name(n)),
                "{what}: {names:?}"
            );
            let _ = fs::remove_file(&target);
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_locked_file_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("policy.xml");
        fs::write(&target, "old").expect("write");
        let held = stage(&target, b"first", b"old").expect("staged");
        // flock locks belong to the open file, so a second open in this process conflicts
        // as another process's would.
        let err = stage(&target, b"second", b"old").err().expect("locked");
        assert!(matches!(err, WriteError::Locked { .. }), "{err:?}");
        assert!(commit(vec![held], |_| ()).is_empty());
        assert_eq!(fs::read(&target).expect("read"), b"first");
    }

    #[test]
    fn stray_names_are_ours_exactly() {
        use std::ffi::OsStr;
        assert!(is_stray_temp_name(OsStr::new(".apimfix-a1B2c3.tmp")));
        for other in [
            ".apimfix-a1B2c.tmp",
            ".apimfix-a1B2c3d.tmp",
            "apimfix-a1B2c3.tmp",
            ".apimfix-a1B2-3.tmp",
            ".apimfix-a1B2c3.tmp~",
        ] {
            assert!(!is_stray_temp_name(OsStr::new(other)), "{other}");
        }
        let name = format!("{TEMP_PREFIX}{}{TEMP_SUFFIX}", random_name());
        assert!(is_stray_temp_name(OsStr::new(&name)), "{name}");
    }
}

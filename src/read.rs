//! Reading a policy file with bounded memory and without hanging.
//!
//! The file is opened without blocking and checked with `fstat` on the open handle (so it
//! cannot be swapped between the check and the read): only a regular file is read. A FIFO
//! would block the run until a writer came, and a device such as `/dev/zero` never ends. The
//! size the metadata gives is checked before any byte is read, and the read itself stops one
//! byte past the limit, so a file that grows meanwhile is bounded too.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Why a policy file was not read. Display says what went wrong; [`ReadError::path`] says
/// where.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Opening, inspecting or reading it failed.
    #[error("{error}")]
    Io { path: PathBuf, error: io::Error },
    /// It is not a regular file: a folder, FIFO, socket or device.
    #[error("is {kind}, not a regular file; only regular files are read")]
    NotRegular { path: PathBuf, kind: &'static str },
    /// Larger than the limit. `size` is what the metadata said, or `None` when the file grew
    /// past the limit while being read.
    #[error("{}", too_large_message(*.size, *.limit))]
    TooLarge {
        path: PathBuf,
        size: Option<u64>,
        limit: usize,
    },
}

impl ReadError {
    /// The file that was not read.
    pub fn path(&self) -> &Path {
        match self {
            ReadError::Io { path, .. }
            | ReadError::NotRegular { path, .. }
            | ReadError::TooLarge { path, .. } => path,
        }
    }
}

pub(crate) fn too_large_message(size: Option<u64>, limit: usize) -> String {
    match size {
        Some(size) => format!("file too large: {size} bytes, the limit is {limit} bytes"),
        None => format!("file too large: more than {limit} bytes, the limit is {limit} bytes"),
    }
}

/// The bytes of the regular file at `path`, at most `limit` of them (else
/// [`ReadError::TooLarge`]). Symbolic links are followed, as `open` does.
pub fn read_policy_file(path: &Path, limit: usize) -> Result<Vec<u8>, ReadError> {
    let io_error = |error| ReadError::Io {
        path: path.to_owned(),
        error,
    };
    let file = open_nonblocking(path).map_err(io_error)?;
    let metadata = file.metadata().map_err(io_error)?;
    if !metadata.is_file() {
        return Err(ReadError::NotRegular {
            path: path.to_owned(),
            kind: kind_of(&metadata.file_type()),
        });
    }
    let too_large = |size| ReadError::TooLarge {
        path: path.to_owned(),
        size,
        limit,
    };
    if metadata.len() > limit as u64 {
        return Err(too_large(Some(metadata.len())));
    }
    // Sized from the metadata, plus one byte to see the end without regrowing.
    let mut bytes = Vec::with_capacity(metadata.len() as usize + 1);
    file.take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(io_error)?;
    if bytes.len() > limit {
        return Err(too_large(None));
    }
    Ok(bytes)
}

/// Opens for reading without waiting: opening a FIFO that has no writer blocks otherwise.
/// A regular file ignores the flag.
fn open_nonblocking(path: &Path) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc_nonblock());
    }
    options.open(path)
}

#[cfg(target_os = "linux")]
fn libc_nonblock() -> i32 {
    libc::O_NONBLOCK
}

#[cfg(all(unix, not(target_os = "linux")))]
fn libc_nonblock() -> i32 {
    // O_NONBLOCK on the BSDs and macOS.
    0x0004
}

fn kind_of(file_type: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if file_type.is_socket() {
            return "a socket";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
    }
    if file_type.is_dir() {
        "a folder"
    } else {
        "not a regular file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_file_within_the_limit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("p.xml");
        std::fs::write(&path, "12345").expect("write");
        assert_eq!(read_policy_file(&path, 5).expect("read"), b"12345");
        let err = read_policy_file(&path, 4).expect_err("too large");
        assert!(
            matches!(
                err,
                ReadError::TooLarge {
                    size: Some(5),
                    limit: 4,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn an_endless_device_stops_at_once() {
        let err = read_policy_file(Path::new("/dev/zero"), 16).expect_err("a device");
        assert!(matches!(err, ReadError::NotRegular { .. }), "{err:?}");
        assert_eq!(err.path(), Path::new("/dev/zero"));
        assert_eq!(
            err.to_string(),
            "is a character device, not a regular file; only regular files are read"
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_growing_file_is_cut_at_the_limit() {
        // /proc files report size 0 and then produce bytes: like a file growing meanwhile.
        let err = read_policy_file(Path::new("/proc/self/maps"), 8).expect_err("grew");
        assert!(
            matches!(err, ReadError::TooLarge { size: None, .. }),
            "{err:?}"
        );
    }
}

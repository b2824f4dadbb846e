//! Folder listings, read once per run and shared.
//!
//! Discovery lists every folder it walks; the repo model then needs the same listings (its
//! APIs, operations, products, fragments, membership markers). Reading them from disk a
//! second time walked the whole tree again, so the walk keeps what it read in [`Listings`],
//! and the repo model asks a [`Folders`] for them: the walk's listings, or the disk for a
//! folder the walk did not list.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::Path;
use std::sync::{Arc, PoisonError, RwLock};

use rustc_hash::FxBuildHasher;

/// What a folder entry is, as its listing says (a link is not followed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    Dir,
    File,
    Symlink,
    Other,
}

impl From<fs::FileType> for EntryKind {
    fn from(t: fs::FileType) -> Self {
        if t.is_symlink() {
            EntryKind::Symlink
        } else if t.is_dir() {
            EntryKind::Dir
        } else if t.is_file() {
            EntryKind::File
        } else {
            EntryKind::Other
        }
    }
}

/// One folder's entries whose names are valid UTF-8, in the order the system listed them.
///
/// Kept for every folder of a walk until the run ends, so it is compact: the names in one
/// string, each followed by a NUL (which no file name holds), and their kinds beside. A name
/// that is not UTF-8 is left out: everything that asks a listing (the repo model, config and
/// ignore file lookups) asks for UTF-8 names; the walk itself goes over every entry.
#[derive(Debug, Default)]
pub struct Listing {
    names: Box<str>,
    kinds: Box<[EntryKind]>,
}

/// A folder's entries as the system lists them: name and kind. An entry whose kind cannot be
/// read has gone since the listing, and is skipped, as the `ignore` crate's walker did.
pub fn read_entries(dir: &Path) -> io::Result<Vec<(OsString, EntryKind)>> {
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if let Ok(file_type) = entry.file_type() {
            entries.push((entry.file_name(), file_type.into()));
        }
    }
    Ok(entries)
}

impl Listing {
    pub fn read(dir: &Path) -> io::Result<Listing> {
        Ok(Listing::from_entries(&read_entries(dir)?))
    }

    pub fn from_entries(entries: &[(OsString, EntryKind)]) -> Listing {
        let mut names = String::new();
        let mut kinds = Vec::with_capacity(entries.len());
        for (name, kind) in entries {
            if let Some(name) = name.to_str() {
                names.push_str(name);
                names.push('\0');
                kinds.push(*kind);
            }
        }
        Listing {
            names: names.into_boxed_str(),
            kinds: kinds.into_boxed_slice(),
        }
    }

    /// The entries, name and kind.
    pub fn entries(&self) -> impl Iterator<Item = (&str, EntryKind)> {
        self.names
            .split_terminator('\0')
            .zip(self.kinds.iter().copied())
    }

    pub fn kind(&self, name: &str) -> Option<EntryKind> {
        self.entries()
            .find(|(n, _)| *n == name)
            .map(|(_, kind)| kind)
    }

    pub fn has(&self, name: &str) -> bool {
        self.kind(name).is_some()
    }

    /// Whether `dir/name` (this listing being `dir`'s) is a file, following a link.
    pub fn has_file(&self, dir: &Path, name: &str) -> bool {
        match self.kind(name) {
            Some(EntryKind::File) => true,
            Some(EntryKind::Symlink) => dir.join(name).is_file(),
            _ => false,
        }
    }

    /// The names of the sub-folders (links not followed), sorted.
    pub fn subdirs(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .entries()
            .filter(|(_, kind)| *kind == EntryKind::Dir)
            .map(|(name, _)| name.to_owned())
            .collect();
        names.sort();
        names
    }
}

/// Where folder listings come from.
pub trait Folders: Sync {
    fn listing(&self, dir: &Path) -> io::Result<Arc<Listing>>;

    /// The sub-folders of `dir`, sorted; none when it is missing or unreadable.
    fn subdirs(&self, dir: &Path) -> Vec<String> {
        self.listing(dir).map(|l| l.subdirs()).unwrap_or_default()
    }

    /// Whether `path` is a file (or a link to one).
    fn is_file(&self, path: &Path) -> bool {
        let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str()))
        else {
            return path.is_file();
        };
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        self.listing(dir).is_ok_and(|l| l.has_file(dir, name))
    }
}

/// The disk, read at each call.
pub struct Disk;

impl Folders for Disk {
    fn listing(&self, dir: &Path) -> io::Result<Arc<Listing>> {
        Listing::read(dir).map(Arc::new)
    }
}

/// The listings a walk made, by absolute folder path; other folders are read from disk.
///
/// Keyed by the path's bytes, without trailing separators: hashing a `Path` goes component
/// by component, which was most of the cost of recording a bulk walk. A folder spelled
/// differently (`a/./b`) is a miss, and is read from disk: slower, never wrong.
#[derive(Debug, Default)]
pub struct Listings {
    by_dir: RwLock<HashMap<Box<[u8]>, Arc<Listing>, FxBuildHasher>>,
}

fn key(dir: &Path) -> &[u8] {
    let bytes = dir.as_os_str().as_encoded_bytes();
    let trimmed = bytes.len() - bytes.iter().rev().take_while(|&&b| b == b'/').count();
    // The root folder `/` keeps its separator.
    &bytes[..trimmed.max(1.min(bytes.len()))]
}

impl Listings {
    pub fn insert(&self, absolute_dir: &Path, listing: Arc<Listing>) {
        self.by_dir
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key(absolute_dir).into(), listing);
    }
}

impl Folders for Listings {
    fn listing(&self, dir: &Path) -> io::Result<Arc<Listing>> {
        let known = self
            .by_dir
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key(dir))
            .cloned();
        match known {
            Some(listing) => Ok(listing),
            None => Disk.listing(dir),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listings_answer_from_what_the_walk_read_and_the_disk_otherwise() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("apis/a")).unwrap();
        fs::create_dir_all(root.join("other/b")).unwrap();
        fs::write(root.join("apis/a/policy.xml"), "<policies />").unwrap();
        fs::write(root.join("other/b/policy.xml"), "<policies />").unwrap();

        let listings = Listings::default();
        listings.insert(
            &root.join("apis"),
            Arc::new(Listing::read(&root.join("apis")).unwrap()),
        );
        // Changed after the walk: the walk's listing is what the run saw, and stays so.
        fs::create_dir_all(root.join("apis/late")).unwrap();
        assert_eq!(listings.subdirs(&root.join("apis")), ["a"]);
        assert_eq!(Disk.subdirs(&root.join("apis")), ["a", "late"]);

        // A folder the walk did not list is read from disk.
        assert_eq!(listings.subdirs(&root.join("other")), ["b"]);
        assert!(listings.is_file(&root.join("other/b/policy.xml")));
        assert!(!listings.is_file(&root.join("other/b")));
        assert!(!listings.is_file(&root.join("missing/policy.xml")));
        assert!(listings.subdirs(&root.join("missing")).is_empty());
        // A trailing separator names the same folder.
        fs::create_dir_all(root.join("apis/later")).unwrap();
        assert_eq!(listings.subdirs(&root.join("apis/")), ["a"]);
    }

    #[cfg(unix)]
    #[test]
    fn links_count_as_files_when_they_lead_to_one_and_never_as_folders() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("real")).unwrap();
        fs::write(root.join("real/policy.xml"), "<policies />").unwrap();
        std::os::unix::fs::symlink(root.join("real/policy.xml"), root.join("link.xml")).unwrap();
        std::os::unix::fs::symlink(root.join("real"), root.join("linkdir")).unwrap();
        let listing = Listing::read(root).unwrap();
        assert!(listing.has_file(root, "link.xml"));
        assert!(!listing.has_file(root, "linkdir"));
        assert_eq!(listing.subdirs(), ["real"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_listing_keeps_utf8_names_in_order_and_leaves_the_others_out() {
        use std::os::unix::ffi::OsStringExt;
        let entries = vec![
            (OsString::from("policy.xml"), EntryKind::File),
            (OsString::from_vec(vec![b'b', 0xff]), EntryKind::Dir),
            (OsString::from("apis"), EntryKind::Dir),
            (OsString::from("é"), EntryKind::Symlink),
        ];
        let listing = Listing::from_entries(&entries);
        let kept: Vec<(&str, EntryKind)> = listing.entries().collect();
        assert_eq!(
            kept,
            [
                ("policy.xml", EntryKind::File),
                ("apis", EntryKind::Dir),
                ("é", EntryKind::Symlink)
            ]
        );
        assert_eq!(listing.subdirs(), ["apis"]);
        assert_eq!(Listing::from_entries(&[]).entries().count(), 0);
    }
}

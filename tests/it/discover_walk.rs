//! File discovery over temporary trees: ignore files, hidden entries, extensions,
//! symlinks, missing paths, config excludes, order and duplicates.

use std::fs;
use std::path::{Path, PathBuf};

use apimfix::config::ConfigResolver;
use apimfix::discover::{
    DiscoverError, DiscoverOptions, Discovery, ExplicitFilePolicy, GitignorePolicy, SkipReason,
    SymlinkPolicy, discover,
};

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
    fs::write(path, text).expect("write");
}

/// A tree with something of every kind, outside any git repository.
fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(&root.join(".gitignore"), "ignored.xml\nbuild/\n");
    write(&root.join(".apimfixignore"), "skipme.xml\n");
    for file in [
        "a.xml",
        "ignored.xml",
        "skipme.xml",
        "notes.txt",
        "upper.XML",
        ".hidden/h.xml",
        ".h.xml",
        "build/b.xml",
        "apis/x/op.xml",
        "apis/x/readme.md",
    ] {
        write(&root.join(file), "<policies />\n");
    }
    dir
}

fn run(root: &Path, paths: &[PathBuf], options: DiscoverOptions) -> Discovery {
    let resolver = ConfigResolver::with_cwd(None, root).expect("resolver");
    discover(paths, &options, &resolver)
}

/// Found files relative to `root`, `/`-separated.
fn names(discovery: &Discovery, root: &Path) -> Vec<String> {
    discovery
        .files
        .iter()
        .map(|f| relative(&f.path, root))
        .collect()
}

fn relative(path: &Path, root: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

#[test]
fn walk_keeps_visible_unignored_xml_files_only() {
    let dir = tree();
    let root = dir.path();
    let found = run(root, &[root.to_owned()], DiscoverOptions::default());
    assert_eq!(names(&found, root), ["a.xml", "apis/x/op.xml", "upper.XML"]);
    assert!(found.files.iter().all(|f| !f.explicit));
    assert!(found.errors.is_empty(), "{:?}", found.errors);
}

#[test]
fn gitignore_can_be_disregarded_but_apimfixignore_cannot() {
    let dir = tree();
    let root = dir.path();
    let options = DiscoverOptions {
        gitignore: GitignorePolicy::Disregard,
        ..DiscoverOptions::default()
    };
    let found = run(root, &[root.to_owned()], options);
    assert_eq!(
        names(&found, root),
        [
            "a.xml",
            "apis/x/op.xml",
            "build/b.xml",
            "ignored.xml",
            "upper.XML"
        ]
    );
}

#[test]
fn gitignore_in_a_parent_of_the_walked_folder_applies() {
    let dir = tree();
    let root = dir.path();
    write(&root.join("apis/x/ignored.xml"), "");
    let found = run(root, &[root.join("apis")], DiscoverOptions::default());
    assert_eq!(names(&found, root), ["apis/x/op.xml"]);
}

#[test]
fn files_named_explicitly_are_taken_as_is() {
    let dir = tree();
    let root = dir.path();
    let paths = [
        root.join("notes.txt"),
        root.join("ignored.xml"),
        root.join(".hidden/h.xml"),
    ];
    let found = run(root, &paths, DiscoverOptions::default());
    assert_eq!(
        names(&found, root),
        [".hidden/h.xml", "ignored.xml", "notes.txt"]
    );
    assert!(found.files.iter().all(|f| f.explicit));
}

#[test]
fn missing_path_is_an_error_and_the_rest_is_still_found() {
    let dir = tree();
    let root = dir.path();
    let missing = root.join("nope.xml");
    let found = run(
        root,
        &[missing.clone(), root.join("apis")],
        DiscoverOptions::default(),
    );
    assert_eq!(names(&found, root), ["apis/x/op.xml"]);
    assert_eq!(found.errors.len(), 1);
    let error = &found.errors[0];
    assert!(matches!(error, DiscoverError::Io { .. }), "{error:?}");
    assert_eq!(error.path(), Some(missing.as_path()));
    assert!(
        error.to_string().contains("No such file or directory"),
        "{error}"
    );
}

#[test]
fn same_file_named_twice_is_listed_once_as_explicit() {
    let dir = tree();
    let root = dir.path();
    let paths = [
        root.to_owned(),
        root.join("a.xml"),
        root.join("apis/../a.xml"),
        root.join("apis"),
    ];
    let found = run(root, &paths, DiscoverOptions::default());
    assert_eq!(names(&found, root), ["a.xml", "apis/x/op.xml", "upper.XML"]);
    let a = &found.files[0];
    assert!(a.explicit);
    assert_eq!(a.path, root.join("a.xml"));
    assert!(!found.files[1].explicit);
}

#[test]
fn order_is_sorted_and_stable_across_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    for d in 0..12 {
        for f in 0..12 {
            write(&root.join(format!("d{d:02}/sub/f{f:02}.xml")), "");
        }
    }
    let first = run(root, &[root.to_owned()], DiscoverOptions::default());
    assert_eq!(first.files.len(), 144);
    let paths: Vec<&PathBuf> = first.files.iter().map(|f| &f.path).collect();
    let mut sorted = paths.clone();
    sorted.sort_by_key(|p| p.as_os_str().as_encoded_bytes());
    assert_eq!(paths, sorted);
    for _ in 0..3 {
        let again = run(root, &[root.to_owned()], DiscoverOptions::default());
        assert_eq!(again.files, first.files);
    }
}

#[test]
fn exclude_from_a_rules_yaml_in_the_tree() {
    let dir = tree();
    let root = dir.path();
    write(
        &root.join("sub/rules.yaml"),
        "exclude: [generated/, '*.draft.xml']\n",
    );
    write(&root.join("sub/p.xml"), "");
    write(&root.join("sub/p.draft.xml"), "");
    write(&root.join("sub/generated/g.xml"), "");
    // A config inside an excluded folder is never read: this one is broken on purpose.
    write(&root.join("sub/generated/rules.yaml"), "not: [valid\n");
    // Outside `sub/`, its excludes do not apply.
    write(&root.join("generated/g.xml"), "");
    let found = run(root, &[root.to_owned()], DiscoverOptions::default());
    assert_eq!(
        names(&found, root),
        [
            "a.xml",
            "apis/x/op.xml",
            "generated/g.xml",
            "sub/p.xml",
            "upper.XML"
        ]
    );
    assert!(found.errors.is_empty(), "{:?}", found.errors);
    let config = Some(root.join("sub/rules.yaml"));
    let skipped: Vec<(String, &SkipReason)> = found
        .skipped
        .iter()
        .map(|(path, reason)| (relative(path, root), reason))
        .collect();
    let excluded = SkipReason::Excluded { config };
    assert_eq!(
        skipped,
        [
            ("sub/generated".to_owned(), &excluded),
            ("sub/p.draft.xml".to_owned(), &excluded),
        ]
    );
    assert!(excluded.to_string().contains("sub/rules.yaml"));
}

#[test]
fn exclude_applies_to_explicit_files_only_when_asked() {
    let dir = tree();
    let root = dir.path();
    write(&root.join("rules.yaml"), "exclude: ['*.draft.xml']\n");
    write(&root.join("p.draft.xml"), "");
    let paths = [root.join("p.draft.xml")];
    let taken = run(root, &paths, DiscoverOptions::default());
    assert_eq!(names(&taken, root), ["p.draft.xml"]);
    let options = DiscoverOptions {
        explicit_files: ExplicitFilePolicy::ApplyExclude,
        ..DiscoverOptions::default()
    };
    let skipped = run(root, &paths, options);
    assert!(skipped.files.is_empty());
    assert_eq!(skipped.skipped.len(), 1);
}

#[test]
fn broken_config_is_reported_once_and_its_files_left_out() {
    let dir = tree();
    let root = dir.path();
    write(&root.join("apis/rules.yaml"), "rules: {nope: true}\n");
    write(&root.join("apis/y/op.xml"), "");
    let found = run(root, &[root.to_owned()], DiscoverOptions::default());
    assert_eq!(names(&found, root), ["a.xml", "upper.XML"]);
    assert_eq!(found.errors.len(), 1, "{:?}", found.errors);
    assert!(matches!(found.errors[0], DiscoverError::Config(_)));
    assert_eq!(
        found.errors[0].path(),
        Some(root.join("apis/rules.yaml").as_path())
    );
}

#[cfg(unix)]
mod symlinks {
    use super::*;
    use std::os::unix::fs::symlink;

    fn linked_tree() -> tempfile::TempDir {
        let dir = tree();
        let root = dir.path();
        symlink(root.join("a.xml"), root.join("link.xml")).expect("symlink");
        symlink(root.join("apis"), root.join("linkdir")).expect("symlink");
        symlink(root.join("gone.xml"), root.join("dangling.xml")).expect("symlink");
        dir
    }

    #[test]
    fn never_followed_while_walking_and_reported_as_skipped() {
        let dir = linked_tree();
        let root = dir.path();
        for symlinks in [SymlinkPolicy::Refuse, SymlinkPolicy::Follow] {
            let options = DiscoverOptions {
                symlinks,
                ..DiscoverOptions::default()
            };
            let found = run(root, &[root.to_owned()], options);
            assert_eq!(names(&found, root), ["a.xml", "apis/x/op.xml", "upper.XML"]);
            let skipped: Vec<(String, &SkipReason)> = found
                .skipped
                .iter()
                .map(|(path, reason)| (relative(path, root), reason))
                .collect();
            assert_eq!(
                skipped,
                [
                    ("dangling.xml".to_owned(), &SkipReason::Symlink),
                    ("link.xml".to_owned(), &SkipReason::Symlink),
                    ("linkdir".to_owned(), &SkipReason::Symlink),
                ]
            );
        }
    }

    #[test]
    fn named_explicitly_is_an_error_by_default() {
        let dir = linked_tree();
        let root = dir.path();
        let found = run(
            root,
            &[root.join("link.xml"), root.join("linkdir")],
            DiscoverOptions::default(),
        );
        assert!(found.files.is_empty());
        assert_eq!(found.errors.len(), 2);
        for error in &found.errors {
            assert!(matches!(error, DiscoverError::SymlinkNotFollowed { .. }));
            assert!(error.path().is_some());
            assert_eq!(
                error.to_string(),
                "is a symbolic link; pass --follow-symlinks to fix its target",
                "{error}"
            );
        }
    }

    #[test]
    fn followed_when_asked_yielding_the_target() {
        let dir = linked_tree();
        let root = dir.path();
        let canonical = fs::canonicalize(root).expect("canonicalize");
        let options = DiscoverOptions {
            symlinks: SymlinkPolicy::Follow,
            ..DiscoverOptions::default()
        };
        let found = run(
            root,
            &[root.join("link.xml"), root.join("linkdir")],
            options,
        );
        let paths: Vec<&Path> = found.files.iter().map(|f| f.path.as_path()).collect();
        assert_eq!(
            paths,
            [
                canonical.join("a.xml").as_path(),
                canonical.join("apis/x/op.xml").as_path()
            ]
        );
        assert!(found.files[0].explicit);
        assert!(
            !found.files[1].explicit,
            "found by walking the link's target"
        );
        let dangling = run(root, &[root.join("dangling.xml")], options);
        assert!(matches!(dangling.errors[..], [DiscoverError::Io { .. }]));
    }
}

/// The walk reads each folder's listing itself, but its ignore rules are meant to be those
/// of the `ignore` crate's walker (ripgrep's). On random trees of folders, files, ignore
/// files with whitelists and git roots, both must find the same files.
mod same_as_the_ignore_crate {
    use super::*;
    use proptest::prelude::*;

    const DIRS: [&str; 4] = ["a", "b", ".h", "apis"];
    const FILES: [&str; 5] = ["x.xml", "y.xml", ".z.xml", "n.txt", "a.xml"];
    const IGNORE_FILES: [&str; 3] = [".gitignore", ".ignore", ".apimfixignore"];
    const LINES: [&str; 14] = [
        "*.xml", "!x.xml", "a/", "/b", "y.xml", "!a", ".h", "!.z.xml", "b/x.xml", "**/y.xml",
        "!*.xml", "apis/**", "!.h", "/a.xml",
    ];

    #[derive(Debug, Clone)]
    struct Folder {
        files: Vec<usize>,
        ignores: Vec<(usize, Vec<usize>)>,
        git: bool,
        subdirs: Vec<(usize, Folder)>,
    }

    fn folder() -> impl Strategy<Value = Folder> {
        let leaf = (
            proptest::collection::vec(0..FILES.len(), 0..4),
            proptest::collection::vec(
                (
                    0..IGNORE_FILES.len(),
                    proptest::collection::vec(0..LINES.len(), 1..4),
                ),
                0..2,
            ),
            proptest::bool::weighted(0.2),
        )
            .prop_map(|(files, ignores, git)| Folder {
                files,
                ignores,
                git,
                subdirs: Vec::new(),
            });
        leaf.prop_recursive(3, 24, 3, |inner| {
            (
                proptest::collection::vec(0..FILES.len(), 0..4),
                proptest::collection::vec(
                    (
                        0..IGNORE_FILES.len(),
                        proptest::collection::vec(0..LINES.len(), 1..4),
                    ),
                    0..2,
                ),
                proptest::bool::weighted(0.2),
                proptest::collection::vec((0..DIRS.len(), inner), 0..3),
            )
                .prop_map(|(files, ignores, git, subdirs)| Folder {
                    files,
                    ignores,
                    git,
                    subdirs,
                })
        })
    }

    fn build(dir: &Path, folder: &Folder) {
        fs::create_dir_all(dir).expect("mkdir");
        for &f in &folder.files {
            fs::write(dir.join(FILES[f]), "<policies />").expect("write");
        }
        for (kind, lines) in &folder.ignores {
            let text: Vec<&str> = lines.iter().map(|&l| LINES[l]).collect();
            fs::write(dir.join(IGNORE_FILES[*kind]), text.join("\n")).expect("write");
        }
        if folder.git {
            fs::create_dir_all(dir.join(".git/info")).expect("mkdir");
            fs::write(dir.join(".git/info/exclude"), "n.txt\nx.xml\n").expect("write");
        }
        for (name, sub) in &folder.subdirs {
            build(&dir.join(DIRS[*name]), sub);
        }
    }

    fn by_the_ignore_crate(root: &Path, gitignore: GitignorePolicy) -> Vec<String> {
        let mut builder = ignore::WalkBuilder::new(root);
        builder
            .standard_filters(gitignore == GitignorePolicy::Respect)
            .hidden(true)
            .parents(true)
            .require_git(false)
            .add_custom_ignore_filename(".apimfixignore")
            .follow_links(false);
        let mut found: Vec<PathBuf> = builder
            .build()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
            .filter(|e| {
                e.path()
                    .extension()
                    .is_some_and(|x| x.eq_ignore_ascii_case("xml"))
            })
            .map(ignore::DirEntry::into_path)
            .collect();
        // Discovery sorts by the bytes of the path.
        found.sort_by(|a, b| {
            a.as_os_str()
                .as_encoded_bytes()
                .cmp(b.as_os_str().as_encoded_bytes())
        });
        found.iter().map(|p| relative(p, root)).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]
        #[test]
        fn finds_the_same_files(tree in folder(), respect in proptest::bool::ANY) {
            let dir = tempfile::tempdir().expect("tempdir");
            let root = dir.path().join("root");
            build(&root, &tree);
            let gitignore = if respect { GitignorePolicy::Respect } else { GitignorePolicy::Disregard };
            let options = DiscoverOptions { gitignore, ..DiscoverOptions::default() };
            let ours = names(&run(&root, std::slice::from_ref(&root), options), &root);
            prop_assert_eq!(ours, by_the_ignore_crate(&root, gitignore));
        }
    }
}

/// Regressions from the review of the walk that replaced the `ignore` crate's walker.
mod review {
    use super::*;
    use std::os::unix::fs::symlink;

    /// A root named through a linked folder takes the ignore files above the link's target,
    /// not those beside the link.
    #[test]
    fn a_root_through_a_link_takes_the_ignore_files_above_its_target() {
        let dir = tempfile::tempdir().expect("tempdir");
        let base = dir.path();
        write(&base.join("elsewhere/deep/repo/policy.xml"), "<policies />");
        write(
            &base.join("elsewhere/deep/repo/apis/a/policy.xml"),
            "<policies />",
        );
        write(
            &base.join("elsewhere/deep/repo/apis/a/skip.xml"),
            "<policies />",
        );
        write(&base.join("elsewhere/.gitignore"), "skip.xml\n");
        write(&base.join("work/.gitignore"), "policy.xml\n");
        symlink("../elsewhere/deep", base.join("work/link")).expect("symlink");
        let root = base.join("work/link/repo");
        let found = run(
            &base.join("work"),
            std::slice::from_ref(&root),
            DiscoverOptions::default(),
        );
        assert_eq!(names(&found, &root), ["apis/a/policy.xml", "policy.xml"]);
        assert!(found.errors.is_empty(), "{:?}", found.errors);
    }

    /// A stray ignore file in the tree (a bad glob, a folder named `.gitignore`) is passed
    /// over, as the `ignore` crate does: it must not fail a run.
    #[test]
    fn broken_ignore_files_in_the_tree_are_passed_over() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        write(&root.join("c/.gitignore"), "{a\nskip.xml\n");
        write(&root.join("c/skip.xml"), "<policies />");
        write(&root.join("c/keep.xml"), "<policies />");
        fs::create_dir_all(root.join("d/.gitignore")).expect("mkdir");
        write(&root.join("d/keep.xml"), "<policies />");
        let found = run(root, &[root.to_owned()], DiscoverOptions::default());
        assert_eq!(names(&found, root), ["c/keep.xml", "d/keep.xml"]);
        assert!(found.errors.is_empty(), "{:?}", found.errors);
    }
}

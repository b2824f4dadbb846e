//! The APIOps layout: an artifacts root holding `apis/`, `products/`, `policy fragments/` and
//! `workspaces/` folders, with one `policy.xml` per scope, at any depth below the repository.
//!
//! ```text
//! <root>/policy.xml                                   global (beside a collection folder)
//! <root>/workspaces/<w>/policy.xml                    workspace
//! <root>/products/<p>/policy.xml                      product
//! <root>/apis/<a>/policy.xml                          API (`<a>` may be `name;rev=N`)
//! <root>/apis/<a>/operations/<o>/policy.xml           operation
//! <root>/policy fragments/<f>/policy.xml              fragment (or `policy_fragments/`)
//! <root>/apis/<a>/resolvers/<r>/policy.xml            GraphQL resolver (apiops-cli)
//! <root>/workspaces/<w>/<any of the above>            the same, in workspace `<w>`
//! ```
//!
//! The layout of the newer apiops-cli (`apim-artifacts/` by default) is the same tree with
//! camelCase collection folders: `policyFragments/`, `namedValues/`, `versionSets/`, product
//! membership in `products/<p>/apis.json`, and resolver policies. Both spellings are
//! recognised at any depth.

use std::path::{Component, Path, PathBuf};

use super::{LayoutPattern, PolicyLocation, Slot};

/// The file name of every policy.
pub(crate) const POLICY_FILE: &str = "policy.xml";

/// The folder holding the APIs, below an artifacts root (or a workspace's folder), and below
/// a product's folder for its membership markers.
pub(crate) const APIS_DIR: &str = "apis";

/// The folder holding an API's operations, below the API's folder.
pub(crate) const OPERATIONS_DIR: &str = "operations";

/// The folder holding the products, below an artifacts root (or a workspace's folder).
pub(crate) const PRODUCTS_DIR: &str = "products";

/// The folder holding the workspaces' own artifacts, below the artifacts root.
pub(crate) const WORKSPACES_DIR: &str = "workspaces";

/// The folder that holds an artifacts root's policy fragments, as APIOps writes it and as
/// tools that follow the same layout in snake_case write it.
pub(crate) const FRAGMENT_DIRS: [&str; 3] =
    ["policy fragments", "policy_fragments", "policyFragments"];

/// The folder holding a GraphQL API's resolvers, below the API's folder (apiops-cli).
pub(crate) const RESOLVERS_DIR: &str = "resolvers";

/// The folders holding named values: APIOps, snake_case and apiops-cli spellings.
pub(crate) const NAMED_VALUE_DIRS: [&str; 3] = ["named values", "named_values", "namedValues"];

/// A named value's metadata file, and its snake_case variant.
pub(crate) const NAMED_VALUE_FILES: [&str; 2] =
    ["namedValueInformation.json", "named_value_information.json"];

/// APIOps v7 product membership marker, and its snake_case variant.
pub(crate) const PRODUCT_API_FILES: [&str; 2] =
    ["productApiInformation.json", "product_api_information.json"];

/// Older extractors' product membership list: a JSON array of `{ "name": ... }`.
pub(crate) const PRODUCT_APIS_LIST: &str = "apis.json";

/// APIOps' API metadata file, and its snake_case variant.
pub(crate) const API_INFO_FILES: [&str; 2] = ["apiInformation.json", "api_information.json"];
/// APIOps' version set folders (v6/v7, apiops-cli, snake_case) and metadata files.
pub(crate) const VERSION_SET_DIRS: [&str; 3] = ["version sets", "versionSets", "version_sets"];
pub(crate) const VERSION_SET_FILES: [&str; 3] = [
    "versionSetInformation.json",
    "apiVersionSetInformation.json",
    "version_set_information.json",
];

/// Folders whose presence beside a `policy.xml` makes that folder an APIOps artifacts root.
const ROOT_MARKERS: [&str; 9] = [
    APIS_DIR,
    PRODUCTS_DIR,
    FRAGMENT_DIRS[0],
    FRAGMENT_DIRS[1],
    FRAGMENT_DIRS[2],
    WORKSPACES_DIR,
    NAMED_VALUE_DIRS[0],
    NAMED_VALUE_DIRS[1],
    NAMED_VALUE_DIRS[2],
];

/// What the APIOps layout says about the file at `path` (whose normal components are
/// `names`), when it is a `policy.xml` the layout places.
pub(super) fn locate(path: &Path, names: &[&str]) -> Option<PolicyLocation> {
    if *names.last()? != POLICY_FILE {
        return None;
    }
    if let Some(tail) = match_tail(names) {
        let root = prefix_path(path, tail.root_len);
        return Some(PolicyLocation {
            scope: tail.pattern.scope(),
            workspace: tail.workspace,
            product: tail.product,
            api: tail.api,
            operation: tail.operation,
            fragment: tail.fragment,
            resolver: tail.resolver,
            artifacts_root: Some(root),
            pattern: Some(tail.pattern),
            path: path.to_path_buf(),
        });
    }
    let folder = prefix_path(path, names.len() - 1);
    is_artifacts_root(&folder).then(|| PolicyLocation {
        artifacts_root: Some(folder),
        ..PolicyLocation::matched(path, LayoutPattern::ApiOpsGlobal)
    })
}

/// The slot of a path relative to an artifacts root (as its normal components), and its
/// workspace.
pub(crate) fn classify(names: &[&str]) -> Option<(Slot, Option<String>)> {
    if names == [POLICY_FILE] {
        return Some((Slot::Container, None));
    }
    if names.last() != Some(&POLICY_FILE) {
        return None;
    }
    let tail = match_tail(names)?;
    if tail.root_len != 0 {
        return None;
    }
    let slot = match tail.pattern {
        LayoutPattern::ApiOpsWorkspace => Slot::Container,
        LayoutPattern::ApiOpsApi => Slot::Api(tail.api?),
        LayoutPattern::ApiOpsOperation => Slot::Operation(tail.api?, tail.operation?),
        LayoutPattern::ApiOpsProduct => Slot::Product(tail.product?),
        LayoutPattern::ApiOpsFragment => Slot::Fragment(tail.fragment?),
        _ => return None,
    };
    Some((slot, tail.workspace))
}

/// An APIOps pattern matched at the end of a path.
struct MatchedTail {
    pattern: LayoutPattern,
    root_len: usize,
    workspace: Option<String>,
    product: Option<String>,
    api: Option<String>,
    operation: Option<String>,
    fragment: Option<String>,
    resolver: Option<String>,
}

/// Matches the APIOps collection patterns against the end of `names` (which ends in
/// `policy.xml`). The root `policy.xml` is not matched here: it needs the filesystem.
fn match_tail(names: &[&str]) -> Option<MatchedTail> {
    let n = names.len();
    let at = |i: usize| names[i].to_owned();
    let mut tail = if n >= 5 && names[n - 5] == APIS_DIR && names[n - 3] == OPERATIONS_DIR {
        MatchedTail::new(LayoutPattern::ApiOpsOperation, n - 5)
            .with(|t| t.api = Some(at(n - 4)))
            .with(|t| t.operation = Some(at(n - 2)))
    } else if n >= 5 && names[n - 5] == APIS_DIR && names[n - 3] == RESOLVERS_DIR {
        MatchedTail::new(LayoutPattern::ApiOpsResolver, n - 5)
            .with(|t| t.api = Some(at(n - 4)))
            .with(|t| t.resolver = Some(at(n - 2)))
    } else if n >= 3 && names[n - 3] == APIS_DIR {
        MatchedTail::new(LayoutPattern::ApiOpsApi, n - 3).with(|t| t.api = Some(at(n - 2)))
    } else if n >= 3 && names[n - 3] == PRODUCTS_DIR {
        MatchedTail::new(LayoutPattern::ApiOpsProduct, n - 3).with(|t| t.product = Some(at(n - 2)))
    } else if n >= 3 && FRAGMENT_DIRS.contains(&names[n - 3]) {
        MatchedTail::new(LayoutPattern::ApiOpsFragment, n - 3)
            .with(|t| t.fragment = Some(at(n - 2)))
    } else if n >= 3 && names[n - 3] == WORKSPACES_DIR {
        return Some(
            MatchedTail::new(LayoutPattern::ApiOpsWorkspace, n - 3)
                .with(|t| t.workspace = Some(at(n - 2))),
        );
    } else {
        return None;
    };
    // A collection inside `workspaces/<w>/` belongs to that workspace, and the artifacts root
    // is the folder holding `workspaces/`.
    let r = tail.root_len;
    if r >= 2 && names[r - 2] == WORKSPACES_DIR {
        tail.workspace = Some(at(r - 1));
        tail.root_len = r - 2;
    }
    Some(tail)
}

impl MatchedTail {
    fn new(pattern: LayoutPattern, root_len: usize) -> Self {
        Self {
            pattern,
            root_len,
            workspace: None,
            product: None,
            api: None,
            operation: None,
            fragment: None,
            resolver: None,
        }
    }

    fn with(mut self, set: impl FnOnce(&mut Self)) -> Self {
        set(&mut self);
        self
    }
}

/// The prefix of `path` holding its first `count` normal components (and any root or `.`
/// before them).
fn prefix_path(path: &Path, count: usize) -> PathBuf {
    let mut out = PathBuf::new();
    let mut seen = 0;
    for component in path.components() {
        if matches!(component, Component::Normal(_)) {
            if seen == count {
                break;
            }
            seen += 1;
        }
        out.push(component);
    }
    out
}

/// Whether `folder` holds an APIOps collection folder. An empty path is the working directory.
fn is_artifacts_root(folder: &Path) -> bool {
    let folder = if folder.as_os_str().is_empty() {
        Path::new(".")
    } else {
        folder
    };
    ROOT_MARKERS.iter().any(|m| folder.join(m).is_dir())
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::ROOT_MARKERS;
    use crate::layout::{LayoutPattern, PolicyLocation, Scope, locate};

    fn loc(path: &str) -> PolicyLocation {
        locate(Path::new(path))
    }

    #[test]
    fn api_policy_at_any_depth() {
        let l = loc("deploy/artifacts/apis/echo-api/policy.xml");
        assert_eq!(l.scope, Scope::Api);
        assert_eq!(l.api.as_deref(), Some("echo-api"));
        assert_eq!(l.artifacts_root, Some(PathBuf::from("deploy/artifacts")));
        assert_eq!(l.pattern, Some(LayoutPattern::ApiOpsApi));
        assert_eq!(l.workspace, None);
    }

    #[test]
    fn revision_folder_is_its_own_api() {
        let l = loc("/abs/root/apis/orders;rev=2/policy.xml");
        assert_eq!(l.scope, Scope::Api);
        assert_eq!(l.api.as_deref(), Some("orders;rev=2"));
        assert_eq!(l.artifacts_root, Some(PathBuf::from("/abs/root")));
    }

    #[test]
    fn operation_policy() {
        let l = loc("a/b/apis/echo/operations/get-item/policy.xml");
        assert_eq!(l.scope, Scope::Operation);
        assert_eq!(l.api.as_deref(), Some("echo"));
        assert_eq!(l.operation.as_deref(), Some("get-item"));
        assert_eq!(l.artifacts_root, Some(PathBuf::from("a/b")));
    }

    #[test]
    fn relative_to_the_root_itself() {
        let l = loc("apis/echo/operations/get/policy.xml");
        assert_eq!(l.scope, Scope::Operation);
        assert_eq!(l.artifacts_root, Some(PathBuf::new()));
        let l = loc("./products/starter/policy.xml");
        assert_eq!(l.scope, Scope::Product);
        assert_eq!(l.artifacts_root, Some(PathBuf::from(".")));
    }

    #[test]
    fn product_policy() {
        let l = loc("x/products/starter/policy.xml");
        assert_eq!(l.scope, Scope::Product);
        assert_eq!(l.product.as_deref(), Some("starter"));
    }

    #[test]
    fn fragment_folders_with_space_and_underscore() {
        for folder in ["policy fragments", "policy_fragments"] {
            let l = loc(&format!("root/{folder}/usage-inbound/policy.xml"));
            assert_eq!(l.scope, Scope::Fragment, "{folder}");
            assert_eq!(l.fragment.as_deref(), Some("usage-inbound"));
            assert_eq!(l.artifacts_root, Some(PathBuf::from("root")));
        }
    }

    #[test]
    fn apiops_cli_camel_case_folders_and_resolvers() {
        let l = loc("repo/apim-artifacts/policyFragments/cors-common/policy.xml");
        assert_eq!(l.scope, Scope::Fragment);
        assert_eq!(l.fragment.as_deref(), Some("cors-common"));
        assert_eq!(l.artifacts_root, Some(PathBuf::from("repo/apim-artifacts")));

        let l = loc("repo/apim-artifacts/apis/books/resolvers/get-books/policy.xml");
        assert_eq!(l.scope, Scope::Resolver);
        assert_eq!(l.pattern, Some(LayoutPattern::ApiOpsResolver));
        assert_eq!(l.api.as_deref(), Some("books"));
        assert_eq!(l.resolver.as_deref(), Some("get-books"));
        assert_eq!(l.operation, None);
        assert_eq!(l.artifacts_root, Some(PathBuf::from("repo/apim-artifacts")));

        let l = loc("r/workspaces/w/apis/books/resolvers/q/policy.xml");
        assert_eq!(l.scope, Scope::Resolver);
        assert_eq!(l.workspace.as_deref(), Some("w"));
        // A `resolvers` folder not below an API is nothing.
        assert_eq!(loc("r/resolvers/q/policy.xml").scope, Scope::Unknown);
    }

    #[test]
    fn workspace_collections_and_workspace_policy() {
        let l = loc("r/workspaces/team-a/apis/orders/operations/list/policy.xml");
        assert_eq!(l.scope, Scope::Operation);
        assert_eq!(l.workspace.as_deref(), Some("team-a"));
        assert_eq!(l.api.as_deref(), Some("orders"));
        assert_eq!(l.operation.as_deref(), Some("list"));
        assert_eq!(l.artifacts_root, Some(PathBuf::from("r")));

        let l = loc("r/workspaces/team-a/products/gold/policy.xml");
        assert_eq!(l.scope, Scope::Product);
        assert_eq!(l.workspace.as_deref(), Some("team-a"));

        let l = loc("r/workspaces/team-a/policy fragments/f1/policy.xml");
        assert_eq!(l.scope, Scope::Fragment);
        assert_eq!(l.workspace.as_deref(), Some("team-a"));

        let l = loc("r/workspaces/team-a/policy.xml");
        assert_eq!(l.scope, Scope::Workspace);
        assert_eq!(l.workspace.as_deref(), Some("team-a"));
        assert_eq!(l.artifacts_root, Some(PathBuf::from("r")));
    }

    #[test]
    fn root_policy_is_global_only_beside_apiops_folders() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("artifacts");
        std::fs::create_dir_all(&root).unwrap();
        let policy = root.join("policy.xml");
        assert_eq!(locate(&policy).scope, Scope::Unknown, "a lone policy.xml");

        for marker in ROOT_MARKERS {
            let m = root.join(marker);
            std::fs::create_dir(&m).unwrap();
            let l = locate(&policy);
            assert_eq!(l.scope, Scope::Global, "beside {marker}");
            assert_eq!(l.artifacts_root.as_deref(), Some(root.as_path()));
            assert_eq!(l.pattern, Some(LayoutPattern::ApiOpsGlobal));
            std::fs::remove_dir(&m).unwrap();
        }
        // A file named like a marker is not a collection folder.
        std::fs::write(root.join("apis"), "").unwrap();
        assert_eq!(locate(&policy).scope, Scope::Unknown);
    }
}

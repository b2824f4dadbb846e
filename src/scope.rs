//! The scope a policy file applies at, which decides the rules that hold for it.
//!
//! APIM composes policies from broad to narrow. This is the one place that lists the order;
//! everything else (the repo model's chains, `<base />` splicing) refers here:
//!
//! 1. global ("All APIs", the service policy)
//! 2. workspace
//! 3. product
//! 4. API (all operations of one API; each `;rev=N` revision folder is its own API)
//! 5. operation
//!
//! `<base />` in a scope splices in the same section of the next broader scope that applies
//! to the request. Where the workspace level splices relative to the product is not documented
//! by Microsoft; apimfix assumes the order above. Fragments stand outside the chain and are
//! pulled in by `include-fragment`.
//!
//! # Where a file's scope comes from
//!
//! [`resolve_scope`] decides, first match wins:
//!
//! - the `--scope` flag,
//! - a `scopes` glob of the configuration,
//! - a `<fragment>` root element (a fragment whatever its path),
//! - the path rules of [`locate`] (APIOps folders at any depth, devops-resource-kit file names),
//! - otherwise [`Scope::Unknown`], and scope-dependent rules stay silent.
//!
//! The path rules look at names only, except for a lone `policy.xml`: it is global only when
//! its folder also holds an APIOps collection folder (`apis/`, `products/`,
//! `policy fragments/`, `workspaces/`, `named values/`), which [`locate`] checks on disk.

use std::fmt;
use std::path::{Component, Path, PathBuf};

use crate::syntax::RootKind;

/// Where in APIM's scope hierarchy a policy file applies.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// "All APIs": the service policy. Has no parent, so `<base />` is forbidden.
    Global,
    Workspace,
    Product,
    Api,
    Operation,
    /// A `<fragment>`: no sections and no `<base />`.
    Fragment,
    /// Not inferable from the path or the content. Scope-dependent rules stay silent.
    Unknown,
}

impl Scope {
    pub const ALL: [Scope; 7] = [
        Scope::Global,
        Scope::Workspace,
        Scope::Product,
        Scope::Api,
        Scope::Operation,
        Scope::Fragment,
        Scope::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Global => "global",
            Scope::Workspace => "workspace",
            Scope::Product => "product",
            Scope::Api => "api",
            Scope::Operation => "operation",
            Scope::Fragment => "fragment",
            Scope::Unknown => "unknown",
        }
    }

    /// Whether the scope has a parent whose sections `<base />` pulls in.
    pub fn has_parent(self) -> bool {
        matches!(
            self,
            Scope::Workspace | Scope::Product | Scope::Api | Scope::Operation
        )
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Scope {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
                format!("unknown scope `{s}`; expected one of: {}", known.join(", "))
            })
    }
}

/// The APIOps file name of every policy.
const POLICY_FILE: &str = "policy.xml";

/// The folder that holds an artifacts root's policy fragments, as APIOps writes it and as
/// tools that follow the same layout in snake_case write it.
pub(crate) const FRAGMENT_DIRS: [&str; 2] = ["policy fragments", "policy_fragments"];

/// Folders whose presence beside a `policy.xml` makes that folder an APIOps artifacts root.
const ROOT_MARKERS: [&str; 7] = [
    "apis",
    "products",
    "policy fragments",
    "policy_fragments",
    "workspaces",
    "named values",
    "named_values",
];

/// The path pattern that gave a file its scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LayoutPattern {
    /// `<root>/policy.xml` beside APIOps collection folders.
    ApiOpsGlobal,
    /// `workspaces/<w>/policy.xml`.
    ApiOpsWorkspace,
    /// `products/<p>/policy.xml`.
    ApiOpsProduct,
    /// `apis/<a>/policy.xml`.
    ApiOpsApi,
    /// `apis/<a>/operations/<o>/policy.xml`.
    ApiOpsOperation,
    /// `policy fragments/<f>/policy.xml` (or `policy_fragments/`).
    ApiOpsFragment,
    /// devops-resource-kit `globalServicePolicy.xml`.
    KitGlobal,
    /// devops-resource-kit `<product>-productPolicy.xml`.
    KitProduct,
    /// devops-resource-kit `<api>-apiPolicy.xml`.
    KitApi,
    /// devops-resource-kit `<api>-<operation>-operationPolicy.xml`.
    KitOperation,
}

impl LayoutPattern {
    /// The pattern as shown to users, e.g. in `check -v`.
    pub fn describe(self) -> &'static str {
        match self {
            LayoutPattern::ApiOpsGlobal => "APIOps `policy.xml` at the artifacts root",
            LayoutPattern::ApiOpsWorkspace => "APIOps `workspaces/<workspace>/policy.xml`",
            LayoutPattern::ApiOpsProduct => "APIOps `products/<product>/policy.xml`",
            LayoutPattern::ApiOpsApi => "APIOps `apis/<api>/policy.xml`",
            LayoutPattern::ApiOpsOperation => {
                "APIOps `apis/<api>/operations/<operation>/policy.xml`"
            }
            LayoutPattern::ApiOpsFragment => "APIOps `policy fragments/<fragment>/policy.xml`",
            LayoutPattern::KitGlobal => "resource-kit `globalServicePolicy.xml`",
            LayoutPattern::KitProduct => "resource-kit `<product>-productPolicy.xml`",
            LayoutPattern::KitApi => "resource-kit `<api>-apiPolicy.xml`",
            LayoutPattern::KitOperation => "resource-kit `<api>-<operation>-operationPolicy.xml`",
        }
    }

    /// The scope the pattern stands for.
    pub fn scope(self) -> Scope {
        match self {
            LayoutPattern::ApiOpsGlobal | LayoutPattern::KitGlobal => Scope::Global,
            LayoutPattern::ApiOpsWorkspace => Scope::Workspace,
            LayoutPattern::ApiOpsProduct | LayoutPattern::KitProduct => Scope::Product,
            LayoutPattern::ApiOpsApi | LayoutPattern::KitApi => Scope::Api,
            LayoutPattern::ApiOpsOperation | LayoutPattern::KitOperation => Scope::Operation,
            LayoutPattern::ApiOpsFragment => Scope::Fragment,
        }
    }
}

/// What a policy file's path says about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyLocation {
    /// [`Scope::Unknown`] when no pattern matched.
    pub scope: Scope,
    /// The workspace folder name, for files under `workspaces/<w>/`.
    pub workspace: Option<String>,
    pub product: Option<String>,
    /// The API folder name, `;rev=N` included: each revision folder is its own API.
    pub api: Option<String>,
    /// The operation folder name. For a resource-kit `<api>-<op>-operationPolicy.xml` it is
    /// the whole `<api>-<op>` stem and `api` is `None`: a `-` in the API name makes the split
    /// ambiguous.
    pub operation: Option<String>,
    /// The fragment folder name, which is the `fragment-id`.
    pub fragment: Option<String>,
    /// The APIOps artifacts root (the folder holding `apis/`, `products/`, ...), as a prefix
    /// of the given path: empty for a path relative to the root itself. `None` for
    /// resource-kit files and unknown paths.
    pub artifacts_root: Option<PathBuf>,
    /// The pattern that matched.
    pub pattern: Option<LayoutPattern>,
    /// The path that was located, as given.
    pub path: PathBuf,
}

impl PolicyLocation {
    fn unknown(path: &Path) -> Self {
        Self {
            scope: Scope::Unknown,
            workspace: None,
            product: None,
            api: None,
            operation: None,
            fragment: None,
            artifacts_root: None,
            pattern: None,
            path: path.to_path_buf(),
        }
    }

    fn matched(path: &Path, pattern: LayoutPattern) -> Self {
        Self {
            scope: pattern.scope(),
            pattern: Some(pattern),
            ..Self::unknown(path)
        }
    }
}

/// Infers the scope of the policy file at `path` from its path (see the module docs).
///
/// Only a `policy.xml` that matches no APIOps collection pattern touches the filesystem: it is
/// global when its folder also holds an APIOps collection folder.
pub fn locate(path: &Path) -> PolicyLocation {
    let names = normal_components(path);
    let Some(file_name) = names.last() else {
        return PolicyLocation::unknown(path);
    };
    if *file_name == POLICY_FILE {
        if let Some(tail) = match_apiops_tail(&names) {
            let root = prefix_path(path, tail.root_len);
            return PolicyLocation {
                scope: tail.pattern.scope(),
                workspace: tail.workspace,
                product: tail.product,
                api: tail.api,
                operation: tail.operation,
                fragment: tail.fragment,
                artifacts_root: Some(root),
                pattern: Some(tail.pattern),
                path: path.to_path_buf(),
            };
        }
        let folder = prefix_path(path, names.len() - 1);
        if is_artifacts_root(&folder) {
            return PolicyLocation {
                artifacts_root: Some(folder),
                ..PolicyLocation::matched(path, LayoutPattern::ApiOpsGlobal)
            };
        }
        return PolicyLocation::unknown(path);
    }
    locate_resource_kit(path, file_name)
}

/// The devops-resource-kit names: the scope is in the file name's suffix.
fn locate_resource_kit(path: &Path, file_name: &str) -> PolicyLocation {
    if file_name == "globalServicePolicy.xml" {
        return PolicyLocation::matched(path, LayoutPattern::KitGlobal);
    }
    let suffixes = [
        ("-apiPolicy.xml", LayoutPattern::KitApi),
        ("-operationPolicy.xml", LayoutPattern::KitOperation),
        ("-productPolicy.xml", LayoutPattern::KitProduct),
    ];
    for (suffix, pattern) in suffixes {
        let Some(stem) = file_name.strip_suffix(suffix) else {
            continue;
        };
        if stem.is_empty() {
            continue;
        }
        let mut location = PolicyLocation::matched(path, pattern);
        let name = Some(stem.to_owned());
        match pattern {
            LayoutPattern::KitApi => location.api = name,
            LayoutPattern::KitOperation => location.operation = name,
            _ => location.product = name,
        }
        return location;
    }
    PolicyLocation::unknown(path)
}

/// An APIOps pattern matched at the end of a path.
pub(crate) struct MatchedTail {
    pub(crate) pattern: LayoutPattern,
    pub(crate) root_len: usize,
    pub(crate) workspace: Option<String>,
    pub(crate) product: Option<String>,
    pub(crate) api: Option<String>,
    pub(crate) operation: Option<String>,
    pub(crate) fragment: Option<String>,
}

/// Matches the APIOps collection patterns against the end of `names` (which ends in
/// `policy.xml`). The root `policy.xml` is not matched here: it needs the filesystem.
pub(crate) fn match_apiops_tail(names: &[&str]) -> Option<MatchedTail> {
    let n = names.len();
    let at = |i: usize| names[i].to_owned();
    let mut tail = if n >= 5 && names[n - 5] == "apis" && names[n - 3] == "operations" {
        MatchedTail::new(LayoutPattern::ApiOpsOperation, n - 5)
            .with(|t| t.api = Some(at(n - 4)))
            .with(|t| t.operation = Some(at(n - 2)))
    } else if n >= 3 && names[n - 3] == "apis" {
        MatchedTail::new(LayoutPattern::ApiOpsApi, n - 3).with(|t| t.api = Some(at(n - 2)))
    } else if n >= 3 && names[n - 3] == "products" {
        MatchedTail::new(LayoutPattern::ApiOpsProduct, n - 3).with(|t| t.product = Some(at(n - 2)))
    } else if n >= 3 && FRAGMENT_DIRS.contains(&names[n - 3]) {
        MatchedTail::new(LayoutPattern::ApiOpsFragment, n - 3)
            .with(|t| t.fragment = Some(at(n - 2)))
    } else if n >= 3 && names[n - 3] == "workspaces" {
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
    if r >= 2 && names[r - 2] == "workspaces" {
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
        }
    }

    fn with(mut self, set: impl FnOnce(&mut Self)) -> Self {
        set(&mut self);
        self
    }
}

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
pub(crate) fn is_artifacts_root(folder: &Path) -> bool {
    let folder = if folder.as_os_str().is_empty() {
        Path::new(".")
    } else {
        folder
    };
    ROOT_MARKERS.iter().any(|m| folder.join(m).is_dir())
}

/// The scope a root element imposes: a `<fragment>` is a fragment wherever it lives.
pub fn scope_from_root(kind: RootKind) -> Option<Scope> {
    match kind {
        RootKind::Fragment => Some(Scope::Fragment),
        RootKind::Policies => None,
    }
}

/// Why a file has the scope it has, for `check -v`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScopeSource {
    /// The `--scope` flag.
    Flag,
    /// A `scopes` glob of the configuration.
    ConfigGlob,
    /// The root element is `<fragment>`.
    FragmentRoot,
    /// A path pattern.
    Path(LayoutPattern),
    /// Nothing matched the path.
    Unknown { path: PathBuf },
}

impl fmt::Display for ScopeSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScopeSource::Flag => f.write_str("the `--scope` flag"),
            ScopeSource::ConfigGlob => f.write_str("a `scopes` glob of the configuration"),
            ScopeSource::FragmentRoot => f.write_str("the `<fragment>` root element"),
            ScopeSource::Path(pattern) => write!(f, "path pattern {}", pattern.describe()),
            ScopeSource::Unknown { path } => write!(
                f,
                "unknown: no APIOps or resource-kit pattern matched `{}`",
                slash_path(path)
            ),
        }
    }
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

/// Decides a file's scope by the precedence in the module docs, and says why.
pub fn resolve_scope(
    flag: Option<Scope>,
    config_glob: Option<Scope>,
    root: RootKind,
    path_location: &PolicyLocation,
) -> (Scope, ScopeSource) {
    if let Some(scope) = flag {
        return (scope, ScopeSource::Flag);
    }
    if let Some(scope) = config_glob {
        return (scope, ScopeSource::ConfigGlob);
    }
    if let Some(scope) = scope_from_root(root) {
        return (scope, ScopeSource::FragmentRoot);
    }
    match path_location.pattern {
        Some(pattern) => (path_location.scope, ScopeSource::Path(pattern)),
        None => (
            Scope::Unknown,
            ScopeSource::Unknown {
                path: path_location.path.clone(),
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn resource_kit_names() {
        let l = loc("out/policies/globalServicePolicy.xml");
        assert_eq!(l.scope, Scope::Global);
        assert_eq!(l.pattern, Some(LayoutPattern::KitGlobal));
        assert_eq!(l.artifacts_root, None);

        let l = loc("out/policies/echo-api-apiPolicy.xml");
        assert_eq!(l.scope, Scope::Api);
        assert_eq!(l.api.as_deref(), Some("echo-api"));

        let l = loc("out/policies/starter-productPolicy.xml");
        assert_eq!(l.scope, Scope::Product);
        assert_eq!(l.product.as_deref(), Some("starter"));

        let l = loc("out/policies/echo-api-get-item-operationPolicy.xml");
        assert_eq!(l.scope, Scope::Operation);
        assert_eq!(l.operation.as_deref(), Some("echo-api-get-item"));
        assert_eq!(l.api, None, "the api/operation split is ambiguous");

        assert_eq!(loc("out/-apiPolicy.xml").scope, Scope::Unknown);
    }

    #[test]
    fn unknown_paths() {
        for path in [
            "policy.xml",
            "some/where/policy.xml",
            "apis/echo/other.xml",
            "apis/policy.xml",
            "x/apis/echo/operations/policy.xml",
            "",
        ] {
            let l = loc(path);
            assert_eq!(l.scope, Scope::Unknown, "{path}");
            assert_eq!(l.pattern, None);
        }
    }

    #[test]
    fn fragment_root_means_fragment() {
        assert_eq!(scope_from_root(RootKind::Fragment), Some(Scope::Fragment));
        assert_eq!(scope_from_root(RootKind::Policies), None);
    }

    #[test]
    fn resolve_scope_precedence() {
        let api = loc("r/apis/echo/policy.xml");
        let unknown = loc("x/y.xml");
        let fragment = RootKind::Fragment;
        let policies = RootKind::Policies;

        assert_eq!(
            resolve_scope(Some(Scope::Product), Some(Scope::Global), fragment, &api),
            (Scope::Product, ScopeSource::Flag)
        );
        assert_eq!(
            resolve_scope(None, Some(Scope::Global), fragment, &api),
            (Scope::Global, ScopeSource::ConfigGlob)
        );
        assert_eq!(
            resolve_scope(None, None, fragment, &api),
            (Scope::Fragment, ScopeSource::FragmentRoot)
        );
        assert_eq!(
            resolve_scope(None, None, policies, &api),
            (Scope::Api, ScopeSource::Path(LayoutPattern::ApiOpsApi))
        );
        let (scope, source) = resolve_scope(None, None, policies, &unknown);
        assert_eq!(scope, Scope::Unknown);
        assert_eq!(
            source.to_string(),
            "unknown: no APIOps or resource-kit pattern matched `x/y.xml`"
        );
    }

    #[test]
    fn scope_source_messages() {
        assert_eq!(
            ScopeSource::Path(LayoutPattern::ApiOpsOperation).to_string(),
            "path pattern APIOps `apis/<api>/operations/<operation>/policy.xml`"
        );
        assert_eq!(
            ScopeSource::Unknown {
                path: PathBuf::from("/a/b.xml")
            }
            .to_string(),
            "unknown: no APIOps or resource-kit pattern matched `/a/b.xml`"
        );
    }
}

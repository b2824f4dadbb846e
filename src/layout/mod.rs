//! Repository layouts: what a path means. The scope a policy file applies at, which decides
//! the rules that hold for it, and the names each layout gives its folders and files.
//!
//! This module is the front door: [`locate`] asks each layout in turn, [`resolve_scope`]
//! weighs the path's answer against the flag, the configuration and the root element. Each
//! layout is a module: `apiops` (APIOps artifacts folders) and `resource_kit`
//! (devops-resource-kit file names).
//!
//! # The order of scopes
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
//! GraphQL resolver policies ([`Scope::Resolver`]) stand outside the order: they inherit
//! nothing.
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

pub(crate) mod apiops;
mod resource_kit;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::paths::{normal_components, slash_path};
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
    /// A GraphQL resolver policy (`apis/<a>/resolvers/<r>/policy.xml`): outside the scope
    /// chain, it inherits nothing and nothing inherits from it, so `<base />` has no parent
    /// and the scope-dependent and cross-scope rules do not apply. Its XML is usually an
    /// `<http-data-source>` (or another data source), which is not a policy document.
    Resolver,
    /// Not inferable from the path or the content. Scope-dependent rules stay silent.
    Unknown,
}

impl Scope {
    pub const ALL: [Scope; 8] = [
        Scope::Global,
        Scope::Workspace,
        Scope::Product,
        Scope::Api,
        Scope::Operation,
        Scope::Fragment,
        Scope::Resolver,
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
            Scope::Resolver => "resolver",
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
    /// `policy fragments/<f>/policy.xml` (or `policy_fragments/`, apiops-cli's
    /// `policyFragments/`).
    ApiOpsFragment,
    /// `apis/<a>/resolvers/<r>/policy.xml`: a GraphQL resolver policy (apiops-cli).
    ApiOpsResolver,
    /// devops-resource-kit `globalServicePolicy.xml`.
    KitGlobal,
    /// devops-resource-kit `<product>-productPolicy.xml`.
    KitProduct,
    /// devops-resource-kit `<api>-apiPolicy.xml`.
    KitApi,
    /// devops-resource-kit `<api>-<operation>-operationPolicy.xml`.
    KitOperation,
    /// A policy file that a devops-resource-kit creator configuration names (`policy:`,
    /// `apis[].policy`, `apis[].operations.<op>.policy`, `products[].policy`): the scope is
    /// the slot it names, whatever the file is called.
    KitConfig,
    /// A policy that an APIOps environment's `configuration.<env>.yaml` overrides
    /// (`properties.value`): the scope of the policy it replaces.
    EnvOverride,
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
            LayoutPattern::ApiOpsResolver => {
                "apiops-cli `apis/<api>/resolvers/<resolver>/policy.xml`"
            }
            LayoutPattern::KitGlobal => "resource-kit `globalServicePolicy.xml`",
            LayoutPattern::KitProduct => "resource-kit `<product>-productPolicy.xml`",
            LayoutPattern::KitApi => "resource-kit `<api>-apiPolicy.xml`",
            LayoutPattern::KitOperation => "resource-kit `<api>-<operation>-operationPolicy.xml`",
            LayoutPattern::KitConfig => "resource-kit creator configuration",
            LayoutPattern::EnvOverride => "APIOps environment override",
        }
    }

    /// The scope the pattern stands for ([`Scope::Unknown`] for
    /// [`LayoutPattern::KitConfig`], whose files take the scope of the slot named).
    pub fn scope(self) -> Scope {
        match self {
            LayoutPattern::KitConfig | LayoutPattern::EnvOverride => Scope::Unknown,
            LayoutPattern::ApiOpsGlobal | LayoutPattern::KitGlobal => Scope::Global,
            LayoutPattern::ApiOpsWorkspace => Scope::Workspace,
            LayoutPattern::ApiOpsProduct | LayoutPattern::KitProduct => Scope::Product,
            LayoutPattern::ApiOpsApi | LayoutPattern::KitApi => Scope::Api,
            LayoutPattern::ApiOpsOperation | LayoutPattern::KitOperation => Scope::Operation,
            LayoutPattern::ApiOpsFragment => Scope::Fragment,
            LayoutPattern::ApiOpsResolver => Scope::Resolver,
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
    /// The GraphQL resolver folder name, for `apis/<a>/resolvers/<r>/policy.xml`.
    pub resolver: Option<String>,
    /// The APIOps artifacts root (the folder holding `apis/`, `products/`, ...), as a prefix
    /// of the given path: empty for a path relative to the root itself. For a file that a
    /// resource-kit creator configuration names, that YAML file. `None` for other
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
            resolver: None,
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

/// Infers the scope of the policy file at `path` from its path (see the module docs): the
/// first layout whose names match says what the path means.
///
/// Only a `policy.xml` that matches no APIOps collection pattern touches the filesystem: it is
/// global when its folder also holds an APIOps collection folder.
pub fn locate(path: &Path) -> PolicyLocation {
    let names = normal_components(path);
    apiops::locate(path, &names)
        .or_else(|| resource_kit::locate(path, &names))
        .unwrap_or_else(|| PolicyLocation::unknown(path))
}

/// Where a policy file sits in a repo's scope graph, as a layout names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Slot {
    /// The global policy (`workspace` `None`) or a workspace policy.
    Container,
    Api(String),
    Operation(String, String),
    Product(String),
    Fragment(String),
}

/// The scope a root element imposes: a `<fragment>` is a fragment wherever it lives.
pub fn scope_from_root(kind: RootKind) -> Option<Scope> {
    match kind {
        RootKind::Fragment => Some(Scope::Fragment),
        RootKind::Policies => None,
    }
}

/// Why a file has no scope: every way one is found, none of which placed it.
pub const UNKNOWN_SCOPE_WHY: &str = "no layout places it: no APIOps or apiops-cli folder \
    (`apis/<api>/`, `products/<p>/`, `policy fragments/<f>/`, `workspaces/<w>/`, a `policy.xml` \
    beside them), no resource-kit file name (`*-apiPolicy.xml`, ...), no resource-kit creator \
    configuration names it, no environment overrides it and no `scopes:` glob matches it";

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
    /// The Terraform, Bicep or ARM resource that holds the policy (`via` `None`: inline) or
    /// loads its file (`via`: `file`, `templatefile`, `loadTextContent`).
    Host {
        host: PathBuf,
        resource: String,
        via: Option<&'static str>,
    },
}

impl fmt::Display for ScopeSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScopeSource::Flag => f.write_str("the `--scope` flag"),
            ScopeSource::ConfigGlob => f.write_str("a `scopes` glob of the configuration"),
            ScopeSource::FragmentRoot => f.write_str("the `<fragment>` root element"),
            ScopeSource::Path(LayoutPattern::KitConfig) => {
                f.write_str("the resource-kit creator configuration that names the file")
            }
            ScopeSource::Path(LayoutPattern::EnvOverride) => f.write_str(
                "the policy an environment's `configuration.<env>.yaml` overrides there",
            ),
            ScopeSource::Path(pattern) => write!(f, "path pattern {}", pattern.describe()),
            ScopeSource::Unknown { path } => {
                write!(f, "unknown: `{}`: {UNKNOWN_SCOPE_WHY}", slash_path(path))
            }
            ScopeSource::Host {
                host,
                resource,
                via: None,
            } => write!(f, "resource `{resource}` of `{}`", slash_path(host)),
            ScopeSource::Host {
                host,
                resource,
                via: Some(via),
            } => write!(
                f,
                "loaded with `{via}()` by resource `{resource}` of `{}`",
                slash_path(host)
            ),
        }
    }
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
            format!("unknown: `x/y.xml`: {UNKNOWN_SCOPE_WHY}")
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
            format!("unknown: `/a/b.xml`: {UNKNOWN_SCOPE_WHY}")
        );
    }
}

//! The repo model: the scope graph of one APIOps artifacts root, effective-policy composition
//! over it, and the facts and composed chains the rules read (the rules' cross-scope checks
//! live with the rules, in `crate::rules`).
//!
//! A [`Repo`] holds, for the service and for each workspace, the policy files at each scope
//! (see [`crate::layout`] for the order of scopes), the operations of each API, the APIs each
//! product holds and the fragments by `fragment-id`. A request runs one [`Chain`]: an operation
//! of an API, optionally through one product. APIM resolves at most one product per request and
//! a static tool cannot know which, so every (product holding the API, or none) pair is its own
//! chain.
//!
//! Decisions where APIM's documentation is silent:
//!
//! - A scope with no policy file has its default policy: `<base />` in every section, and no
//!   statements at all at global scope. A policy file that does not parse is recorded in
//!   [`Repo::errors`] and counts as absent.
//! - A section missing from a policy file is empty: it inherits nothing (like a section without
//!   `<base />`).
//! - A `;rev=N` revision folder is its own API but shares the product membership of its API:
//!   `products/p/apis/orders/` puts `orders` and `orders;rev=2` in product `p`.
//! - Product members that have no `apis/<a>/` folder are ignored: nothing of theirs is in the
//!   repo.
//! - A workspace's APIs run workspace products, then the workspace policy, then global. A
//!   `fragment-id` resolves among the workspace's fragments first, then the service's.
//! - An `<include-fragment>` whose fragment is not in the repo stays in the effective policy as
//!   it is written.

mod analysis;
mod build;
mod effective;
pub mod environment;
mod error;
mod facts;
pub mod named_values;
pub mod resource_kit;
mod substitute;

use environment::Environment;
use named_values::NamedValues;

pub(crate) use analysis::{ChainEvents, CorsDepth};
#[allow(unused_imports)]
pub(crate) use build::RepoBuilder;
pub use effective::{Effective, EffectiveSection, Section, Statement};
pub(crate) use effective::{Event, EventKind, Loc, Template};
pub use error::RepoError;
pub use facts::{Gates, Inherited, RepoFacts, may_reject};

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use crate::folders::{Disk, Folders, Listing};
use crate::layout::apiops::{
    self, API_INFO_FILES, APIS_DIR, FRAGMENT_DIRS, OPERATIONS_DIR, POLICY_FILE, PRODUCT_API_FILES,
    PRODUCT_APIS_LIST, PRODUCTS_DIR, VERSION_SET_DIRS, VERSION_SET_FILES, WORKSPACES_DIR,
};
use crate::layout::{self, Scope, Slot};
use crate::paths::{normal_components, slash_path};
use crate::syntax::{self, Document, ElementRef, RootKind};
use rustc_hash::FxBuildHasher;

/// Index of a policy file in [`Repo`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct FileId(usize);

impl FileId {
    /// The position of the file among the repo's files, as templates are indexed.
    pub(crate) fn index(self) -> usize {
        self.0
    }
}

/// One parsed policy file of the repo.
#[derive(Clone, Debug)]
pub(crate) struct PolicyFile {
    /// The path as loaded (`root.join(rel)`) or as handed over.
    pub(crate) path: PathBuf,
    /// Relative to the artifacts root, `/`-separated: what messages show.
    pub(crate) rel: String,
    pub(crate) scope: Scope,
    /// The workspace whose artifacts hold the file.
    pub(crate) workspace: Option<String>,
    /// Where the file was attached; its node may since name a later file of the same slot.
    slot: Slot,
    pub(crate) doc: Arc<Document>,
}

impl PolicyFile {
    /// Names the file in messages, e.g. "product `starter`". Made on demand: few files are
    /// ever named.
    pub(crate) fn label(&self) -> String {
        let ws_note = self
            .workspace
            .as_deref()
            .map(|w| format!(" in workspace `{w}`"))
            .unwrap_or_default();
        match &self.slot {
            Slot::Container => match &self.workspace {
                Some(ws) => format!("workspace `{ws}`"),
                None => "global scope".to_owned(),
            },
            Slot::Api(api) => format!("API `{api}`{ws_note}"),
            Slot::Operation(api, op) => format!("operation `{api}/{op}`{ws_note}"),
            Slot::Product(product) => format!("product `{product}`{ws_note}"),
            Slot::Fragment(fragment) => format!("fragment `{fragment}`{ws_note}"),
        }
    }
}

/// The service, or one workspace: the artifacts below one folder.
#[derive(Clone, Debug, Default)]
struct Container {
    /// The global policy for the service, the workspace policy for a workspace.
    policy: Option<FileId>,
    apis: BTreeMap<String, ApiNode>,
    products: BTreeMap<String, ProductNode>,
    fragments: BTreeMap<String, Option<FileId>>,
    /// Version sets by name.
    version_sets: BTreeMap<String, VersionSet>,
}

#[derive(Clone, Debug, Default)]
struct ApiNode {
    policy: Option<FileId>,
    operations: BTreeMap<String, Option<FileId>>,
    /// What `apiInformation.json` says, when the API folder has one that parses.
    info: Option<ApiInfo>,
}

/// The few facts of an API's metadata (`apiInformation.json`) that the rules read. Metadata
/// that is missing or does not parse tells nothing: the rules that need it stay silent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ApiInfo {
    /// `subscriptionRequired`, when written.
    pub(crate) subscription_required: Option<bool>,
    /// `subscriptionKeyParameterNames.header`, when written.
    pub(crate) key_header: Option<String>,
    /// The version set's name: the last segment of `apiVersionSetId`.
    pub(crate) version_set: Option<String>,
}

/// The facts of a version set (`version sets/<name>/versionSetInformation.json`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct VersionSet {
    /// `versioningScheme`: `Segment`, `Query` or `Header`.
    pub(crate) scheme: String,
    /// `versionHeaderName`, when written.
    pub(crate) header: Option<String>,
}

/// The `properties` object of a metadata file, when it reads as JSON.
fn read_properties(dir: &Dir, names: &[&str]) -> Option<serde_json::Value> {
    let name = names.iter().find(|n| dir.has_file(n))?;
    let bytes = std::fs::read(dir.path.join(name)).ok()?;
    let mut value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    Some(
        value
            .get_mut("properties")
            .map(serde_json::Value::take)
            .unwrap_or(value),
    )
}

fn read_api_info(dir: &Dir) -> Option<ApiInfo> {
    let props = read_properties(dir, &API_INFO_FILES)?;
    Some(ApiInfo {
        subscription_required: props.get("subscriptionRequired").and_then(|v| v.as_bool()),
        key_header: props
            .pointer("/subscriptionKeyParameterNames/header")
            .and_then(|v| v.as_str())
            .map(str::to_owned),
        version_set: props
            .get("apiVersionSetId")
            .and_then(|v| v.as_str())
            .and_then(|id| id.trim_end_matches('/').rsplit('/').next())
            .filter(|name| !name.is_empty())
            .map(str::to_owned),
    })
}

fn read_version_set(dir: &Dir) -> Option<VersionSet> {
    let props = read_properties(dir, &VERSION_SET_FILES)?;
    Some(VersionSet {
        scheme: props.get("versioningScheme")?.as_str()?.to_owned(),
        header: props
            .get("versionHeaderName")
            .and_then(|v| v.as_str())
            .map(str::to_owned),
    })
}

#[derive(Clone, Debug, Default)]
struct ProductNode {
    policy: Option<FileId>,
    /// API names as membership files give them (without `;rev=N`).
    apis: BTreeSet<String>,
}

/// One request path through the scopes: an API's operation (or the API alone when it has no
/// operations), optionally through a product holding the API.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Chain {
    pub workspace: Option<String>,
    /// The API folder name, `;rev=N` included.
    pub api: String,
    pub product: Option<String>,
    pub operation: Option<String>,
}

impl Chain {
    /// The API as [`Repo::effective`] names it: `<workspace>/<api>` inside a workspace (APIM
    /// resource names cannot hold `/`), else the API folder name.
    pub fn api_id(&self) -> String {
        api_id(self.workspace.as_deref(), &self.api)
    }
}

impl fmt::Display for Chain {
    /// `api[/operation][ via product]`, the API as in [`Chain::api_id`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.api_id())?;
        if let Some(op) = &self.operation {
            write!(f, "/{op}")?;
        }
        if let Some(product) = &self.product {
            write!(f, " via {product}")?;
        }
        Ok(())
    }
}

fn api_id(workspace: Option<&str>, api: &str) -> String {
    match workspace {
        Some(ws) => format!("{ws}/{api}"),
        None => api.to_owned(),
    }
}

/// The API name a product membership uses for an API folder: revisions share their API's.
fn membership_name(api: &str) -> &str {
    api.split_once(";rev=").map_or(api, |(name, _)| name)
}

/// One scope of a chain, narrowest first.
#[derive(Clone, Debug)]
pub(crate) struct Level {
    pub(crate) scope: Scope,
    pub(crate) file: Option<FileId>,
    /// The workspace whose fragments `include-fragment` at this level sees first.
    pub(crate) workspace: Option<String>,
}

/// The scope graph of one APIOps artifacts root.
#[derive(Debug)]
pub struct Repo {
    root: PathBuf,
    files: Vec<PolicyFile>,
    /// Only for handed-over documents ([`Repo::from_documents`]): loaded files are at
    /// `root.join(rel)`, one per `rel`, so [`Repo::by_rel`] finds them alike.
    by_path: HashMap<PathBuf, FileId, FxBuildHasher>,
    /// The same files by [`PolicyFile::rel`], for paths spelled differently (`./x`).
    by_rel: HashMap<String, FileId, FxBuildHasher>,
    service: Container,
    workspaces: BTreeMap<String, Container>,
    errors: Vec<RepoError>,
    /// [`Repo::repo_has_cors`], computed on first use: it reads every file.
    has_cors: OnceLock<bool>,
    /// [`Repo::inbound_cors`] of every file, by [`FileId`]: every chain and every
    /// `facts_for` asks it again of the same broader files.
    inbound_cors: OnceLock<Vec<Option<Loc>>>,
    /// The fragment sets `facts_for` reports, which are the same for every file of a
    /// container.
    fragment_sets: Mutex<analysis::FragmentSetsCache>,
    /// The service's named values, with the environment's overrides once applied.
    named_values: NamedValues,
    /// [`NamedValues::resolvable`] of them, made on first use (after any environment).
    resolvable: OnceLock<Arc<BTreeMap<String, String>>>,
    /// The environment applied, if any.
    environment: Option<String>,
    /// A policy of the layout could not be read ([`RepoBuilder::incomplete`]).
    incomplete: bool,
}

impl Repo {
    /// Reads the APIOps tree below `artifacts_root`: its folders, its JSON product membership
    /// and every policy file. Fails only when the root itself cannot be read.
    pub fn load(artifacts_root: &Path) -> Result<Repo, RepoError> {
        Repo::load_with(artifacts_root, Vec::new(), &Disk)
    }

    /// Builds the repo from documents the caller already parsed. Folders and JSON metadata
    /// are still read from disk below `root`; policy files not handed over count as absent
    /// (their scope's default policy), and documents outside the APIOps slots are ignored.
    pub fn from_documents(
        root: &Path,
        documents: Vec<(PathBuf, Arc<Document>)>,
    ) -> Result<Repo, RepoError> {
        let mut repo = Repo::empty(root);
        repo.scan(&Disk)?;
        repo.named_values = NamedValues::read(&repo.fs_root());
        let mut documents = documents;
        documents.sort_by(|a, b| a.0.cmp(&b.0));
        for (path, doc) in documents {
            let Ok(relative) = path.strip_prefix(&repo.root) else {
                continue;
            };
            let names = normal_components(relative);
            let Some((slot, workspace)) = apiops::classify(&names) else {
                continue;
            };
            let rel = names.join("/");
            repo.by_path.insert(path.clone(), FileId(repo.files.len()));
            repo.attach(slot, workspace, path, rel, doc);
        }
        Ok(repo)
    }

    /// Reads the repo like [`Repo::load`], but takes the documents handed over (already
    /// parsed, or fixed) in place of the files at their paths, and the folder listings from
    /// `folders` (those a walk already read). Files not handed over are read from disk, so a
    /// run on part of a repo still sees the whole scope graph.
    pub fn load_with(
        root: &Path,
        documents: Vec<(PathBuf, Arc<Document>)>,
        folders: &dyn Folders,
    ) -> Result<Repo, RepoError> {
        let mut repo = Repo::empty(root);
        let given: HashMap<String, Arc<Document>, FxBuildHasher> = documents
            .into_iter()
            .filter_map(|(path, doc)| Some((rel_of(&repo.root, &path)?.into_owned(), doc)))
            .collect();
        let mut found = repo.scan(folders)?;
        repo.named_values = NamedValues::read(&repo.fs_root());
        found.sort_by(|a, b| a.2.cmp(&b.2));
        for (slot, workspace, rel) in found {
            let path = repo.root.join(&rel);
            if let Some(doc) = given.get(&rel) {
                repo.attach(slot, workspace, path, rel, doc.clone());
                continue;
            }
            let bytes = match std::fs::read(&path) {
                Ok(bytes) => bytes,
                Err(source) => {
                    repo.errors.push(RepoError::Io { path, source });
                    continue;
                }
            };
            match syntax::parse_bytes(bytes, &syntax::Limits::default()) {
                Ok(doc) => repo.attach(slot, workspace, path, rel, Arc::new(doc)),
                Err(source) => repo.errors.push(RepoError::Syntax { path, source }),
            }
        }
        Ok(repo)
    }

    /// The repo model of the devops-resource-kit creator configuration at `config` (see
    /// [`resource_kit`]), with the documents handed over standing for their files.
    pub fn from_creator_config(
        config: &Path,
        documents: Vec<(PathBuf, Arc<Document>)>,
    ) -> Result<Repo, RepoError> {
        let parsed = resource_kit::CreatorConfig::read(config).ok_or_else(|| {
            RepoError::NotACreatorConfig {
                path: config.to_path_buf(),
            }
        })?;
        Ok(parsed.build(documents))
    }

    /// The repo at `root`: an APIOps artifacts root, or a resource-kit creator configuration
    /// (a `*.yml`/`*.yaml` file).
    pub fn open(root: &Path) -> Result<Repo, RepoError> {
        if root.is_file() && resource_kit::is_yaml_name(root) {
            return Repo::from_creator_config(root, Vec::new());
        }
        Repo::load(root)
    }

    fn empty(root: &Path) -> Repo {
        Repo {
            root: root.to_path_buf(),
            files: Vec::new(),
            by_path: HashMap::default(),
            by_rel: HashMap::default(),
            service: Container::default(),
            workspaces: BTreeMap::new(),
            errors: Vec::new(),
            has_cors: OnceLock::new(),
            inbound_cors: OnceLock::new(),
            fragment_sets: Mutex::default(),
            named_values: NamedValues::default(),
            resolvable: OnceLock::new(),
            environment: None,
            incomplete: false,
        }
    }

    /// The named values, with the environment's overrides when one was applied.
    pub fn named_values(&self) -> &NamedValues {
        &self.named_values
    }

    /// Each `{{reference}}` whose value may be shown, with that value (secrets, Key Vault
    /// references and placeholders are never among them).
    pub fn resolvable_named_values(&self) -> Arc<BTreeMap<String, String>> {
        Arc::clone(
            self.resolvable
                .get_or_init(|| self.named_values.resolvable()),
        )
    }

    /// The environment applied, if any.
    pub fn environment(&self) -> Option<&str> {
        self.environment.as_deref()
    }

    /// [`Repo::apply_environment`] with the environment `name` found for this repo (see
    /// [`environment::find`]); a missing or unreadable file is one of [`Repo::errors`].
    pub fn use_environment(&mut self, name: &str, documents: &[(PathBuf, Arc<Document>)]) {
        let Some(path) = environment::find(&self.root, name) else {
            self.errors.push(RepoError::NoEnvironment {
                path: self.fs_root(),
                name: name.to_owned(),
            });
            return;
        };
        match Environment::load(&path, name) {
            Ok(env) => {
                let errors = self.apply_environment(&env, documents);
                self.errors.extend(errors);
            }
            Err(e) => self.errors.push(e),
        }
    }

    /// Makes the repo the one `env` deploys: its named-value overrides apply, and each policy
    /// it overrides is replaced by the override (a document of `documents` at the override's
    /// virtual path, else the override parsed here). The file on disk stays known by its path
    /// but no chain goes through it any more. Overrides that do not parse are returned as
    /// errors and change nothing.
    pub fn apply_environment(
        &mut self,
        env: &Environment,
        documents: &[(PathBuf, Arc<Document>)],
    ) -> Vec<RepoError> {
        let mut errors = Vec::new();
        env.apply_named_values(&mut self.named_values);
        self.resolvable = OnceLock::new();
        self.environment = Some(env.name.clone());
        for o in env.policy_overrides() {
            let path = o.virtual_path(env);
            let doc = match documents.iter().find(|(p, _)| *p == path) {
                Some((_, doc)) => Arc::clone(doc),
                None => match syntax::parse(&o.source) {
                    Ok(doc) => Arc::new(doc),
                    Err(source) => {
                        errors.push(RepoError::Syntax { path, source });
                        continue;
                    }
                },
            };
            let file_name = env
                .path
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let rel = format!("{file_name}#{}", o.label);
            self.by_path.insert(path.clone(), FileId(self.files.len()));
            self.attach(o.slot.clone(), o.workspace.clone(), path, rel, doc);
        }
        self.has_cors = OnceLock::new();
        self.inbound_cors = OnceLock::new();
        self.fragment_sets = Mutex::default();
        errors
    }

    /// The artifacts root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Problems met while loading: unreadable or unparsable policy files, bad JSON metadata.
    pub fn errors(&self) -> &[RepoError] {
        &self.errors
    }

    /// The paths of the repo's parsed policy files, in path order.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.files.iter().map(|f| f.path.as_path())
    }

    /// The parsed document of the policy file at `path`.
    pub fn document(&self, path: &Path) -> Option<&Document> {
        self.file_id(path).map(|id| self.file(id).doc.as_ref())
    }

    /// The scope the layout gives the policy file at `path`.
    pub fn scope(&self, path: &Path) -> Option<Scope> {
        self.file_id(path).map(|id| self.file(id).scope)
    }

    /// `path` relative to the artifacts root with `/` separators, as messages show it.
    pub fn display_path(&self, path: &Path) -> String {
        match path.strip_prefix(&self.root) {
            Ok(rel) => normal_components(rel).join("/"),
            Err(_) => slash_path(path),
        }
    }

    /// The root's folder for filesystem calls: an empty root is the working directory.
    fn fs_root(&self) -> PathBuf {
        if self.root.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            self.root.clone()
        }
    }

    pub(crate) fn file(&self, id: FileId) -> &PolicyFile {
        &self.files[id.0]
    }

    pub(crate) fn file_id(&self, path: &Path) -> Option<FileId> {
        if !self.by_path.is_empty() {
            if let Some(id) = self.by_path.get(path) {
                return Some(*id);
            }
        }
        self.by_rel.get(&*rel_of(&self.root, path)?).copied()
    }

    /// Walks the folders: creates the nodes of APIs, operations, products and fragments, reads
    /// product membership, and returns the policy files present on disk.
    fn scan(
        &mut self,
        folders: &dyn Folders,
    ) -> Result<Vec<(Slot, Option<String>, String)>, RepoError> {
        let root = self.fs_root();
        // Only the root must be readable: everything below is optional.
        let listing = folders.listing(&root).map_err(|source| RepoError::Io {
            path: self.root.clone(),
            source,
        })?;
        let mut found = Vec::new();
        let mut service = Container::default();
        let dir = Dir {
            path: root,
            listing: Some(listing),
        };
        self.scan_container(folders, &dir, "", None, &mut service, &mut found);
        let mut workspaces = BTreeMap::new();
        let workspaces_dir = dir.child(folders, WORKSPACES_DIR);
        for ws in workspaces_dir.subdirs() {
            let mut container = Container::default();
            let prefix = format!("{WORKSPACES_DIR}/{ws}/");
            let dir = workspaces_dir.subdir(folders, &ws);
            self.scan_container(
                folders,
                &dir,
                &prefix,
                Some(&ws),
                &mut container,
                &mut found,
            );
            workspaces.insert(ws, container);
        }
        self.service = service;
        self.workspaces = workspaces;
        Ok(found)
    }

    fn scan_container(
        &mut self,
        folders: &dyn Folders,
        dir: &Dir,
        prefix: &str,
        workspace: Option<&str>,
        container: &mut Container,
        found: &mut Vec<(Slot, Option<String>, String)>,
    ) {
        let ws = workspace.map(str::to_owned);
        let mut note = |slot: Slot, rel: String, folder: &Dir| {
            if folder.has_file(POLICY_FILE) {
                found.push((slot, ws.clone(), format!("{prefix}{rel}")));
            }
        };
        note(Slot::Container, POLICY_FILE.to_owned(), dir);
        let apis_dir = dir.child(folders, APIS_DIR);
        for api in apis_dir.subdirs() {
            let api_dir = apis_dir.subdir(folders, &api);
            note(
                Slot::Api(api.clone()),
                format!("{APIS_DIR}/{api}/{POLICY_FILE}"),
                &api_dir,
            );
            let node = container.apis.entry(api.clone()).or_default();
            node.info = read_api_info(&api_dir);
            let operations_dir = api_dir.child(folders, OPERATIONS_DIR);
            for op in operations_dir.subdirs() {
                note(
                    Slot::Operation(api.clone(), op.clone()),
                    format!("{APIS_DIR}/{api}/{OPERATIONS_DIR}/{op}/{POLICY_FILE}"),
                    &operations_dir.subdir(folders, &op),
                );
                node.operations.insert(op, None);
            }
        }
        let products_dir = dir.child(folders, PRODUCTS_DIR);
        for product in products_dir.subdirs() {
            let product_dir = products_dir.subdir(folders, &product);
            note(
                Slot::Product(product.clone()),
                format!("{PRODUCTS_DIR}/{product}/{POLICY_FILE}"),
                &product_dir,
            );
            let members = self.read_membership(folders, &product_dir);
            container
                .products
                .entry(product)
                .or_default()
                .apis
                .extend(members);
        }
        for sets_dir in VERSION_SET_DIRS {
            let sets_dir = dir.child(folders, sets_dir);
            for set in sets_dir.subdirs() {
                if let Some(info) = read_version_set(&sets_dir.subdir(folders, &set)) {
                    container.version_sets.insert(set, info);
                }
            }
        }
        for fragments_dir in FRAGMENT_DIRS {
            let fragments_dir_listed = dir.child(folders, fragments_dir);
            for fragment in fragments_dir_listed.subdirs() {
                note(
                    Slot::Fragment(fragment.clone()),
                    format!("{fragments_dir}/{fragment}/{POLICY_FILE}"),
                    &fragments_dir_listed.subdir(folders, &fragment),
                );
                container.fragments.entry(fragment).or_insert(None);
            }
        }
    }

    /// The APIs a product holds: the union of `apis/<a>/productApiInformation.json` markers
    /// and the `apis.json` list.
    fn read_membership(&mut self, folders: &dyn Folders, product_dir: &Dir) -> BTreeSet<String> {
        let mut members = BTreeSet::new();
        let apis_dir = product_dir.child(folders, APIS_DIR);
        for api in apis_dir.subdirs() {
            let api_dir = apis_dir.subdir(folders, &api);
            if PRODUCT_API_FILES.iter().any(|f| api_dir.has_file(f)) {
                members.insert(api);
            }
        }
        if product_dir.has_file(PRODUCT_APIS_LIST) {
            let list = product_dir.path.join(PRODUCT_APIS_LIST);
            #[derive(serde::Deserialize)]
            struct Member {
                name: String,
            }
            let parsed = std::fs::read(&list)
                .map_err(|source| RepoError::Io {
                    path: list.clone(),
                    source,
                })
                .and_then(|bytes| {
                    serde_json::from_slice::<Vec<Member>>(&bytes).map_err(|source| {
                        RepoError::Json {
                            path: list.clone(),
                            source,
                        }
                    })
                });
            match parsed {
                Ok(list) => members.extend(list.into_iter().map(|m| m.name)),
                Err(e) => self.errors.push(e),
            }
        }
        members
    }

    /// Records a parsed policy file at its slot, creating the node when the folder scan did
    /// not (documents handed over for folders that are gone).
    fn attach(
        &mut self,
        slot: Slot,
        workspace: Option<String>,
        path: PathBuf,
        rel: String,
        doc: Arc<Document>,
    ) {
        let id = FileId(self.files.len());
        let container = match &workspace {
            Some(ws) => self.workspaces.entry(ws.clone()).or_default(),
            None => &mut self.service,
        };
        let scope = match &slot {
            Slot::Container => {
                container.policy = Some(id);
                match &workspace {
                    Some(_) => Scope::Workspace,
                    None => Scope::Global,
                }
            }
            Slot::Api(api) => {
                node_mut(&mut container.apis, api).policy = Some(id);
                Scope::Api
            }
            Slot::Operation(api, op) => {
                *node_mut(&mut node_mut(&mut container.apis, api).operations, op) = Some(id);
                Scope::Operation
            }
            Slot::Product(product) => {
                node_mut(&mut container.products, product).policy = Some(id);
                Scope::Product
            }
            Slot::Fragment(fragment) => {
                *node_mut(&mut container.fragments, fragment) = Some(id);
                Scope::Fragment
            }
        };
        self.by_rel.insert(rel.clone(), id);
        self.files.push(PolicyFile {
            path,
            rel,
            scope,
            workspace,
            slot,
            doc,
        });
    }

    /// The container of `workspace` (the service for `None`), created when missing.
    fn container_mut(&mut self, workspace: Option<&str>) -> &mut Container {
        match workspace {
            Some(ws) => node_mut(&mut self.workspaces, ws),
            None => &mut self.service,
        }
    }

    fn container(&self, workspace: Option<&str>) -> Option<&Container> {
        match workspace {
            Some(ws) => self.workspaces.get(ws),
            None => Some(&self.service),
        }
    }

    /// Every container with its workspace name, the service first.
    fn containers(&self) -> impl Iterator<Item = (Option<&str>, &Container)> {
        std::iter::once((None, &self.service)).chain(
            self.workspaces
                .iter()
                .map(|(name, c)| (Some(name.as_str()), c)),
        )
    }

    /// The fragment `id` as seen from `workspace`: the workspace's own first, then the
    /// service's. Only parsed `<fragment>` documents resolve.
    pub(crate) fn fragment(&self, workspace: Option<&str>, id: &str) -> Option<FileId> {
        let own = workspace
            .and_then(|ws| self.workspaces.get(ws))
            .and_then(|c| c.fragments.get(id).copied().flatten());
        own.or_else(|| self.service.fragments.get(id).copied().flatten())
            .filter(|f| self.file(*f).doc.root_kind() == RootKind::Fragment)
    }

    /// The fragments visible from `workspace`, by `fragment-id`.
    pub(crate) fn visible_fragments(&self, workspace: Option<&str>) -> BTreeMap<&str, FileId> {
        let mut out: BTreeMap<&str, FileId> = BTreeMap::new();
        let own = workspace.and_then(|ws| self.workspaces.get(ws));
        for container in [Some(&self.service), own].into_iter().flatten() {
            for (id, file) in &container.fragments {
                if let Some(file) =
                    file.filter(|f| self.file(*f).doc.root_kind() == RootKind::Fragment)
                {
                    out.insert(id.as_str(), file);
                }
            }
        }
        out
    }

    /// The metadata of the API whose policy (or operation policy) `id` is.
    pub(crate) fn api_info_of(&self, id: FileId) -> Option<&ApiInfo> {
        let file = self.file(id);
        let api = match &file.slot {
            Slot::Api(api) | Slot::Operation(api, _) => api,
            _ => return None,
        };
        self.api_info(file.workspace.as_deref(), api)
    }

    /// The metadata of `api` (a folder name, `;rev=N` included) in `workspace`.
    pub(crate) fn api_info(&self, workspace: Option<&str>, api: &str) -> Option<&ApiInfo> {
        self.container(workspace)?.apis.get(api)?.info.as_ref()
    }

    /// The version set `name` as seen from `workspace`: the workspace's own first, then the
    /// service's.
    pub(crate) fn version_set(&self, workspace: Option<&str>, name: &str) -> Option<&VersionSet> {
        let own = workspace
            .and_then(|ws| self.workspaces.get(ws))
            .and_then(|c| c.version_sets.get(name));
        own.or_else(|| self.service.version_sets.get(name))
    }

    /// The products of the API's container that hold `api`.
    fn products_holding(&self, workspace: Option<&str>, api: &str) -> Vec<String> {
        self.container(workspace)
            .map(|c| holders(c, api).map(|(name, _)| name.clone()).collect())
            .unwrap_or_default()
    }

    /// Every chain: per API (service APIs first, then each workspace's, by name), the chain
    /// without a product and then one per product holding the API; per product, one chain per
    /// operation, or one without an operation when the API has none.
    pub fn chains(&self) -> Vec<Chain> {
        let mut chains = Vec::new();
        for (workspace, container) in self.containers() {
            for (api, node) in &container.apis {
                let products = std::iter::once(None)
                    .chain(self.products_holding(workspace, api).into_iter().map(Some));
                for product in products {
                    let operations: Vec<Option<String>> = if node.operations.is_empty() {
                        vec![None]
                    } else {
                        node.operations.keys().cloned().map(Some).collect()
                    };
                    for operation in operations {
                        chains.push(Chain {
                            workspace: workspace.map(str::to_owned),
                            api: api.clone(),
                            product: product.clone(),
                            operation,
                        });
                    }
                }
            }
        }
        chains
    }

    /// Finds the chain for the names [`Repo::effective`] takes, or says what is known.
    fn resolve_chain(
        &self,
        api: &str,
        operation: Option<&str>,
        product: Option<&str>,
    ) -> Result<Chain, RepoError> {
        let (workspace, api_name) = match api.split_once('/') {
            Some((ws, name)) => (Some(ws), name),
            None => (None, api),
        };
        let node = self
            .container(workspace)
            .and_then(|c| c.apis.get(api_name))
            .ok_or_else(|| RepoError::UnknownApi {
                name: api.to_owned(),
                known: self.api_ids(),
            })?;
        if let Some(op) = operation {
            if !node.operations.contains_key(op) {
                return Err(RepoError::UnknownOperation {
                    api: api.to_owned(),
                    name: op.to_owned(),
                    known: node.operations.keys().cloned().collect(),
                });
            }
        }
        if let Some(product) = product {
            let holders = self.products_holding(workspace, api_name);
            if !holders.iter().any(|p| p == product) {
                return Err(RepoError::UnknownProduct {
                    api: api.to_owned(),
                    name: product.to_owned(),
                    known: holders,
                });
            }
        }
        Ok(Chain {
            workspace: workspace.map(str::to_owned),
            api: api_name.to_owned(),
            product: product.map(str::to_owned),
            operation: operation.map(str::to_owned),
        })
    }

    /// Every API as [`Repo::effective`] names it.
    pub fn api_ids(&self) -> Vec<String> {
        self.containers()
            .flat_map(|(ws, c)| c.apis.keys().map(move |api| api_id(ws, api)))
            .collect()
    }

    /// The scopes of `chain`, narrowest first (the order of [`crate::layout`], reversed); the
    /// product and workspace levels only when the chain has them.
    pub(crate) fn levels(&self, chain: &Chain) -> Vec<Level> {
        let workspace = chain.workspace.as_deref();
        let container = self.container(workspace);
        let api = container.and_then(|c| c.apis.get(&chain.api));
        let level = |scope, file| Level {
            scope,
            file,
            workspace: chain.workspace.clone(),
        };
        let mut levels = Vec::with_capacity(5);
        if let Some(op) = &chain.operation {
            let file = api.and_then(|a| a.operations.get(op).copied().flatten());
            levels.push(level(Scope::Operation, file));
        }
        levels.push(level(Scope::Api, api.and_then(|a| a.policy)));
        if let Some(product) = &chain.product {
            let file = container
                .and_then(|c| c.products.get(product))
                .and_then(|p| p.policy);
            levels.push(level(Scope::Product, file));
        }
        if workspace.is_some() {
            levels.push(level(Scope::Workspace, container.and_then(|c| c.policy)));
        }
        levels.push(Level {
            scope: Scope::Global,
            file: self.service.policy,
            workspace: None,
        });
        levels
    }

    /// The scopes broader than the file's own in some chain through it, as policy files
    /// (absent defaults have no statements of their own). `None` for fragments and files of
    /// no known scope.
    pub(crate) fn broader_files(&self, id: FileId) -> Option<Vec<FileId>> {
        let file = self.file(id);
        let workspace = file.workspace.as_deref();
        let container = self.container(workspace)?;
        let mut out = Vec::new();
        // The API whose node holds the file: the one of its slot, unless a later file of the
        // same slot took its place.
        let api_of = |id: FileId| -> Option<(&String, &ApiNode)> {
            let (api, node) = match &file.slot {
                Slot::Api(api) | Slot::Operation(api, _) => container.apis.get_key_value(api)?,
                _ => return None,
            };
            let holds = match &file.slot {
                Slot::Operation(_, op) => node.operations.get(op) == Some(&Some(id)),
                _ => node.policy == Some(id),
            };
            holds.then_some((api, node))
        };
        match file.scope {
            Scope::Global => return Some(out),
            Scope::Fragment | Scope::Resolver | Scope::Unknown => return None,
            Scope::Operation | Scope::Api => {
                if let Some((api, node)) = api_of(id) {
                    if file.scope == Scope::Operation {
                        out.extend(node.policy);
                    }
                    out.extend(holders(container, api).filter_map(|(_, p)| p.policy));
                }
            }
            Scope::Product | Scope::Workspace => {}
        }
        if workspace.is_some() && file.scope != Scope::Workspace {
            out.extend(container.policy);
        }
        out.extend(self.service.policy);
        Some(out)
    }

    /// The section `section` of a parsed `<policies>` document.
    pub(crate) fn section_of(&self, id: FileId, section: Section) -> Option<ElementRef<'_>> {
        let doc = &self.file(id).doc;
        if doc.root_kind() != RootKind::Policies {
            return None;
        }
        doc.root().child(section.tag())
    }

    /// Every policy file, in load order.
    /// The global policy file, when the repo has one.
    pub(crate) fn global_policy(&self) -> Option<FileId> {
        self.service.policy
    }

    pub(crate) fn file_ids(&self) -> impl Iterator<Item = FileId> {
        (0..self.files.len()).map(FileId)
    }
}

/// The entry `key` of `map`, created with its default when missing; the key is copied only
/// then (the folder scan made most nodes already).
fn node_mut<'m, V: Default>(map: &'m mut BTreeMap<String, V>, key: &str) -> &'m mut V {
    if !map.contains_key(key) {
        map.insert(key.to_owned(), V::default());
    }
    map.get_mut(key).expect("just inserted")
}

/// The products of `container` that hold `api`, by name.
fn holders<'c>(
    container: &'c Container,
    api: &'c str,
) -> impl Iterator<Item = (&'c String, &'c ProductNode)> + 'c {
    container
        .products
        .iter()
        .filter(move |(_, p)| p.apis.contains(membership_name(api)) || p.apis.contains(api))
}

/// A folder met by the scan, with its listing when it can be read: each folder is looked up
/// once, for its files and its sub-folders alike (as [`Folders::is_file`] and
/// [`Folders::subdirs`] would answer).
struct Dir {
    path: PathBuf,
    listing: Option<Arc<Listing>>,
}

impl Dir {
    /// The folder `name` below this one. When this folder's listing shows no entry of that
    /// name (ASCII case aside, for case-insensitive file systems) it is not looked up:
    /// reading a folder that is not there is a failed system call per missing folder.
    fn child(&self, folders: &dyn Folders, name: &str) -> Dir {
        let path = self.path.join(name);
        let absent = self.listing.as_ref().is_some_and(|l| {
            !l.entries()
                .any(|(entry, _)| entry.eq_ignore_ascii_case(name))
        });
        let listing = if absent {
            None
        } else {
            folders.listing(&path).ok()
        };
        Dir { path, listing }
    }

    /// The sub-folder `name`, one of [`Dir::subdirs`].
    fn subdir(&self, folders: &dyn Folders, name: &str) -> Dir {
        let path = self.path.join(name);
        let listing = folders.listing(&path).ok();
        Dir { path, listing }
    }

    fn subdirs(&self) -> Vec<String> {
        self.listing
            .as_ref()
            .map(|l| l.subdirs())
            .unwrap_or_default()
    }

    fn has_file(&self, name: &str) -> bool {
        self.listing
            .as_ref()
            .is_some_and(|l| l.has_file(&self.path, name))
    }
}

/// `path` relative to `root` as [`PolicyFile::rel`] spells it, i.e. `slash_joined` of
/// `path.strip_prefix(root)`. A path spelled `root/name/...` with plain names (as loading
/// and the walk spell them) is read off its bytes: splitting paths into components was a
/// fifth of loading.
fn rel_of<'p>(root: &Path, path: &'p Path) -> Option<Cow<'p, str>> {
    if let Some(rest) = plain_rest(root, path) {
        return Some(Cow::Borrowed(rest));
    }
    let relative = path.strip_prefix(root).ok()?;
    Some(Cow::Owned(slash_joined(relative)))
}

/// What follows `root/` in `path`, when that is plain `/`-separated names: none empty, `.`
/// or `..`, so its components are exactly its names.
fn plain_rest<'p>(root: &Path, path: &'p Path) -> Option<&'p str> {
    // Windows' verbatim paths do not split at `/`.
    if cfg!(windows) || root.as_os_str().is_empty() {
        return None;
    }
    let rest = path
        .as_os_str()
        .as_encoded_bytes()
        .strip_prefix(root.as_os_str().as_encoded_bytes())?
        .strip_prefix(b"/")?;
    let rest = std::str::from_utf8(rest).ok()?;
    rest.split('/')
        .all(|name| !name.is_empty() && name != "." && name != "..")
        .then_some(rest)
}

/// `normal_components(path).join("/")`, without the vector.
fn slash_joined(path: &Path) -> String {
    let mut out = String::with_capacity(path.as_os_str().len());
    for name in path.components().filter_map(|c| match c {
        Component::Normal(name) => name.to_str(),
        _ => None,
    }) {
        if !out.is_empty() {
            out.push('/');
        }
        out.push_str(name);
    }
    out
}

/// The APIOps artifacts roots among `files`: the roots that their paths name (see
/// [`crate::layout::locate`]), so the caller can build one [`Repo`] per root. Sorted, without
/// duplicates; resource-kit and unknown files name none.
pub fn find_roots(files: &[PathBuf]) -> Vec<PathBuf> {
    let roots: BTreeSet<PathBuf> = files
        .iter()
        .filter_map(|f| layout::locate(f).artifacts_root)
        .collect();
    roots.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rel_of_reads_bytes_only_where_components_agree() {
        let cases = [
            ("/r", "/r/apis/a/policy.xml"),
            ("/r", "/r//apis/./a/policy.xml"),
            ("/r", "/r/apis/../a/policy.xml"),
            ("/r/", "/r/apis/a/policy.xml"),
            ("/r/.", "/r/./apis/policy.xml"),
            (".", "./apis/policy.xml"),
            ("/r", "/rx/apis/policy.xml"),
            ("/r", "/r"),
            ("", "apis/policy.xml"),
        ];
        for (root, path) in cases {
            let (root, path) = (Path::new(root), Path::new(path));
            let expected = path.strip_prefix(root).ok().map(slash_joined);
            assert_eq!(
                rel_of(root, path).map(Cow::into_owned),
                expected,
                "{root:?} {path:?}"
            );
        }
    }
}

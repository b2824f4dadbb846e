//! The repo model of a devops-resource-kit creator configuration: the YAML that the kit's
//! creator turns into ARM templates names the global policy (`policy:`), each API's policy
//! (`apis[].policy`), its operations' policies (`apis[].operations.<operationId>.policy`),
//! the products' policies (`products[].policy`) and which products hold an API
//! (`apis[].products: starter, gold`). The policy files can be named anything, so their scope
//! comes from here, not from their names.
//!
//! The paths in the YAML are relative to wherever the creator ran, or absolute Windows
//! paths from the author's machine: a reference is resolved relative to the YAML's folder
//! when that file exists, else to the `*.xml` file (in the run, or below the kit root) whose
//! trailing path components match the most of the reference's (at least the file name).
//!
//! The kit root is the folder above the YAML's own (`Input/valid.yml` beside `Input/*.xml`,
//! `YAMLConfigs/valid.yml` beside `XMLPolicies/`). Policy fragments are not part of the
//! creator configuration, so the model has none.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use yaml_serde::Value;

use crate::layout::{Scope, Slot};
use crate::paths::file_identity;
use crate::syntax::{self, Document};

use super::{Repo, RepoBuilder, RepoError};

/// The largest YAML file read as a creator configuration.
const MAX_CONFIG_SIZE: u64 = 1 << 20;

/// How deep below the kit root `*.xml` files are looked for.
const MAX_DEPTH: usize = 6;

/// At most this many folder entries are looked at below one kit root.
const MAX_ENTRIES: usize = 20_000;

/// A creator configuration that names at least one policy file.
#[derive(Debug, Clone)]
pub struct CreatorConfig {
    /// The YAML file, as an absolute path.
    pub path: PathBuf,
    /// The folder above the YAML's own: references are resolved below it.
    pub root: PathBuf,
    apis: Vec<KitApi>,
    products: Vec<KitProduct>,
    global: Option<String>,
    /// `namedValues`: each entry as JSON properties (`displayName`, `value`, `secret`,
    /// `keyVault`), by its display name.
    named_values: Vec<(String, serde_json::Value)>,
}

#[derive(Debug, Clone)]
struct KitApi {
    name: String,
    policy: Option<String>,
    operations: Vec<(String, String)>,
    products: Vec<String>,
}

#[derive(Debug, Clone)]
struct KitProduct {
    /// `name`, else `displayName`.
    name: String,
    display_name: Option<String>,
    policy: Option<String>,
}

/// Whether the file name looks like YAML.
pub fn is_yaml_name(path: &Path) -> bool {
    path.extension()
        .and_then(|x| x.to_str())
        .is_some_and(|x| x.eq_ignore_ascii_case("yml") || x.eq_ignore_ascii_case("yaml"))
}

fn string(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        _ => None,
    }
}

fn list(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        Some(Value::Sequence(items)) => items.iter().filter_map(|v| string(Some(v))).collect(),
        _ => Vec::new(),
    }
}

impl CreatorConfig {
    /// Reads `path` as a creator configuration: `None` when it is not one (no
    /// `apimServiceName`, or no policy reference), cannot be read or does not parse.
    pub fn read(path: &Path) -> Option<CreatorConfig> {
        let meta = std::fs::metadata(path).ok()?;
        if !meta.is_file() || meta.len() > MAX_CONFIG_SIZE {
            return None;
        }
        let text = std::fs::read_to_string(path).ok()?;
        CreatorConfig::parse(path, &text)
    }

    /// Parses `text`, the creator configuration at `path`.
    pub fn parse(path: &Path, text: &str) -> Option<CreatorConfig> {
        // Most YAML files are something else: a cheap look first.
        if !text.contains("apimServiceName") || !text.contains("policy") {
            return None;
        }
        let value: Value = yaml_serde::from_str(text).ok()?;
        let map = value.as_mapping()?;
        map.get("apimServiceName")?;
        let path = file_identity(path);
        let folder = path.parent()?.to_path_buf();
        let root = folder.parent().unwrap_or(&folder).to_path_buf();
        let mut apis = Vec::new();
        if let Some(Value::Sequence(items)) = map.get("apis") {
            for item in items {
                let Some(name) = string(item.get("name")) else {
                    continue;
                };
                let mut operations = Vec::new();
                if let Some(Value::Mapping(ops)) = item.get("operations") {
                    for (op, body) in ops {
                        if let (Some(op), Some(policy)) =
                            (string(Some(op)), string(body.get("policy")))
                        {
                            operations.push((op, policy));
                        }
                    }
                }
                apis.push(KitApi {
                    name,
                    policy: string(item.get("policy")),
                    operations,
                    products: list(item.get("products")),
                });
            }
        }
        let mut products = Vec::new();
        if let Some(Value::Sequence(items)) = map.get("products") {
            for item in items {
                let display_name = string(item.get("displayName"));
                let Some(name) = string(item.get("name")).or_else(|| display_name.clone()) else {
                    continue;
                };
                products.push(KitProduct {
                    name,
                    display_name,
                    policy: string(item.get("policy")),
                });
            }
        }
        let mut named_values = Vec::new();
        if let Some(Value::Sequence(items)) = map.get("namedValues") {
            for item in items {
                let name = string(item.get("displayName"))
                    .or_else(|| string(item.get("displayname")))
                    .or_else(|| string(item.get("name")));
                if let (Some(name), Ok(props)) = (name, serde_json::to_value(item)) {
                    named_values.push((name, props));
                }
            }
        }
        let config = CreatorConfig {
            path,
            root,
            apis,
            products,
            global: string(map.get("policy")),
            named_values,
        };
        (!config.references().is_empty()).then_some(config)
    }

    /// Every policy reference with the slot it fills, in the YAML's order.
    fn references(&self) -> Vec<(Slot, &str)> {
        let mut out = Vec::new();
        if let Some(global) = &self.global {
            out.push((Slot::Container, global.as_str()));
        }
        for product in &self.products {
            if let Some(policy) = &product.policy {
                out.push((Slot::Product(product.name.clone()), policy.as_str()));
            }
        }
        for api in &self.apis {
            if let Some(policy) = &api.policy {
                out.push((Slot::Api(api.name.clone()), policy.as_str()));
            }
            for (op, policy) in &api.operations {
                out.push((
                    Slot::Operation(api.name.clone(), op.clone()),
                    policy.as_str(),
                ));
            }
        }
        out
    }

    /// The product an API's `products:` entry names: by name, else by display name.
    fn product_named(&self, name: &str) -> String {
        self.products
            .iter()
            .find(|p| p.name == name)
            .or_else(|| {
                self.products
                    .iter()
                    .find(|p| p.display_name.as_deref() == Some(name))
            })
            .map_or_else(|| name.to_owned(), |p| p.name.clone())
    }

    /// Each policy reference resolved to a file (see the module docs), with its slot.
    /// `candidates` are files the caller knows of (absolute); the `*.xml` files below the
    /// root are looked at too. A reference that matches no file is left out.
    pub(crate) fn resolve(&self, candidates: &[PathBuf]) -> Vec<(Slot, PathBuf)> {
        let mut pool: Vec<PathBuf> = candidates
            .iter()
            .filter(|c| c.starts_with(&self.root))
            .cloned()
            .collect();
        pool.extend(xml_files_below(&self.root));
        pool.sort();
        pool.dedup();
        let folder = self.path.parent().unwrap_or(&self.root);
        self.references()
            .into_iter()
            .filter_map(|(slot, reference)| {
                let relative = folder.join(reference.replace('\\', "/"));
                let relative = file_identity(&relative);
                let found = if relative.is_file() && !is_windows_absolute(reference) {
                    Some(relative)
                } else {
                    best_match(reference, &pool)
                };
                found.map(|path| (slot, path))
            })
            .collect()
    }

    /// The scope each resolved file has (the first reference to it decides).
    pub fn scopes(&self, candidates: &[PathBuf]) -> HashMap<PathBuf, Scope> {
        let mut out = HashMap::new();
        for (slot, path) in self.resolve(candidates) {
            out.entry(path).or_insert(match slot {
                Slot::Container => Scope::Global,
                Slot::Api(_) => Scope::Api,
                Slot::Operation(..) => Scope::Operation,
                Slot::Product(_) => Scope::Product,
                Slot::Fragment(_) => Scope::Fragment,
            });
        }
        out
    }

    /// The repo model: the documents handed over (by absolute path) stand for their files,
    /// the other referenced files are read from disk.
    pub fn build(&self, docs: Vec<(PathBuf, Arc<Document>)>) -> Repo {
        let given: HashMap<PathBuf, Arc<Document>> = docs.into_iter().collect();
        let candidates: Vec<PathBuf> = given.keys().cloned().collect();
        let mut builder = RepoBuilder::new(&self.root);
        let mut errors = Vec::new();
        for product in &self.products {
            builder.product(None, &product.name);
        }
        for api in &self.apis {
            builder.api(None, &api.name, None);
            for (op, _) in &api.operations {
                builder.operation(None, &api.name, op);
            }
            for product in &api.products {
                builder.product_api(None, &self.product_named(product), &api.name);
            }
        }
        let mut parsed: BTreeMap<PathBuf, Option<Arc<Document>>> = BTreeMap::new();
        for (slot, path) in self.resolve(&candidates) {
            let doc = parsed
                .entry(path.clone())
                .or_insert_with(|| match given.get(&path) {
                    Some(doc) => Some(Arc::clone(doc)),
                    None => read_policy(&path, &mut errors).map(Arc::new),
                })
                .clone();
            let Some(doc) = doc else { continue };
            let rel = match path.strip_prefix(&self.root) {
                Ok(rel) => crate::paths::slash_path(rel),
                Err(_) => crate::paths::slash_path(&path),
            };
            builder.policy(slot, None, path, rel, doc);
        }
        let mut repo = builder.build();
        repo.errors.extend(errors);
        for (name, props) in &self.named_values {
            repo.named_values.entry(name).apply(props);
        }
        repo
    }
}

fn read_policy(path: &Path, errors: &mut Vec<RepoError>) -> Option<Document> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(source) => {
            errors.push(RepoError::Io {
                path: path.to_path_buf(),
                source,
            });
            return None;
        }
    };
    match syntax::parse_bytes(bytes, &syntax::Limits::default()) {
        Ok(doc) => Some(doc),
        Err(source) => {
            errors.push(RepoError::Syntax {
                path: path.to_path_buf(),
                source,
            });
            None
        }
    }
}

/// `C:\...` or `\\server\...`: a path from the author's Windows machine.
fn is_windows_absolute(reference: &str) -> bool {
    let b = reference.as_bytes();
    (b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && matches!(b[2], b'\\' | b'/'))
        || reference.starts_with("\\\\")
}

/// The components of a reference, `/` or `\` separated, without `.`, `..` or a drive.
fn reference_components(reference: &str) -> Vec<&str> {
    reference
        .split(['/', '\\'])
        .filter(|c| !c.is_empty() && *c != "." && *c != ".." && !c.ends_with(':'))
        .collect()
}

/// The file of `pool` whose trailing components match the most of `reference`'s, the file
/// name at least (compared without regard to ASCII case, as Windows does); the first in
/// path order among equals.
fn best_match(reference: &str, pool: &[PathBuf]) -> Option<PathBuf> {
    let wanted = reference_components(reference);
    let mut best: Option<(usize, &PathBuf)> = None;
    for path in pool {
        let have: Vec<&str> = path
            .components()
            .filter_map(|c| match c {
                std::path::Component::Normal(n) => n.to_str(),
                _ => None,
            })
            .collect();
        let score = wanted
            .iter()
            .rev()
            .zip(have.iter().rev())
            .take_while(|(a, b)| a.eq_ignore_ascii_case(b))
            .count();
        if score > 0 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, path));
        }
    }
    best.map(|(_, path)| path.clone())
}

/// The `*.xml` files below `root`, bounded in depth and count; hidden folders are skipped.
fn xml_files_below(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![(root.to_path_buf(), 0usize)];
    let mut seen = 0usize;
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            seen += 1;
            if seen > MAX_ENTRIES {
                return out;
            }
            let path = entry.path();
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() && !hidden && depth < MAX_DEPTH {
                stack.push((path, depth + 1));
            } else if kind.is_file()
                && path
                    .extension()
                    .is_some_and(|x| x.eq_ignore_ascii_case("xml"))
            {
                out.push(path);
            }
        }
    }
    out
}

/// The creator configurations near a set of policy files: each file's folder, the one above
/// it and their subfolders (`YAMLConfigs/` beside `XMLPolicies/`) are looked at for
/// `*.yml`/`*.yaml` files, each folder and file once. No higher: a loose file in a folder of
/// the home directory must not make apimfix read every folder of the home directory.
pub fn discover(files: &[PathBuf]) -> Vec<CreatorConfig> {
    let mut ancestors: Vec<PathBuf> = Vec::new();
    for file in files {
        for folder in file.ancestors().skip(1).take(2) {
            ancestors.push(folder.to_path_buf());
        }
    }
    ancestors.sort();
    ancestors.dedup();
    let mut yamls: Vec<PathBuf> = Vec::new();
    let mut subfolders: Vec<PathBuf> = Vec::new();
    let mut list = |folder: &Path, subfolders: Option<&mut Vec<PathBuf>>| {
        let Ok(entries) = std::fs::read_dir(folder) else {
            return;
        };
        let mut subfolders = subfolders;
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_file() && is_yaml_name(&path) {
                yamls.push(path);
            } else if kind.is_dir() && !entry.file_name().to_string_lossy().starts_with('.') {
                if let Some(out) = subfolders.as_deref_mut() {
                    out.push(path);
                }
            }
        }
    };
    for folder in &ancestors {
        list(folder, Some(&mut subfolders));
    }
    subfolders.sort();
    subfolders.dedup();
    for folder in subfolders
        .iter()
        .filter(|f| ancestors.binary_search(f).is_err())
    {
        list(folder, None);
    }
    yamls.sort();
    yamls.dedup();
    yamls
        .iter()
        .filter_map(|p| CreatorConfig::read(p))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_components_pick_the_closest_file() {
        let pool = [
            PathBuf::from("/r/a/XMLPolicies/rate.xml"),
            PathBuf::from("/r/b/Other/rate.xml"),
        ];
        let reference = r"C:\Users\me\Creator\ExampleFile\XMLPolicies\rate.xml";
        assert!(is_windows_absolute(reference));
        assert_eq!(best_match(reference, &pool), Some(pool[0].clone()));
        assert_eq!(best_match("./Other/RATE.xml", &pool), Some(pool[1].clone()));
        assert_eq!(best_match("missing.xml", &pool), None);
    }

    #[test]
    fn reads_slots_and_product_links() {
        let text = "apimServiceName: svc\npolicy: ./global.xml\napis:\n  - name: orders\n    policy: ./api.xml\n    products: starter, Gold Tier\n    operations:\n      getOrder:\n        policy: ./op.xml\nproducts:\n  - displayName: Gold Tier\n    name: gold\n    policy: ./gold.xml\n";
        let config = CreatorConfig::parse(Path::new("/k/Input/valid.yml"), text).unwrap();
        assert_eq!(config.root, PathBuf::from("/k"));
        let refs: Vec<String> = config
            .references()
            .iter()
            .map(|(slot, r)| format!("{slot:?} {r}"))
            .collect();
        assert_eq!(
            refs,
            [
                "Container ./global.xml",
                "Product(\"gold\") ./gold.xml",
                "Api(\"orders\") ./api.xml",
                "Operation(\"orders\", \"getOrder\") ./op.xml",
            ]
        );
        assert_eq!(config.product_named("Gold Tier"), "gold");
        let repo = config.build(Vec::new());
        assert!(repo.named_values().is_empty());
        assert_eq!(config.product_named("starter"), "starter");
        assert!(CreatorConfig::parse(Path::new("/k/x.yml"), "name: x\npolicy: a.xml\n").is_none());

        let text = "apimServiceName: svc\npolicy: ./g.xml\nnamedValues:\n  - displayName: origin\n    value: https://a.com\n  - displayname: key\n    value: s3cr3t\n    secret: true\n";
        let config = CreatorConfig::parse(Path::new("/k/Input/valid.yml"), text).unwrap();
        let repo = config.build(Vec::new());
        let values = repo.resolvable_named_values();
        assert_eq!(
            values.get("origin").map(String::as_str),
            Some("https://a.com")
        );
        assert_eq!(values.len(), 1, "the secret is not resolvable: {values:?}");
    }
}

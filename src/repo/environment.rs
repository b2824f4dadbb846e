//! An APIOps environment: the `configuration.<env>.yaml` that the publisher merges when it
//! deploys to that environment (APIOps and apiops-cli read the same layout). Since APIOps
//! v7, an override's `properties.value` replaces a policy's XML there; `namedValues` entries
//! change named values.
//!
//! ```yaml
//! namedValues:
//!   - name: frontend-origin
//!     properties:
//!       value: https://shop.contoso.com
//! policies:                       # the global policy
//!   - name: policy
//!     properties:
//!       value: |
//!         <policies>...</policies>
//! apis:
//!   - name: orders
//!     policies: [ { name: policy, properties: { value: ... } } ]
//!     operations:
//!       - name: get-order
//!         policies: [ ... ]
//! products:
//!   - name: starter
//!     policies: [ ... ]
//! policyFragments:
//!   - name: limits
//!     properties: { value: ... }
//! workspaces:                     # the same sections, inside one workspace
//!   - name: team-a
//!     apis: [ ... ]
//! ```
//!
//! The file is looked for in the artifacts root and the three folders above it (APIOps keeps
//! it at the top of the repository, beside the artifacts folder).
//!
//! An override's text is given as the YAML file's own bytes: a block scalar (`value: |`)
//! keeps its lines where they are in the file, after the file's earlier bytes turned to
//! spaces (line endings kept), so byte offsets, lines and columns in the parsed policy are
//! those of the YAML file. Another scalar is placed on the line of its `value:` key.

use std::path::{Path, PathBuf};

use yaml_serde::Value;

use crate::layout::{Scope, Slot};

use super::RepoError;
use super::named_values::NamedValues;

/// One environment's configuration file, parsed.
#[derive(Debug, Clone)]
pub struct Environment {
    /// The environment's name, as in `configuration.<name>.yaml`.
    pub name: String,
    /// The YAML file.
    pub path: PathBuf,
    policies: Vec<PolicyOverride>,
    /// `namedValues` entries: the name and the `properties`.
    named_values: Vec<(String, serde_json::Value)>,
}

/// A policy that the environment replaces.
#[derive(Debug, Clone)]
pub struct PolicyOverride {
    pub(crate) slot: Slot,
    pub workspace: Option<String>,
    /// Where it applies, e.g. `apis/orders/operations/get-order`, or `policy` for the global
    /// policy.
    pub label: String,
    /// The policy's XML, placed at its lines of the YAML file (see the module docs).
    pub source: String,
}

impl PolicyOverride {
    /// The scope of the policy it replaces.
    pub fn scope(&self) -> Scope {
        match (&self.slot, &self.workspace) {
            (Slot::Container, None) => Scope::Global,
            (Slot::Container, Some(_)) => Scope::Workspace,
            (Slot::Api(_), _) => Scope::Api,
            (Slot::Operation(..), _) => Scope::Operation,
            (Slot::Product(_), _) => Scope::Product,
            (Slot::Fragment(_), _) => Scope::Fragment,
        }
    }

    /// The path the override is known by: the YAML file, then `#` and the label.
    pub fn virtual_path(&self, environment: &Environment) -> PathBuf {
        PathBuf::from(format!("{}#{}", environment.path.display(), self.label))
    }
}

/// `configuration.<name>.yaml` (or `.yml`) in `root` or one of the three folders above it.
pub fn find(root: &Path, name: &str) -> Option<PathBuf> {
    let root = if root.as_os_str().is_empty() {
        Path::new(".")
    } else {
        root
    };
    let root = crate::paths::file_identity(root);
    root.ancestors().take(4).find_map(|dir| {
        ["yaml", "yml"]
            .iter()
            .map(|ext| dir.join(format!("configuration.{name}.{ext}")))
            .find(|p| p.is_file())
    })
}

fn name_of(item: &Value) -> Option<&str> {
    item.get("name").and_then(Value::as_str)
}

fn items<'v>(value: &'v Value, key: &str) -> &'v [Value] {
    match value.get(key) {
        Some(Value::Sequence(items)) => items,
        _ => &[],
    }
}

impl Environment {
    /// Reads the environment `name` from its YAML file at `path`.
    pub fn load(path: &Path, name: &str) -> Result<Environment, RepoError> {
        let text = std::fs::read_to_string(path).map_err(|source| RepoError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Environment::parse(path, name, &text)
    }

    pub fn parse(path: &Path, name: &str, text: &str) -> Result<Environment, RepoError> {
        let value: Value = yaml_serde::from_str(text).map_err(|e| RepoError::Environment {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let mut env = Environment {
            name: name.to_owned(),
            path: path.to_path_buf(),
            policies: Vec::new(),
            named_values: Vec::new(),
        };
        let lines: Vec<&str> = text.lines().collect();
        env.read_sections(&value, None, (text, &lines), &[]);
        for ws in items(&value, "workspaces") {
            if let Some(w) = name_of(ws) {
                env.read_sections(ws, Some(w), (text, &lines), &[("workspaces", w)]);
            }
        }
        for item in items(&value, "namedValues") {
            let (Some(name), Some(props)) = (name_of(item), item.get("properties")) else {
                continue;
            };
            if let Ok(props) = serde_json::to_value(props) {
                env.named_values.push((name.to_owned(), props));
            }
        }
        Ok(env)
    }

    /// The policy overrides of one container (the service, or workspace `ws`).
    fn read_sections<'v>(
        &mut self,
        value: &'v Value,
        ws: Option<&str>,
        (text, lines): (&str, &[&str]),
        prefix: &[(&'v str, &'v str)],
    ) {
        let mut add = |slot: Slot, label: String, path: Vec<(&str, &str)>, holder: &Value| {
            let props = holder.get("properties");
            let Some(xml) = props.and_then(|p| p.get("value")).and_then(Value::as_str) else {
                return;
            };
            let label = match ws {
                Some(w) => format!("workspaces/{w}/{label}"),
                None => label,
            };
            self.policies.push(PolicyOverride {
                slot,
                workspace: ws.map(str::to_owned),
                label,
                source: place(text, lines, &path, xml),
            });
        };
        let with = |more: &[(&'static str, &'v str)]| -> Vec<(&'v str, &'v str)> {
            let mut path: Vec<(&'v str, &'v str)> = prefix.to_vec();
            path.extend_from_slice(more);
            path
        };
        for policy in items(value, "policies") {
            if let Some(p) = name_of(policy) {
                add(
                    Slot::Container,
                    "policy".to_owned(),
                    with(&[("policies", p)]),
                    policy,
                );
            }
        }
        for api in items(value, "apis") {
            let Some(a) = name_of(api) else { continue };
            for policy in items(api, "policies") {
                if let Some(p) = name_of(policy) {
                    add(
                        Slot::Api(a.to_owned()),
                        format!("apis/{a}"),
                        with(&[("apis", a), ("policies", p)]),
                        policy,
                    );
                }
            }
            for op in items(api, "operations") {
                let Some(o) = name_of(op) else { continue };
                for policy in items(op, "policies") {
                    if let Some(p) = name_of(policy) {
                        add(
                            Slot::Operation(a.to_owned(), o.to_owned()),
                            format!("apis/{a}/operations/{o}"),
                            with(&[("apis", a), ("operations", o), ("policies", p)]),
                            policy,
                        );
                    }
                }
            }
        }
        for product in items(value, "products") {
            let Some(p) = name_of(product) else { continue };
            for policy in items(product, "policies") {
                if let Some(name) = name_of(policy) {
                    add(
                        Slot::Product(p.to_owned()),
                        format!("products/{p}"),
                        with(&[("products", p), ("policies", name)]),
                        policy,
                    );
                }
            }
        }
        for fragment in items(value, "policyFragments") {
            if let Some(f) = name_of(fragment) {
                add(
                    Slot::Fragment(f.to_owned()),
                    format!("policyFragments/{f}"),
                    with(&[("policyFragments", f)]),
                    fragment,
                );
            }
        }
    }

    /// The policies the environment replaces.
    pub fn policy_overrides(&self) -> &[PolicyOverride] {
        &self.policies
    }

    /// Applies the environment's `namedValues` entries.
    pub fn apply_named_values(&self, values: &mut NamedValues) {
        for (name, props) in &self.named_values {
            values.entry(name).apply(props);
        }
    }
}

/// `xml` placed at its lines of the YAML file (see the module docs). `path` is the chain of
/// `section` keys and `name:` entries that leads to the override; the `value:` key after the
/// last of them is the one.
fn place(text: &str, lines: &[&str], path: &[(&str, &str)], xml: &str) -> String {
    let Some(value_line) = find_value_line(lines, path) else {
        return xml.to_owned();
    };
    // Byte offsets of the lines, line endings included (`lines` has them stripped).
    let mut starts = vec![0];
    starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    let start = |i: usize| starts.get(i).copied().unwrap_or(text.len());
    // What precedes the policy, as whitespace of the same bytes and line endings: offsets,
    // lines and columns in the policy are those of the YAML file.
    let blank = |upto: usize| -> String {
        text[..upto]
            .bytes()
            .map(|b| {
                if b == b'\n' || b == b'\r' {
                    b as char
                } else {
                    ' '
                }
            })
            .collect()
    };
    let line = lines[value_line];
    let key_indent = line.len() - line.trim_start().len();
    let after = line.trim_start().trim_start_matches("value:").trim();
    if after.starts_with('|') {
        // A literal block: its lines, as written, up to the first line indented no deeper
        // than the key.
        let mut end = value_line + 1;
        for l in &lines[value_line + 1..] {
            let indent = l.len() - l.trim_start().len();
            if !l.trim().is_empty() && indent <= key_indent {
                break;
            }
            end += 1;
        }
        let block = &text[start(value_line + 1)..start(end)];
        // Only when the block is the value, indentation aside.
        let same = block
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .eq(xml.lines().map(str::trim).filter(|l| !l.is_empty()));
        if same {
            let mut out = blank(start(value_line + 1));
            out.push_str(block);
            return out;
        }
    }
    // Another scalar: on the line of its key.
    let mut out = blank(start(value_line));
    out.push_str(&" ".repeat(key_indent));
    out.push_str(xml);
    out
}

/// The index of the `value:` line of the override `path` leads to: each section key nested
/// in the entry found before it (top-level first), each entry in its section, the `value:`
/// key in the last entry.
fn find_value_line(lines: &[&str], path: &[(&str, &str)]) -> Option<usize> {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let blank = |l: &str| l.trim().is_empty() || l.trim_start().starts_with('#');
    // The indentation of the entry (its `-`) the search is inside, and of its keys; `None`
    // at the top.
    let mut parent: Option<usize> = None;
    let mut keys_at = 0;
    let mut at = 0;
    let inside = |l: &str, parent: Option<usize>| match parent {
        None => true,
        Some(p) => blank(l) || indent(l) > p,
    };
    for (section, name) in path {
        let key = format!("{section}:");
        let found = lines[at..]
            .iter()
            .take_while(|l| inside(l, parent))
            .position(|l| l.trim() == key && indent(l) == keys_at)?;
        at += found;
        let section_indent = indent(lines[at]);
        at += 1;
        let found = lines[at..]
            .iter()
            .take_while(|l| {
                blank(l)
                    || indent(l) > section_indent
                    || (indent(l) == section_indent && l.trim_start().starts_with('-'))
            })
            .position(|l| is_name_line(l, name))?;
        at += found;
        let line = lines[at];
        parent = Some(indent(line));
        keys_at = line.find("name:").unwrap_or(indent(line));
        at += 1;
    }
    let found = lines[at..]
        .iter()
        .take_while(|l| inside(l, parent))
        .position(|l| l.trim_start().starts_with("value:"))?;
    Some(at + found)
}

fn is_name_line(line: &str, name: &str) -> bool {
    let t = line.trim_start();
    let t = t.strip_prefix('-').unwrap_or(t).trim_start();
    let Some(v) = t.strip_prefix("name:") else {
        return false;
    };
    let v = v.split(" #").next().unwrap_or(v).trim();
    v.trim_matches(|c| c == '"' || c == '\'') == name
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROD: &str = "\
apimServiceName: apim-prod
namedValues:
  - name: frontend-origin
    properties:
      value: https://shop.contoso.com
apis:
  - name: orders
    properties:
      serviceUrl: https://orders.contoso.com
    policies:
      - name: policy
        properties:
          format: rawxml
          value: |
            <policies>
                <inbound>
                    <base />
                </inbound>
            </policies>
    operations:
      - name: get-order
        policies:
          - name: policy
            properties:
              value: \"<policies><inbound><base /></inbound></policies>\"
policies:
  - name: policy
    properties:
      value: |-
        <policies>
            <inbound />
        </policies>
";

    #[test]
    fn overrides_sit_at_their_lines_of_the_yaml() {
        let env =
            Environment::parse(Path::new("/r/configuration.prod.yaml"), "prod", PROD).unwrap();
        let labels: Vec<(&str, Scope)> = env
            .policy_overrides()
            .iter()
            .map(|o| (o.label.as_str(), o.scope()))
            .collect();
        assert_eq!(
            labels,
            [
                ("policy", Scope::Global),
                ("apis/orders", Scope::Api),
                ("apis/orders/operations/get-order", Scope::Operation),
            ]
        );
        let line_of = |source: &str, needle: &str| {
            source
                .lines()
                .position(|l| l.contains(needle))
                .map(|i| i + 1)
        };
        let yaml_line = |needle: &str, from: usize| {
            PROD.lines()
                .enumerate()
                .skip(from)
                .find(|(_, l)| l.contains(needle))
                .map(|(i, _)| i + 1)
        };
        let api = &env.policy_overrides()[1].source;
        assert_eq!(line_of(api, "<base />"), yaml_line("<base />", 0));
        // The same column too: the block's lines are the file's.
        let api_line = api.lines().find(|l| l.contains("<base />")).unwrap();
        let yaml = PROD.lines().find(|l| l.contains("<base />")).unwrap();
        assert_eq!(api_line, yaml);
        // And the same byte offsets.
        assert_eq!(api.find("<base />"), PROD.find("<base />"));
        let crlf = PROD.replace('\n', "\r\n");
        let env_crlf = Environment::parse(Path::new("/r/c.yaml"), "prod", &crlf).unwrap();
        let api_crlf = &env_crlf.policy_overrides()[1].source;
        assert_eq!(api_crlf.find("<base />"), crlf.find("<base />"));
        assert!(crate::syntax::parse(api_crlf).is_ok());
        let op = &env.policy_overrides()[2].source;
        assert_eq!(
            line_of(op, "<policies>"),
            yaml_line("value: \"<policies>", 0)
        );
        let global = &env.policy_overrides()[0].source;
        assert_eq!(line_of(global, "<inbound />"), yaml_line("<inbound />", 0));
        assert!(crate::syntax::parse(global).is_ok());
        assert_eq!(
            env.virtual_path_of(0),
            PathBuf::from("/r/configuration.prod.yaml#policy")
        );
    }

    impl Environment {
        fn virtual_path_of(&self, i: usize) -> PathBuf {
            self.policies[i].virtual_path(self)
        }
    }

    #[test]
    fn finds_the_file_above_the_artifacts_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo/apim-artifacts");
        std::fs::create_dir_all(&root).unwrap();
        assert_eq!(find(&root, "prod"), None);
        let file = dir.path().join("repo/configuration.prod.yaml");
        std::fs::write(&file, "apimServiceName: x\n").unwrap();
        assert_eq!(
            find(&root, "prod"),
            Some(crate::paths::file_identity(&file))
        );
        assert_eq!(find(&root, "qa"), None);
    }
}

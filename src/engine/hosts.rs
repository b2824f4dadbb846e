//! Policies held in Terraform, Bicep and ARM files ("hosts") in the run.
//!
//! After discovery, each host file is read and scanned ([`crate::host::scan`]); the host itself
//! leaves the inputs and in its place come:
//!
//! - one input per inline policy (a *member*): its text is the decoded literal, its logical
//!   path `<host>#<n>` (the key the repo model and cross-scope findings know it by), its
//!   display path the host's, and its scope the resource's;
//! - the policy files the host loads (`file()`, `templatefile()`, `loadTextContent()`), as
//!   ordinary inputs that take their scope from the loading resource.
//!
//! The inputs of the hosts of one folder (a Terraform module, a Bicep folder) form one unit
//! and one repo model, built from the resources the hosts declare ([`build_repo`]).
//!
//! Results of members are shown in the host: ranges map through [`InlinePolicy::host_offset`],
//! and the source is the host text. Fixed and formatted members are written back into their
//! literals with the host's escaping ([`assemble`]): the host is read again afterwards and
//! must give back exactly the new policy texts, else nothing is written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::diagnostic::Diagnostic;
use crate::fix::{Edit, Fix};
use crate::host::{self, Declared, HostError, HostKind, HostScan, InlinePolicy, Placement};
use crate::layout::{Scope, ScopeSource, Slot};
use crate::paths::{display_path, file_identity};
use crate::repo::{Repo, RepoBuilder};
use crate::syntax::{Document, SyntaxError, SyntaxErrorKind};
use crate::text::TextRange;

use super::FileResult;
use super::error::FileError;
use super::pipeline::{Input, Loaded};

/// An inline policy of a host.
#[derive(Debug)]
pub(crate) struct Member {
    /// The host file as the run names it (written back there).
    pub host: PathBuf,
    pub kind: HostKind,
    /// The host's text when read.
    pub source: Arc<str>,
    /// Which of the host's inline policies.
    pub index: usize,
    pub policy: InlinePolicy,
}

/// Where an input sits in an IaC layout: the resource that places it.
#[derive(Debug)]
pub(crate) struct IacPlace {
    /// The folder whose hosts form its repo model.
    pub root: PathBuf,
    pub placement: Placement,
    /// The host that places it, as the run names it.
    pub host: PathBuf,
    /// `None` for an inline policy; else how the host loads the file.
    pub via: Option<&'static str>,
    /// What the hosts of `root` declare.
    pub declared: Arc<Vec<Declared>>,
    pub member: Option<Member>,
}

impl IacPlace {
    /// The scope the resource gives, and why.
    pub fn scope(&self) -> Option<(Scope, ScopeSource)> {
        (self.placement.scope != Scope::Unknown).then(|| {
            (
                self.placement.scope,
                ScopeSource::Host {
                    host: self.host.clone(),
                    resource: self.placement.resource.clone(),
                    via: self.via,
                },
            )
        })
    }
}

/// A host that could not be read as its kind.
#[derive(Debug)]
pub(crate) struct HostFailure {
    pub source: String,
    pub error: HostError,
}

impl HostFailure {
    pub fn syntax_error(&self) -> SyntaxError {
        let at = self.error.at.min(self.source.len());
        SyntaxError::new(
            SyntaxErrorKind::Host,
            TextRange::empty(at),
            self.error.message.clone(),
        )
    }
}

/// The key of the repo model of an IaC root, apart from an APIOps repo rooted in the same
/// folder.
pub(crate) fn model_key(root: &Path) -> PathBuf {
    root.join("#iac")
}

/// Whether a JSON file is an ARM deployment template that may hold APIM policies (APIOps
/// metadata JSON never is).
fn is_arm_template(text: &str) -> bool {
    text.contains("deploymentTemplate")
        || (text.contains("\"resources\"") && text.contains("Microsoft.ApiManagement"))
}

/// An APIOps metadata file, by name: `apiInformation.json`, `specification.json`, ...
fn is_apiops_metadata(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    name.ends_with("Information.json") || name.starts_with("specification.")
}

/// Whether a host's text names an APIM resource or a policy argument at all.
fn mentions_apim(text: &str) -> bool {
    ["api_management", "ApiManagement", "xml_content", "policy"]
        .iter()
        .any(|word| text.contains(word))
}

/// What reading one host gave.
enum Scanned {
    /// Not a host after all (JSON that is no ARM template), or a kind this build cannot read.
    Skip,
    Failed(Input, HostFailure),
    Read(Input, Arc<str>, HostKind, HostScan),
}

fn read_host(input: Input, limit: usize) -> Scanned {
    let Some(kind) = HostKind::of_path(&input.logical_path) else {
        return Scanned::Skip;
    };
    let Some(path) = input.path.clone() else {
        return Scanned::Skip;
    };
    // APIOps metadata (`apiInformation.json` and the like) is never a template: not read.
    if kind == HostKind::Arm && is_apiops_metadata(&path) {
        return Scanned::Skip;
    }
    let bytes = match crate::read::read_policy_file(&path, limit) {
        Ok(b) => b,
        // A big JSON file is an OpenAPI specification or data far more often than a template:
        // none of apimfix's business.
        Err(_) if kind == HostKind::Arm => return Scanned::Skip,
        Err(e) => {
            let failure = HostFailure {
                source: String::new(),
                error: HostError {
                    at: 0,
                    message: e.to_string(),
                },
            };
            return Scanned::Failed(input, failure);
        }
    };
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let source = super::findings::text_of(e.as_bytes());
            let error = HostError {
                at,
                message: "the file is not UTF-8".into(),
            };
            // Only a host that names an APIM resource is apimfix's to complain about.
            return match kind {
                HostKind::Arm => Scanned::Skip,
                _ if !mentions_apim(&source) => Scanned::Skip,
                _ => Scanned::Failed(input, HostFailure { source, error }),
            };
        }
    };
    if kind == HostKind::Arm && !is_arm_template(&text) {
        return Scanned::Skip;
    }
    let load = |p: &Path| -> Option<String> {
        crate::read::read_policy_file(p, limit)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
    };
    match host::scan(kind, &path, &text, &load) {
        None => Scanned::Skip,
        // A file that names no APIM resource is none of apimfix's business, read or not.
        Some(Err(_)) if !mentions_apim(&text) => Scanned::Skip,
        Some(Err(error)) => Scanned::Failed(
            input,
            HostFailure {
                source: text,
                error,
            },
        ),
        Some(Ok(scan)) => Scanned::Read(input, Arc::from(text), kind, scan),
    }
}

/// The inputs with each host replaced by its inline policies and the files it loads (see the
/// module docs), in display-path order. Hosts that fail to read stay, with their error.
pub(super) fn expand(inputs: Vec<Input>, limit: usize, notes: &mut Vec<super::Note>) -> Vec<Input> {
    let (hosts, mut rest): (Vec<Input>, Vec<Input>) = inputs
        .into_iter()
        .partition(|i| i.path.is_some() && HostKind::of_path(&i.logical_path).is_some());
    if hosts.is_empty() {
        return rest;
    }
    let scanned: Vec<Scanned> = hosts
        .into_par_iter()
        .map(|input| read_host(input, limit))
        .collect();
    // What the hosts of each folder declare.
    let mut declared: BTreeMap<PathBuf, Vec<Declared>> = BTreeMap::new();
    for s in &scanned {
        if let Scanned::Read(input, _, _, scan) = s {
            let of_folder = declared.entry(folder_of(&input.logical_path)).or_default();
            of_folder.extend(scan.declared.iter().cloned());
            // What a host saw but could not read (a computed value, an ARM expression, a
            // linked policy) may run in any chain: the model is then incomplete.
            of_folder.extend(scan.notes.iter().map(|note| Declared::Unread {
                resource: note.message.clone(),
            }));
        }
    }
    let declared_by_folder: BTreeMap<PathBuf, Arc<Vec<Declared>>> = declared
        .into_iter()
        .map(|(k, v)| (k, Arc::new(v)))
        .collect();
    // Literals of module files placed by their callers: (module file, content start) to the
    // caller's folder and names. The first caller wins, as for loaded files.
    let mut by_caller: std::collections::HashMap<(PathBuf, usize), (PathBuf, Placement)> =
        std::collections::HashMap::new();
    for s in &scanned {
        if let Scanned::Read(input, _, _, scan) = s {
            for placed in &scan.placed_in_modules {
                by_caller
                    .entry((placed.host.clone(), placed.content.start))
                    .or_insert_with(|| (folder_of(&input.logical_path), placed.placement.clone()));
            }
        }
    }
    let mut index: std::collections::HashMap<PathBuf, usize> = rest
        .iter()
        .enumerate()
        .map(|(i, input)| (input.logical_path.clone(), i))
        .collect();
    for s in scanned {
        match s {
            Scanned::Skip => {}
            Scanned::Failed(mut input, failure) => {
                input.host_error = Some(Box::new(failure));
                rest.push(input);
            }
            Scanned::Read(input, source, kind, scan) => {
                let lines = crate::text::LineIndex::new(&source);
                for note in &scan.notes {
                    let at = lines.line_column(&source, note.site.start.min(source.len()));
                    notes.push(super::Note::Host {
                        display_path: input.display_path.clone(),
                        line: at.line,
                        column: at.column,
                        message: note.message.clone(),
                    });
                }
                let root = folder_of(&input.logical_path);
                let declared = Arc::clone(&declared_by_folder[&root]);
                let host_path = input.path.clone().expect("hosts are files");
                let host_shown = PathBuf::from(&input.display_path);
                let module_file = crate::paths::normalize(&host_path);
                for (n, policy) in scan.policies.into_iter().enumerate() {
                    // A module's literal belongs to the model of the file that calls it, with
                    // the names the call passes.
                    let (root, placement, declared) =
                        match by_caller.get(&(module_file.clone(), policy.content.start)) {
                            Some((caller_root, placement))
                                if declared_by_folder.contains_key(caller_root) =>
                            {
                                (
                                    caller_root.clone(),
                                    placement.clone(),
                                    Arc::clone(&declared_by_folder[caller_root]),
                                )
                            }
                            _ => (
                                root.clone(),
                                policy.placement.clone(),
                                Arc::clone(&declared),
                            ),
                        };
                    let place = IacPlace {
                        root,
                        placement,
                        host: host_shown.clone(),
                        via: None,
                        declared,
                        member: Some(Member {
                            host: host_path.clone(),
                            kind,
                            source: Arc::clone(&source),
                            index: n,
                            policy,
                        }),
                    };
                    rest.push(Input {
                        display_path: input.display_path.clone(),
                        path: input.path.clone(),
                        logical_path: member_key(&input.logical_path, n),
                        explicit: true,
                        config: input.config.clone(),
                        iac: Some(Arc::new(place)),
                        host_error: None,
                        override_source: None,
                    });
                }
                for reference in scan.references {
                    let logical = file_identity(&reference.path);
                    let place = Arc::new(IacPlace {
                        root: root.clone(),
                        placement: reference.placement,
                        host: host_shown.clone(),
                        via: Some(reference.via),
                        declared: Arc::clone(&declared),
                        member: None,
                    });
                    match index.get(&logical) {
                        // The first host to load a file places it.
                        Some(&i) if rest[i].iac.is_none() => rest[i].iac = Some(place),
                        Some(_) => {}
                        None if reference.path.is_file() => {
                            index.insert(logical.clone(), rest.len());
                            rest.push(Input {
                                display_path: display_path(&reference.path),
                                path: Some(reference.path.clone()),
                                logical_path: logical,
                                explicit: true,
                                config: None,
                                iac: Some(place),
                                host_error: None,
                                override_source: None,
                            });
                        }
                        None => {}
                    }
                }
            }
        }
    }
    // Stable: the members of a host stay in their order.
    rest.par_sort_by(|a, b| a.display_path.cmp(&b.display_path));
    rest
}

fn folder_of(path: &Path) -> PathBuf {
    path.parent().map(Path::to_path_buf).unwrap_or_default()
}

/// The key of a host's `n`th inline policy.
fn member_key(host: &Path, n: usize) -> PathBuf {
    let mut key = host.as_os_str().to_owned();
    key.push(format!("#{n}"));
    PathBuf::from(key)
}

/// A policy of an IaC root as its repo model takes it.
struct Placed<'a> {
    place: &'a IacPlace,
    /// The key the run knows the document by (`<host>#n` for an inline policy).
    key: PathBuf,
    scope: Scope,
    doc: Arc<Document>,
}

/// The repo model of one IaC root: the resources its hosts declare, and each policy at the
/// slot its resource gives.
fn model<'a>(root: &Path, placed: impl IntoIterator<Item = Placed<'a>>) -> Repo {
    let mut builder = RepoBuilder::new(root);
    let mut declared = false;
    for p in placed {
        // Every input of a root carries the same declarations: those of the root's hosts.
        if !declared {
            declare(&mut builder, &p.place.declared);
            declared = true;
        }
        let rel = match &p.place.member {
            Some(_) => format!(
                "{} ({})",
                relative(&p.place.host, root),
                p.place.placement.resource
            ),
            None => relative(&p.key, root),
        };
        place_policy(&mut builder, &p.place.placement, p.scope, p.key, rel, p.doc);
    }
    builder.build()
}

/// The repo model of the inputs of one IaC root, as the run read them.
pub(super) fn build_repo(root: &Path, entries: &[(&Loaded, Arc<Document>)]) -> Repo {
    model(
        root,
        entries.iter().filter_map(|(file, doc)| {
            Some(Placed {
                place: file.input.iac.as_deref()?,
                key: file.input.logical_path.clone(),
                scope: file
                    .outcome
                    .as_ref()
                    .map_or(Scope::Unknown, |parsed| parsed.scope),
                doc: Arc::clone(doc),
            })
        }),
    )
}

/// Puts a policy at the slot its placement gives (nowhere when the placement lacks a name).
fn place_policy(
    builder: &mut RepoBuilder,
    p: &Placement,
    scope: Scope,
    key: PathBuf,
    rel: String,
    doc: Arc<Document>,
) {
    let workspace = p.workspace.as_deref();
    let slot = match (scope, &p.api, &p.operation, &p.product, &p.fragment) {
        (Scope::Global, ..) if workspace.is_none() => Slot::Container,
        (Scope::Workspace, ..) if workspace.is_some() => Slot::Container,
        (Scope::Api, Some(api), ..) => {
            builder.api(workspace, api, None);
            Slot::Api(api.clone())
        }
        (Scope::Operation, Some(api), Some(op), ..) => {
            builder.operation(workspace, api, op);
            Slot::Operation(api.clone(), op.clone())
        }
        (Scope::Product, _, _, Some(product), _) => {
            builder.product(workspace, product);
            Slot::Product(product.clone())
        }
        (Scope::Fragment, .., Some(fragment)) => {
            builder.fragment(workspace, fragment);
            Slot::Fragment(fragment.clone())
        }
        _ => return,
    };
    builder.policy(slot, workspace, key, rel, doc);
}

/// Declares what the hosts declare.
fn declare(builder: &mut RepoBuilder, declared: &[Declared]) {
    for d in declared {
        match d {
            Declared::Api { workspace, api } => builder.api(workspace.as_deref(), api, None),
            Declared::Operation {
                workspace,
                api,
                operation,
            } => builder.operation(workspace.as_deref(), api, operation),
            Declared::Product { workspace, product } => {
                builder.product(workspace.as_deref(), product)
            }
            Declared::ProductApi {
                workspace,
                product,
                api,
            } => builder.product_api(workspace.as_deref(), product, api),
            Declared::Fragment {
                workspace,
                fragment,
            } => builder.fragment(workspace.as_deref(), fragment),
            Declared::Unread { .. } => builder.incomplete(),
        }
    }
}

/// The repo model of the Terraform files of the folder `root` (one module), for
/// `apimfix effective`: `None` when no host there holds or loads a policy. Policies that do
/// not parse are left out.
pub fn iac_repo(root: &Path) -> Option<Repo> {
    // The hosts below `root` (module files in sub-folders place literals in the model of
    // the file that calls them), read as a run reads them.
    let mut hosts = Vec::new();
    hosts_below(root, 0, &mut hosts);
    hosts.sort();
    let inputs = hosts
        .into_iter()
        .map(|path| Input {
            display_path: display_path(&path),
            logical_path: path.clone(),
            path: Some(path),
            explicit: true,
            config: None,
            iac: None,
            host_error: None,
            override_source: None,
        })
        .collect();
    let limit = crate::syntax::Limits::default().max_size;
    let expanded = expand(inputs, limit, &mut Vec::new());
    let mut placed = Vec::new();
    for input in &expanded {
        let Some(place) = input.iac.as_deref().filter(|p| p.root == root) else {
            continue;
        };
        let text = match (&place.member, &input.path) {
            (Some(member), _) => member.policy.text.clone(),
            (None, Some(path)) => match crate::read::read_policy_file(path, limit)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
            {
                Some(text) => text,
                None => continue,
            },
            (None, None) => continue,
        };
        let Ok(doc) = crate::syntax::parse(&text) else {
            continue;
        };
        let scope = match place.placement.scope {
            Scope::Unknown if doc.root_kind() == crate::syntax::RootKind::Fragment => {
                Scope::Fragment
            }
            scope => scope,
        };
        placed.push(Placed {
            place,
            key: input.logical_path.clone(),
            scope,
            doc: Arc::new(doc),
        });
    }
    (!placed.is_empty()).then(|| model(root, placed))
}

/// The host files below `folder`, a few levels deep (module folders), hidden ones left out.
fn hosts_below(folder: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        match entry.file_type() {
            Ok(t) if t.is_dir() && depth < 3 => hosts_below(&path, depth + 1, out),
            Ok(t) if t.is_file() && HostKind::of_path(&path).is_some() => out.push(path),
            _ => {}
        }
    }
}

fn relative(path: &Path, root: &Path) -> String {
    let path = file_identity(path);
    let root = file_identity(root);
    path.strip_prefix(&root)
        .map(display_path)
        .unwrap_or_else(|_| display_path(&path))
}

// ---- showing results in the host ----

/// `range` of a member's text, in the host.
fn host_range(policy: &InlinePolicy, range: TextRange) -> TextRange {
    TextRange::new(
        policy.host_offset(range.start()),
        policy.host_offset(range.end()),
    )
}

/// A diagnostic on a member's text, moved into the host (its fix's edits too, their
/// content written with the host's escaping).
fn host_diagnostic(policy: &InlinePolicy, mut d: Diagnostic) -> Diagnostic {
    d.range = host_range(policy, d.range);
    if let Some(fix) = d.fix.take() {
        let edits: Vec<Edit> = fix
            .edits()
            .iter()
            .map(|e| {
                let content = policy
                    .encode(e.content())
                    .unwrap_or_else(|_| e.content().to_owned());
                Edit::replacement(host_range(policy, crate::text::Ranged::range(e)), content)
            })
            .collect();
        let mut edits = edits.into_iter();
        if let Some(first) = edits.next() {
            d.fix = Some(Fix::new(fix.applicability(), first, edits));
        }
    }
    d
}

/// A member's result as shown: in the host whose text is `source` and whose inline policy
/// is `policy` (the host as read, or as rewritten).
pub(super) fn in_host(
    mut result: FileResult,
    source: &Arc<str>,
    policy: &InlinePolicy,
) -> FileResult {
    result.diagnostics = std::mem::take(&mut result.diagnostics)
        .into_iter()
        .map(|d| host_diagnostic(policy, d))
        .collect();
    if let Some(FileError::Syntax(e)) = &mut result.error {
        e.range = host_range(policy, e.range);
        if let Some((range, _)) = &mut e.related {
            *range = host_range(policy, *range);
        }
    }
    if !result.source.is_empty() || result.error.is_some() {
        // Shared: a host of many policies is held once, not once per policy with findings.
        result.source = Arc::clone(source);
    }
    result
}

/// [`in_host`] for a result of `file` with the host as read; other results pass as they are.
pub(super) fn shown(file: &Loaded, result: FileResult) -> FileResult {
    match file.input.iac.as_ref().and_then(|p| p.member.as_ref()) {
        Some(member) => in_host(result, &member.source, &member.policy),
        None => result,
    }
}

/// The member of `file`, when it is an inline policy.
pub(super) fn member_of(file: &Loaded) -> Option<&Member> {
    file.input.iac.as_ref()?.member.as_ref()
}

// ---- writing back ----

/// A host rewritten with new texts for some of its members.
pub(super) struct Assembled {
    pub host: PathBuf,
    pub old: Arc<str>,
    pub new: String,
    /// The host read again: its inline policies, for showing remaining findings.
    pub policies: Vec<InlinePolicy>,
}

/// The host of `members` (all of one host, `(member, new text)` with `None` for unchanged)
/// with each new text written into its literal. `Err` names why the host cannot be written:
/// an edit inside a placeholder, a text the literal cannot hold, or a host that would not
/// read back to the new texts.
pub(super) fn assemble(members: &[(&Member, Option<&str>)]) -> Result<Assembled, String> {
    // The smallest edits first; when they do not read back (an edit ending inside the indent
    // a `<<-` heredoc strips), whole lines.
    assemble_by(members, false).or_else(|first| assemble_by(members, true).map_err(|_| first))
}

fn assemble_by(
    members: &[(&Member, Option<&str>)],
    whole_lines: bool,
) -> Result<Assembled, String> {
    let first = members.first().ok_or("no member")?.0;
    let old = Arc::clone(&first.source);
    let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    for (member, new) in members {
        let Some(new) = *new else { continue };
        let policy = &member.policy;
        if new == policy.text {
            continue;
        }
        // Characters first (the smallest edits); when those would cut into a placeholder (a
        // move whose text happens to align with one), whole lines: a placeholder line that
        // the fix did not change then stays as it is.
        let by_chars = if whole_lines {
            line_changes(&policy.text, new)
        } else {
            changes(&policy.text, new)
        };
        let found = if by_chars.iter().any(|(o, _)| policy.touches_opaque(o)) {
            line_changes(&policy.text, new)
        } else {
            by_chars
        };
        for (old_bytes, new_bytes) in found {
            if policy.touches_opaque(&old_bytes) {
                return Err(format!(
                    "a change to the policy of `{}` would edit inside a placeholder (`${{...}}`, `%{{...}}`)",
                    policy.placement.resource
                ));
            }
            let mut content = policy.encode(&new[new_bytes]).map_err(|e| {
                format!(
                    "the policy of `{}` cannot hold the change: {e}",
                    policy.placement.resource
                )
            })?;
            // A `<<-` heredoc indented with tabs gets tabs on its new lines too.
            if let crate::host::Literal::TerraformHeredoc {
                strip_indent: true,
                indent,
            } = policy.literal
                && indent > 0
                && let Some(prefix) = indent_of(&old[policy.content.clone()], indent)
                && prefix.bytes().any(|b| b != b' ')
            {
                let spaces = format!("\n{}", " ".repeat(indent));
                content = content.replace(&spaces, &format!("\n{prefix}"));
            }
            let start = policy.host_offset(old_bytes.start);
            // Text put at the very start of a host line (a blank line of a `<<-` heredoc has no
            // indent to stand after) needs the heredoc's indent, or it lowers the indent
            // `<<-` strips from every line.
            if let crate::host::Literal::TerraformHeredoc {
                strip_indent: true,
                indent,
            } = policy.literal
                && indent > 0
                && start > 0
                && old.as_bytes()[start - 1] == b'\n'
                && !content.is_empty()
                && !content.starts_with(['\n', '\r'])
            {
                let prefix = indent_of(&old[policy.content.clone()], indent)
                    .map(str::to_owned)
                    .unwrap_or_else(|| " ".repeat(indent));
                content.insert_str(0, &prefix);
            }
            let end = policy.host_offset(old_bytes.end);
            edits.push((start..end, content));
        }
    }
    edits.sort_by_key(|(r, _)| (r.start, r.end));
    let mut new_host = String::with_capacity(old.len() + 64);
    let mut at = 0;
    for (range, content) in &edits {
        if range.start < at {
            return Err("overlapping edits in the host".into());
        }
        new_host.push_str(&old[at..range.start]);
        new_host.push_str(content);
        at = range.end;
    }
    new_host.push_str(&old[at..]);
    // Read back: the host must give exactly the new texts, and nothing else may change.
    let none = |_: &Path| None;
    let scan = match host::scan(first.kind, &first.host, &new_host, &none) {
        Some(Ok(scan)) => scan,
        Some(Err(e)) => {
            return Err(format!(
                "the rewritten host would not read back ({})",
                e.message
            ));
        }
        None => return Err("no reader for this host".into()),
    };
    let before = match host::scan(first.kind, &first.host, &old, &none) {
        Some(Ok(scan)) => scan.policies.len(),
        _ => usize::MAX,
    };
    if scan.policies.len() != before {
        return Err("the rewritten host holds another number of policies".into());
    }
    for (member, new) in members {
        let expected = new.unwrap_or(member.policy.text.as_str());
        if scan.policies.get(member.index).map(|p| p.text.as_str()) != Some(expected) {
            return Err(format!(
                "the rewritten policy of `{}` would not read back as fixed",
                member.policy.placement.resource
            ));
        }
    }
    Ok(Assembled {
        host: first.host.clone(),
        old,
        new: new_host,
        policies: scan.policies,
    })
}

/// The changes from `old` to `new`: `(range of old, range of new)` in bytes, by a char diff.
/// The changes from `old` to `new` by whole lines, as byte ranges of each.
fn line_changes(old: &str, new: &str) -> Vec<(std::ops::Range<usize>, std::ops::Range<usize>)> {
    let starts = |text: &str| -> Vec<usize> {
        let mut at = vec![0];
        for line in text.split_inclusive('\n') {
            at.push(at.last().copied().unwrap_or(0) + line.len());
        }
        at
    };
    let (old_at, new_at) = (starts(old), starts(new));
    let diff = similar::TextDiff::configure()
        .algorithm(similar::Algorithm::Myers)
        .timeout(std::time::Duration::from_millis(500))
        .diff_lines(old, new);
    diff.ops()
        .iter()
        .filter(|op| !matches!(op, similar::DiffOp::Equal { .. }))
        .map(|op| {
            let (o, n) = (op.old_range(), op.new_range());
            (
                old_at[o.start]..old_at[o.end],
                new_at[n.start]..new_at[n.end],
            )
        })
        .collect()
}

fn changes(old: &str, new: &str) -> Vec<(std::ops::Range<usize>, std::ops::Range<usize>)> {
    let diff = similar::TextDiff::configure()
        .algorithm(similar::Algorithm::Myers)
        .timeout(std::time::Duration::from_millis(500))
        .diff_chars(old, new);
    let mut out = Vec::new();
    for op in diff.ops() {
        let (old_range, new_range) = match *op {
            similar::DiffOp::Equal { .. } => continue,
            similar::DiffOp::Delete {
                old_index, old_len, ..
            } => (old_index..old_index + old_len, 0..0),
            similar::DiffOp::Insert {
                old_index,
                new_index,
                new_len,
            } => (old_index..old_index, new_index..new_index + new_len),
            similar::DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => (
                old_index..old_index + old_len,
                new_index..new_index + new_len,
            ),
        };
        // `diff_chars` counts chars: back to byte offsets.
        out.push((char_range(old, old_range), char_range(new, new_range)));
    }
    out
}

/// The `${...}` and `%{...}` sequences of a Terraform template file (`$${` and `%%{` are
/// escapes, not sequences).
fn template_sequences(text: &str) -> Vec<std::ops::Range<usize>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < b.len() {
        let c = b[i];
        if (c == b'$' || c == b'%') && b.get(i + 1) == Some(&c) && b.get(i + 2) == Some(&b'{') {
            i += 3;
            continue;
        }
        if (c == b'$' || c == b'%') && b[i + 1] == b'{' {
            let start = i;
            let mut depth = 0usize;
            i += 2;
            while i < b.len() {
                match b[i] {
                    b'"' => {
                        i += 1;
                        while i < b.len() && b[i] != b'"' {
                            i += if b[i] == b'\\' { 2 } else { 1 };
                        }
                    }
                    b'{' => depth += 1,
                    b'}' if depth == 0 => break,
                    b'}' => depth -= 1,
                    _ => {}
                }
                i += 1;
            }
            out.push(start..(i + 1).min(b.len()));
        }
        i += 1;
    }
    out
}

/// For a file loaded with `templatefile()`: `Err` when the change from `old` to `new` reaches
/// into a template sequence (`${...}`, `%{...}`), which stays as written.
pub(super) fn template_guard(file: &Loaded, old: &str, new: &str) -> Result<(), String> {
    let Some(place) = &file.input.iac else {
        return Ok(());
    };
    if place.via != Some("templatefile") || old == new {
        return Ok(());
    }
    let sequences = template_sequences(old);
    if sequences.is_empty() {
        return Ok(());
    }
    let touches = |range: &std::ops::Range<usize>| {
        sequences.iter().any(|o| {
            if range.is_empty() {
                o.start < range.start && range.start < o.end
            } else {
                range.start < o.end && o.start < range.end
            }
        })
    };
    match changes(old, new).iter().find(|(r, _)| touches(r)) {
        Some(_) => Err(
            "a change would edit inside a template sequence (`${...}`, `%{...}`) of this \
             templatefile() policy; the file was left as it was"
                .into(),
        ),
        None => Ok(()),
    }
}

/// The first `indent` bytes of the first line of `body` that is not blank: the whitespace a
/// `<<-` heredoc strips.
fn indent_of(body: &str, indent: usize) -> Option<&str> {
    body.lines()
        .find(|l| !l.trim().is_empty())
        .and_then(|l| l.get(..indent))
        .filter(|p| p.bytes().all(|b| b == b' ' || b == b'\t'))
}

/// The byte range of the chars `chars` of `text`.
fn char_range(text: &str, chars: std::ops::Range<usize>) -> std::ops::Range<usize> {
    let mut indices = text.char_indices().map(|(i, _)| i).chain([text.len()]);
    let start = indices.by_ref().nth(chars.start).unwrap_or(text.len());
    if chars.is_empty() {
        return start..start;
    }
    let end = indices
        .nth(chars.end - chars.start - 1)
        .unwrap_or(text.len());
    start..end
}

/// The members of `files` grouped by host, in order: `(host, indices into files)`.
pub(super) fn groups(files: &[Loaded]) -> Vec<(PathBuf, Vec<usize>)> {
    let mut out: Vec<(PathBuf, Vec<usize>)> = Vec::new();
    for (i, file) in files.iter().enumerate() {
        let Some(member) = member_of(file) else {
            continue;
        };
        match out.iter_mut().find(|(host, _)| *host == member.host) {
            Some((_, indices)) => indices.push(i),
            None => out.push((member.host.clone(), vec![i])),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &str = "resource \"azurerm_api_management_api_policy\" \"a\" {\n  api_name = \"a\"\n  xml_content = <<-XML\n    <policies>\n      <inbound>\n        <set-header name=\"h\"><value>${var.h}</value></set-header>\n      </inbound>\n    </policies>\n  XML\n}\n";

    fn member() -> Member {
        let scan = crate::host::terraform::scan(Path::new("main.tf"), HOST, &|_| None).unwrap();
        Member {
            host: PathBuf::from("main.tf"),
            kind: HostKind::Terraform,
            source: Arc::from(HOST),
            index: 0,
            policy: scan.policies.into_iter().next().unwrap(),
        }
    }

    #[test]
    fn a_change_is_written_into_the_heredoc_with_its_indent() {
        let member = member();
        let new = member
            .policy
            .text
            .replace("<inbound>\n", "<inbound>\n  <base />\n");
        let assembled = assemble(&[(&member, Some(new.as_str()))]).unwrap();
        assert_eq!(
            assembled.new,
            HOST.replace("<inbound>\n", "<inbound>\n      <base />\n")
        );
        assert_eq!(assembled.policies[0].text, new);
    }

    #[test]
    fn a_tab_indented_heredoc_gets_tabs_on_new_lines() {
        let host = HOST.replace("\n    ", "\n\t");
        let scan = crate::host::terraform::scan(Path::new("main.tf"), &host, &|_| None).unwrap();
        let member = Member {
            host: PathBuf::from("main.tf"),
            kind: HostKind::Terraform,
            source: Arc::from(host.as_str()),
            index: 0,
            policy: scan.policies.into_iter().next().unwrap(),
        };
        let new = member
            .policy
            .text
            .replace("<policies>\n", "<policies>\n<!-- a -->\n");
        let assembled = assemble(&[(&member, Some(new.as_str()))]).unwrap();
        assert!(
            assembled
                .new
                .contains("\t<policies>\n\t<!-- a -->\n\t  <inbound>"),
            "{}",
            assembled.new
        );
    }

    #[test]
    fn a_change_inside_a_placeholder_is_refused() {
        let member = member();
        let new = member.policy.text.replace("${var.h}", "${var.other}");
        let e = assemble(&[(&member, Some(new.as_str()))])
            .err()
            .expect("refused");
        assert!(e.contains("placeholder"), "{e}");
        // Beside it is fine.
        let new = member.policy.text.replace("${var.h}", "x${var.h}");
        assert!(assemble(&[(&member, Some(new.as_str()))]).is_ok());
    }

    #[test]
    fn template_sequences_skip_escapes_and_nest() {
        let text = r#"a ${x} $${no} %{ if b == "}" }c%{ endif } ${f({k = 1})}"#;
        let found: Vec<&str> = template_sequences(text)
            .into_iter()
            .map(|r| &text[r])
            .collect();
        assert_eq!(
            found,
            ["${x}", r#"%{ if b == "}" }"#, "%{ endif }", "${f({k = 1})}"]
        );
    }

    #[test]
    fn char_ranges_are_byte_ranges() {
        assert_eq!(char_range("aé b", 1..2), 1..3);
        assert_eq!(char_range("aé b", 2..2), 3..3);
        assert_eq!(char_range("aé b", 3..4), 4..5);
        assert_eq!(char_range("ab", 2..2), 2..2);
    }
}
